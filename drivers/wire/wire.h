#pragma once
// Wire: an in-memory Ethernet cable between two network stacks in one
// process, for tests and benchmarks of the own TCP/IP stack (ebbs/net/stack).
//
// Each end is a NetDevice (ebbs/net/device.h). A transmitted frame is copied
// into a fresh contiguous IOBuf, as a real cable would: the receiver gets a
// writable single-link frame (no headroom) and the sender's chain is released
// at once. On the way the wire can lose, duplicate, delay, jitter and reorder
// frames, with its own deterministic random numbers (WireOptions::seed), so a
// failing test replays exactly. Time is a net::Clock: under a ManualClock a
// delayed frame is only receivable once the test moved time past its due
// time (next_due() says when that is).
//
//   net::ManualClock time;
//   Wire wire({.delay_ns = 10'000}, net::Clock(&time));
//   Stack a(wire.end(0)), b(wire.end(1));   // whatever the stack looks like
//   time.set(wire.next_due(1));             // jump to the next arrival
//
// Queues: both ends have WireOptions::queues queues; a frame sent on queue q
// arrives on the other end's queue q % queue_count(). Each direction is
// guarded by its own SpinLock, so one core may transmit while another
// receives. With no impairment configured a frame takes neither a random
// number, nor a clock read, nor a heap: it is appended to a FIFO.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "ebbs/net/clock.h"
#include "ebbs/net/device.h"
#include "runtime/compiler.h"

namespace ebb::drivers {

namespace detail {
// Frames waiting on one receive queue, kept apart from the lock so that an
// idle poll is a load in receive(), not a call; a line each, as a queue's
// core polls it.
struct alignas(kCacheLine) WireWaiting {
  std::atomic<std::size_t> frames{0};
};
}  // namespace detail

// How the wire treats frames. Probabilities are per frame and independent;
// a duplicate draws its own delay, jitter and reordering.
struct WireOptions {
  uint64_t seed = 1;                   // of the random numbers (each direction has its own stream)
  double loss = 0;                     // probability that a frame vanishes
  double duplicate = 0;                // probability that a frame arrives twice
  double reorder = 0;                  // probability that a frame is held back ...
  uint64_t reorder_delay_ns = 50'000;  // ... this long, so that later frames overtake it
  uint64_t delay_ns = 0;               // one-way latency
  uint64_t jitter_ns = 0;              // extra latency, uniform in [0, jitter_ns], per frame
  uint32_t mtu = 1500;                 // the largest Ethernet payload
  uint32_t queues = 1;                 // per end (fixed at construction)
  std::size_t capacity = 4096;         // frames in flight per direction; beyond: kExhausted
};

// Per direction (frames sent by one end). Always:
//   sent + duplicated == delivered + lost + (frames still in flight)
struct WireCounters {
  uint64_t sent = 0;       // transmits that returned ok (lost ones included)
  uint64_t delivered = 0;  // frames handed to the receiver's sink
  uint64_t lost = 0;
  uint64_t duplicated = 0;    // extra copies put on the wire
  uint64_t reordered = 0;     // frames held back by reorder_delay_ns
  uint64_t dropped_full = 0;  // refused with kExhausted: capacity frames in flight
  uint64_t too_long = 0;      // refused with kInvalidArgument: over mtu + Ethernet header
};

class Wire;

// One end of a Wire: the NetDevice a stack is given. Owned by its Wire.
class WireEnd {
 public:
  WireEnd(const WireEnd&) = delete;
  WireEnd& operator=(const WireEnd&) = delete;

  net::MacAddress mac() const { return mac_; }
  uint32_t mtu() const;
  uint32_t queue_count() const { return queues_; }

  // kInvalidArgument for a frame over mtu() + kEthernetHeaderBytes,
  // kExhausted when capacity frames are in flight towards the other end (or
  // the copy cannot be allocated). A lost frame returns ok, as on a cable.
  Status transmit(uint32_t queue, net::IOBuf frame);

  // Hands up to `max` frames of `queue` whose due time has come to sink(IOBuf),
  // earliest due first (equal due times: in send order). The sink runs with no
  // lock held, so it may transmit on either end. queue < queue_count(), or a
  // panic.
  template <class Sink>
  std::size_t receive(uint32_t queue, Sink&& sink, std::size_t max) {
    std::size_t n = 0;
    net::IOBuf frame;
    while (n < max && (queue >= queues_ || waiting(queue) != 0) && take(queue, frame)) {
      sink(std::move(frame));
      ++n;
    }
    return n;
  }

 private:
  friend class Wire;
  WireEnd() = default;
  std::size_t waiting(uint32_t queue) const {
    return incoming_[queue].frames.load(std::memory_order_relaxed);
  }
  // The next due frame of `queue` into `frame` (which is empty); false if none.
  bool take(uint32_t queue, net::IOBuf& frame);

  Wire* wire_ = nullptr;
  int side_ = 0;
  uint32_t queues_ = 1;
  const detail::WireWaiting* incoming_ = nullptr;  // [queue]
  net::MacAddress mac_;
};

static_assert(net::NetDevice<WireEnd>);

class Wire {
 public:
  // The MAC of end i is net::MacAddress::Local(kMacBase + i), on every Wire.
  static constexpr uint32_t kMacBase = 0x57'1e'00;

  explicit Wire(WireOptions options, net::Clock clock = {});
  ~Wire();
  Wire(const Wire&) = delete;
  Wire& operator=(const Wire&) = delete;

  WireEnd& end(int side) { return ends_[side]; }

  // New impairments, mtu and capacity from now on (frames in flight keep
  // their due times). The random streams go on where they were: `seed` and
  // `queues` are ignored.
  void set_options(const WireOptions& options);

  // Frames sent by end `from` (0 or 1); a consistent snapshot.
  WireCounters counters(int from) const;
  // Frames on the wire in both directions (not yet delivered or dropped).
  std::size_t in_flight() const;
  // The earliest due time of a frame waiting for end `side`, on any queue; 0
  // when nothing waits. A time at or before the clock's now() means a frame
  // is receivable now (a simulation loop sets its ManualClock to it).
  uint64_t next_due(int side) const;

 private:
  friend class WireEnd;
  struct Direction;

  net::Clock clock_;
  std::atomic<uint32_t> mtu_;
  Direction* directions_[2] = {};  // [from]: frames sent by end `from`
  WireEnd ends_[2];
};

inline uint32_t WireEnd::mtu() const {
  return wire_->mtu_.load(std::memory_order_relaxed);
}

}  // namespace ebb::drivers
