#pragma once
// Engine: one core's instance of the own TCP/IP stack — Ethernet, ARP,
// IPv4 (with reassembly), ICMP echo, UDP and TCP — as plain code that takes
// frames in and puts frames out. It knows no device and no event loop:
//
//   engine.receive(std::move(frame));            // a frame for this core
//   engine.run_timers();                         // when next_deadline() comes
//   engine.flush([&](IOBuf f) { device.transmit(q, std::move(f)); });
//
// Stack<Device> (stack.h) drives it from a device and the runtime's timers;
// tests drive two of them over drivers/wire on a ManualClock. Output is a
// queue the driver drains, so the packet path has no indirect call; when
// an app sends from outside the engine's own work (a timer of its own, an
// event), the engine calls the wake-up set with set_wakeup() once so that
// the driver comes to flush.
//
// Every bad frame is dropped and counted (counters()); none changes state
// beyond its own connection, and every queue is bounded.

#include <cstdint>
#include <vector>

#include "ebbs/net/clock.h"
#include "ebbs/net/connection.h"
#include "ebbs/net/datagram.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/mac_address.h"
#include "ebbs/net/stack/arp.h"
#include "ebbs/net/stack/config.h"
#include "ebbs/net/stack/counters.h"
#include "ebbs/net/stack/reassembly.h"
#include "ebbs/net/stack/tcp/tcp_layer.h"
#include "ebbs/net/stack/udp.h"
#include "runtime/function.h"
#include "runtime/future.h"

namespace ebb::net::stack {

class Engine {
 public:
  // `core_index` of `cores`: which flows are this engine's (flow.h).
  Engine(const StackConfig& config, MacAddress mac, uint32_t mtu, Clock clock = {},
         CoreId core_index = 0, uint32_t cores = 1);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- driving it ----
  void receive(IOBuf&& frame);
  void run_timers();
  // The earliest time run_timers() has work; 0 when none.
  uint64_t next_deadline() const;
  // Runs deferred work (app notifications), then hands every queued frame
  // to transmit(IOBuf), until both are empty.
  template <class Transmit>
  void flush(Transmit&& transmit) {
    wakeup_pending_ = false;
    while (!deferred_.empty() || !tx_.empty()) {
      run_deferred();
      for (std::size_t i = 0; i < tx_.size(); ++i) transmit(std::move(tx_[i]));
      tx_.clear();
    }
  }
  bool has_output() const { return !tx_.empty() || !deferred_.empty(); }
  void set_wakeup(Function<void()> wakeup) { wakeup_ = std::move(wakeup); }

  // ---- services (on this engine's core) ----
  Status listen(uint16_t port, Function<void(Connection)> on_accept,
                const ConnectionOptions& options = {}) {
    return tcp_.listen(port, std::move(on_accept), options);
  }
  Future<Connection> connect(Endpoint peer, const ConnectionOptions& options = {},
                             uint16_t local_port = 0) {
    return tcp_.connect(peer, options, local_port);
  }
  Result<DatagramSocket*> bind_udp(uint16_t port, DatagramHandler handler) {
    return udp_.bind(port, std::move(handler));
  }
  // Sends an ICMP echo request (ping); replies are counted in echo_replies().
  Status ping(uint32_t destination, uint16_t id, uint16_t sequence, std::size_t payload_bytes = 56);
  uint64_t echo_replies() const { return echo_replies_; }

  // ---- configuration and state ----
  // New addresses. A new address is announced (RFC 5227 2.3: a gratuitous
  // ARP request from core 0), so that neighbours that asked for it while it
  // was not ours (a DHCP server's probe) learn it now.
  void configure(const InterfaceConfig& interface);
  const InterfaceConfig& interface() const { return config_.interface; }
  const StackConfig& config() const { return config_; }
  MacAddress mac() const { return mac_; }
  uint32_t mtu() const { return mtu_; }
  uint32_t ip() const { return config_.interface.ip; }
  CoreId core_index() const { return core_index_; }
  uint32_t cores() const { return cores_; }
  uint64_t now() const { return clock_.now(); }
  StackCounters& counters() { return counters_; }
  const StackCounters& counters() const { return counters_; }
  ArpTable& arp() { return arp_; }
  TcpLayer& tcp() { return tcp_; }
  UdpLayer& udp() { return udp_; }
  const Reassembler& reassembler() const { return reassembler_; }

  // ---- for the layers ----
  // Sends an IP packet whose first link starts with the transport header.
  // Larger than the MTU: fragmented, unless dont_fragment (then dropped).
  void send_ip(uint32_t destination, uint8_t protocol, IOBuf&& packet, bool dont_fragment = false);
  // Runs fn after the engine's current work (never inside the caller).
  void defer(Function<void()> fn);

 private:
  // Keeps the engine from waking its driver while it works (the driver
  // flushes when the work returns).
  struct Busy {
    explicit Busy(Engine& e) : engine(e) { ++e.busy_; }
    ~Busy() { --engine.busy_; }
    Engine& engine;
  };

  void arp_input(IOBuf&& packet);
  void ip_input(IOBuf&& packet);
  void icmp_input(IOBuf&& packet, uint32_t source, uint32_t destination);
  void send_arp(uint16_t operation, const MacAddress& target_mac, uint32_t target_ip);
  void send_to_next_hop(uint32_t next_hop, IOBuf&& packet);
  void send_fragments(uint32_t destination, uint8_t protocol, IOBuf&& payload);
  void send_packet(uint32_t destination, uint8_t protocol, uint16_t id, uint16_t fragment,
                   IOBuf&& payload);
  void send_frame(const MacAddress& destination, uint16_t type, IOBuf&& payload);
  void run_deferred();
  void wake();
  // counters_.fragment_drops from the reassembler's reasons.
  void count_fragment_drops();

  StackConfig config_;
  const MacAddress mac_;
  const uint32_t mtu_;
  const Clock clock_;
  const CoreId core_index_;
  const uint32_t cores_;
  StackCounters counters_;
  ArpTable arp_;
  Reassembler reassembler_;
  UdpLayer udp_;
  TcpLayer tcp_;
  std::vector<IOBuf> tx_;
  std::vector<Function<void()>> deferred_;
  Function<void()> wakeup_;
  bool wakeup_pending_ = false;
  uint32_t busy_ = 0;
  uint16_t ip_id_ = 0;
  uint64_t echo_replies_ = 0;
  // The last next hop resolved: most packets go where the previous one went.
  uint32_t last_hop_ip_ = 0;
  MacAddress last_hop_mac_;
  uint64_t last_hop_expires_ = 0;
};

}  // namespace ebb::net::stack
