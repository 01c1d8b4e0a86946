#pragma once
// Helpers for the stack tests that look inside a Simulation: the one TCP
// connection of an engine, and an Intruder, a third host on the wire whose
// hand-made segments reach the states (and the inputs) a well-behaved peer
// never produces.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ebbs/net/stack/tcp/tcp_connection.h"
#include "tests/support/frames.h"
#include "tests/unit/ebbs/net/stack/sim.h"

namespace ebb::net::stack::testing {

// The one connection of an engine's TCP layer (null when none).
inline TcpConnection* only_connection(Engine& e) {
  TcpConnection* found = nullptr;
  e.tcp().for_each([&found](TcpConnection& c) { found = &c; });
  return found;
}

inline TcpState state_of(Engine& e) {
  TcpConnection* c = only_connection(e);
  return c == nullptr ? TcpState::kClosed : c->state();
}

// Hands a hand-made frame to an engine and lets the simulation answer it.
inline void inject(Simulation& sim, Engine& to, std::string_view frame) {
  to.receive(frame_of(frame));
  sim.step();
}

// A third host (198.18.0.9) that talks to engine a; what a sends it is
// caught by a's filter and kept in `sent`, never put on the wire.
class Intruder {
 public:
  static constexpr uint32_t kIp = 0xc6120009;  // 198.18.0.9
  explicit Intruder(Simulation& sim) : sim_(sim), mac_(MacAddress::Local(0x99)) {
    // Teach a our address (an ARP request to it, which it answers).
    sim_.a().receive(frame_of(ethernet(MacAddress::Broadcast(), mac_, eth::kTypeArp,
                                       arp_packet(arp::kRequest, mac_, kIp, MacAddress{}, kIpA))));
    sim_.set_filter(0, [this](IOBuf& f) {
      SentSegment s = parse_tcp_frame(f);
      if (s.valid && s.destination_ip == kIp) {
        sent.push_back(s);
        return false;  // nobody else is meant to see these
      }
      return true;
    });
    sim_.step();
  }
  void send(TcpFields t) {
    sim_.a().receive(
        frame_of(ethernet(sim_.a().mac(), mac_, eth::kTypeIpv4,
                          ipv4({.source = kIp, .destination = kIpA}, tcp_segment(kIp, kIpA, t)))));
    sim_.step();
  }
  MacAddress mac() const { return mac_; }
  std::vector<SentSegment> sent;

 private:
  Simulation& sim_;
  MacAddress mac_;
};

}  // namespace ebb::net::stack::testing
