#pragma once
// ServerClock: memcached's notion of time. Server time counts whole seconds
// from shortly before the start (so 0 can mean "never"); clients give
// expiry times either relative (up to 30 days) or as absolute Unix times,
// and negative ones mean "already expired".

#include <atomic>
#include <cstdint>

#include "apps/memcached/store/item.h"
#include "runtime/result.h"
#include "runtime/timer.h"

namespace ebb::memcached {

class ServerClock {
 public:
  // Expiry times above this many seconds are absolute Unix times.
  static constexpr int64_t kMaxRelative = 60 * 60 * 24 * 30;

  ServerClock();

  // While the clock ticks, now() reads the time of the last tick (as
  // memcached's own clock does: a request then costs no clock read);
  // otherwise it reads the monotonic clock.
  ServerTime now() const {
    const ServerTime ticked = ticked_.load(std::memory_order_relaxed);
    return (ticked != 0 ? ticked : elapsed()) + skew_.load(std::memory_order_relaxed);
  }
  // Ticks every kTickPeriod, by a periodic timer on this core, until
  // stop_ticking (called on the same core). kInvalidArgument if it ticks already.
  Status start_ticking();
  void stop_ticking();
  bool ticking() const { return ticker_ != 0; }
  // One tick: what the timer runs (tests call it directly).
  void tick() {
    ticked_.store(elapsed(), std::memory_order_relaxed);
    ticks_.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t ticks() const { return ticks_.load(std::memory_order_relaxed); }
  static constexpr std::chrono::milliseconds kTickPeriod{100};

  // An exptime from a request as an absolute server time (0: never).
  ServerTime expiry(int64_t exptime) const;
  // Seconds until `exptime` (a server time): -1 for never, 0 if past.
  int64_t seconds_left(ServerTime exptime) const;
  // Unix time of a server time, for stats.
  int64_t unix_time(ServerTime t) const { return started_unix_ + t; }
  int64_t started_unix() const { return started_unix_; }

  // Tests move time forward instead of sleeping.
  void advance(uint32_t seconds) { skew_.fetch_add(seconds, std::memory_order_relaxed); }

 private:
  // Whole seconds since the start, plus the start offset.
  ServerTime elapsed() const;

  uint64_t started_ns_;   // monotonic
  int64_t started_unix_;  // Unix time of server time 0
  std::atomic<uint32_t> skew_{0};
  std::atomic<ServerTime> ticked_{0};  // 0: not ticking
  std::atomic<uint64_t> ticks_{0};
  TimerId ticker_ = 0;
};

}  // namespace ebb::memcached
