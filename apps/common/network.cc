#include "apps/common/network.h"

#include "apps/common/stack_network.h"
#include "drivers/tap/tap.h"
#include "ebbs/net/posix/stats.h"
#include "ebbs/net/posix/tcp.h"
#include "ebbs/net/posix/udp.h"

namespace ebb::apps {
namespace {

class PosixNetwork final : public Network {
 public:
  Result<uint16_t> listen(uint16_t port, AcceptHandler on_accept, uint32_t listen_ip) override {
    net::posix::ListenOptions options;
    options.ip = listen_ip;
    Result<net::posix::Listener> l = net::posix::listen(port, on_accept, options).block();
    if (!l) return l.error();
    listeners_.push_back(*l);
    return l->port();
  }
  Status bind_udp(uint16_t port, DatagramHandlerFn handler, uint32_t listen_ip) override {
    Result<net::posix::Listener> l = net::posix::bind_udp(port, handler, listen_ip).block();
    if (!l) return l.error();
    listeners_.push_back(*l);
    return {};
  }
  Future<net::Connection> connect(net::Endpoint peer) override { return net::posix::connect(peer); }
  Future<std::vector<NetCoreCounts>> core_counts() override {
    std::vector<NetCoreCounts> counts(num_cores());
    for (CoreId core = 0; core < counts.size(); ++core) {
      const net::posix::NetStats s = net::posix::net_stats(core);
      NetCoreCounts& c = counts[core];
      c.bytes_in = s.bytes_received;
      c.bytes_out = s.bytes_sent;
      c.connections = s.accepted + s.connected - s.closed;
      c.has_syscalls = true;
      c.syscalls = s.reads + s.writes;
    }
    return make_ready_future(std::move(counts));
  }
  std::string describe() const override { return "Linux sockets"; }

 private:
  std::vector<net::posix::Listener> listeners_;
};

}  // namespace

Result<std::unique_ptr<Network>> Network::Start(const NetworkFlags& flags) {
  if (!flags.stack) return std::unique_ptr<Network>(new PosixNetwork());
  drivers::TapOptions tap_options;
  tap_options.queues = flags.queues;
  Result<drivers::TapDevice> tap = drivers::TapDevice::Open(flags.tap, tap_options);
  if (!tap) return tap.error();
  return StackNetwork<drivers::TapDevice>::Start(std::move(*tap), flags, flags.tap);
}

}  // namespace ebb::apps
