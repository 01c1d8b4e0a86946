#pragma once
// ServerClock: memcached's notion of time. Server time counts whole seconds
// from shortly before the start (so 0 can mean "never"); clients give
// expiry times either relative (up to 30 days) or as absolute Unix times,
// and negative ones mean "already expired".

#include <atomic>
#include <cstdint>

#include "apps/memcached/store/item.h"

namespace ebb::memcached {

class ServerClock {
 public:
  // Expiry times above this many seconds are absolute Unix times.
  static constexpr int64_t kMaxRelative = 60 * 60 * 24 * 30;

  ServerClock();

  ServerTime now() const;
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
  uint64_t started_ns_;   // monotonic
  int64_t started_unix_;  // Unix time of server time 0
  std::atomic<uint32_t> skew_{0};
};

}  // namespace ebb::memcached
