#include "apps/common/network.h"

#include <cstdio>

#include "drivers/tap/tap.h"
#include "ebbs/net/posix/tcp.h"
#include "ebbs/net/posix/udp.h"
#include "ebbs/net/stack/stack.h"

namespace ebb::apps {
namespace {

std::string ip_text(uint32_t ip) {
  char text[16];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
                ip & 255);
  return text;
}

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
  std::string describe() const override { return "Linux sockets"; }

 private:
  std::vector<net::posix::Listener> listeners_;
};

class StackNetwork final : public Network {
 public:
  using TapStack = net::stack::Stack<drivers::TapDevice>;
  // On core 0, once the address is known (describe() may run anywhere).
  StackNetwork(TapStack* stack, std::string tap)
      : stack_(stack), tap_(std::move(tap)), interface_(stack->engine().interface()) {}

  Result<uint16_t> listen(uint16_t port, AcceptHandler on_accept, uint32_t) override {
    if (port == 0) port = next_port_++;
    Result<void> l = stack_->listen(port, on_accept).block();
    if (!l) return l.error();
    return port;
  }
  Status bind_udp(uint16_t port, DatagramHandlerFn handler, uint32_t) override {
    return stack_->bind_udp(port, handler).block();
  }
  std::string describe() const override {
    const net::stack::InterfaceConfig& i = interface_;
    std::string text = "own stack on " + tap_ + ", " + ip_text(i.ip) + "/" + std::to_string(i.prefix);
    if (i.gateway != 0) text += " via " + ip_text(i.gateway);
    return text;
  }

 private:
  TapStack* stack_;  // runs until the process ends
  std::string tap_;
  net::stack::InterfaceConfig interface_;  // as started (a DHCP renewal may change it later)
  uint16_t next_port_ = 10000;
};

}  // namespace

Result<std::unique_ptr<Network>> Network::Start(const NetworkFlags& flags) {
  if (!flags.stack) return std::unique_ptr<Network>(new PosixNetwork());
  drivers::TapOptions tap_options;
  tap_options.queues = flags.tap_queues;
  Result<drivers::TapDevice> tap = drivers::TapDevice::Open(flags.tap, tap_options);
  if (!tap) return tap.error();
  net::stack::StackConfig config;
  config.interface.ip = flags.ip;
  config.interface.prefix = flags.prefix;
  config.interface.gateway = flags.gateway;
  Result<StackNetwork::TapStack*> stack = StackNetwork::TapStack::Start(std::move(*tap), config).block();
  if (!stack) return stack.error();
  if (flags.dhcp) {
    Result<net::stack::DhcpLease> lease = (*stack)->lease().block();
    if (!lease) return lease.error();
  }
  return std::unique_ptr<Network>(new StackNetwork(*stack, flags.tap));
}

}  // namespace ebb::apps
