#pragma once
// Simulation: two stack engines joined by drivers/wire on a ManualClock.
// Time moves only when nothing else can happen, straight to the next frame
// arrival or timer, so a test of minutes of TCP timers runs in milliseconds
// and replays exactly (the wire's seed fixes every loss).
//
// A filter per direction sees each frame before the wire does: tests drop,
// count or rewrite chosen frames with it.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "drivers/wire/wire.h"
#include "ebbs/net/clock.h"
#include "ebbs/net/stack/engine.h"

namespace ebb::net::stack::testing {

inline constexpr uint32_t kIpA = 0xc6120001;  // 198.18.0.1
inline constexpr uint32_t kIpB = 0xc6120002;  // 198.18.0.2

inline StackConfig config_for(uint32_t ip, uint64_t seed) {
  StackConfig c;
  c.interface.ip = ip;
  c.interface.prefix = 24;
  c.seed = seed;
  return c;
}

class Simulation {
 public:
  // Frame filter: false drops the frame (before the wire sees it).
  using Filter = std::function<bool(IOBuf& frame)>;

  explicit Simulation(drivers::WireOptions wire = {}, StackConfig a = config_for(kIpA, 1),
                      StackConfig b = config_for(kIpB, 2))
      : wire_(wire, Clock(&clock_)) {
    engines_[0] = std::make_unique<Engine>(a, wire_.end(0).mac(), wire_.end(0).mtu(), Clock(&clock_));
    engines_[1] = std::make_unique<Engine>(b, wire_.end(1).mac(), wire_.end(1).mtu(), Clock(&clock_));
  }

  Engine& a() { return *engines_[0]; }
  Engine& b() { return *engines_[1]; }
  Engine& engine(int side) { return *engines_[side]; }
  drivers::Wire& wire() { return wire_; }
  ManualClock& clock() { return clock_; }
  void set_filter(int from, Filter f) { filters_[from] = std::move(f); }
  uint64_t frames_sent(int from) const { return sent_[from]; }

  // Frames in, timers, frames out, once for both sides; true if anything moved.
  bool step() {
    bool moved = false;
    for (int side = 0; side < 2; ++side) {
      Engine& e = *engines_[side];
      const std::size_t n = wire_.end(side).receive(0, [&e](IOBuf f) { e.receive(std::move(f)); }, 4096);
      moved |= n > 0;
      const uint64_t deadline = e.next_deadline();
      if (deadline != 0 && deadline <= clock_.now()) {
        e.run_timers();
        moved = true;
      }
      if (e.has_output()) moved = true;
      e.flush([this, side](IOBuf f) {
        if (filters_[side] && !filters_[side](f)) return;
        ++sent_[side];
        (void)wire_.end(side).transmit(0, std::move(f));
      });
    }
    return moved;
  }

  // Runs until done() or until `limit_ns` of simulated time has passed;
  // returns done(). Time jumps to the next event whenever nothing moves.
  template <class Done>
  bool run_until(Done&& done, uint64_t limit_ns = 600'000'000'000) {
    const uint64_t end = clock_.now() + limit_ns;
    uint64_t busy_steps = 0;  // in a row, without time moving
    while (!done()) {
      if (step()) {
        // Frames that answer frames forever, with no timer in between: a livelock.
        if (++busy_steps > 1'000'000) {
          ADD_FAILURE() << "the two stacks exchange frames forever without time moving";
          return false;
        }
        continue;
      }
      busy_steps = 0;
      uint64_t next = 0;
      for (uint64_t d : {engines_[0]->next_deadline(), engines_[1]->next_deadline(),
                         wire_.next_due(0), wire_.next_due(1)})
        if (d != 0 && (next == 0 || d < next)) next = d;
      if (next == 0 || next > end) {
        if (next == 0) clock_.set(end);
        return done();
      }
      if (next > clock_.now()) clock_.set(next);
    }
    return true;
  }
  // Lets `ns` of simulated time pass, with everything it brings.
  void run_for(uint64_t ns) {
    const uint64_t end = clock_.now() + ns;
    run_until([&] { return false; }, ns);
    if (clock_.now() < end) clock_.set(end);
    while (step()) {
    }
  }

 private:
  ManualClock clock_;
  drivers::Wire wire_;
  std::unique_ptr<Engine> engines_[2];
  Filter filters_[2];
  uint64_t sent_[2] = {0, 0};
};

// A connection's events as a test sees them.
struct Peer {
  Connection conn;
  std::string received;
  uint64_t bytes = 0;
  bool ended = false;
  bool closed = false;
  Status why;

  Peer() = default;
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  // The engines may outlive this (and tell its connection's end when they
  // go): the handlers that point here go first.
  ~Peer() { detach(conn); }
  static void detach(Connection& c) {
    if (!c) return;
    c.on_receive({});
    c.on_end({});
    c.on_writable({});
    c.on_close({});
  }

  void attach(Connection c, bool keep_bytes = true) {
    conn = c;
    c.on_receive([this, keep_bytes](IOBuf data) {
      bytes += data.length();
      if (keep_bytes) received += data.to_string();
    });
    c.on_end([this] { ended = true; });
    c.on_close([this](const Status& s) {
      closed = true;
      why = s;
    });
  }
};

// Connects a (client) to b (server, listening on `port`); both sides' Peers
// are filled once established.
inline bool connect_pair(Simulation& sim, Peer& client, Peer& server, uint16_t port = 7000,
                         bool keep_bytes = true) {
  bool accepted = false;
  if (!sim.b().listen(port, [&server, &accepted, keep_bytes](Connection c) {
        server.attach(c, keep_bytes);
        accepted = true;
      }))
    return false;
  bool connected = false;
  sim.a().connect(Endpoint{kIpB, port}).on_result([&](Result<Connection>&& r) {
    if (r.ok()) {
      client.attach(r.value(), keep_bytes);
      connected = true;
    }
  });
  return sim.run_until([&] { return accepted && connected; }, 10'000'000'000);
}

// Byte i of a test stream: position-dependent, so that a lost, repeated or
// misplaced byte shows.
inline uint8_t pattern_byte(uint64_t i) { return static_cast<uint8_t>((i * 2654435761u) >> 13); }

}  // namespace ebb::net::stack::testing
