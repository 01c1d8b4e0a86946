#pragma once
// Clock: the time the own stack and the in-memory wire run on. Normally the
// platform's monotonic clock; a test gives a ManualClock instead and moves
// time itself, so that retransmissions, delays and timeouts replay exactly
// and a test never waits for wall-clock time.

#include <atomic>
#include <cstdint>

#include "runtime/platform.h"

namespace ebb::net {

// Time a test sets by hand (nanoseconds; starts at 1 s so that 0 can mean
// "never" in deadlines).
class ManualClock {
 public:
  uint64_t now() const { return now_.load(std::memory_order_relaxed); }
  void advance(uint64_t ns) { now_.store(now() + ns, std::memory_order_relaxed); }
  void set(uint64_t ns) { now_.store(ns, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> now_{1'000'000'000};
};

class Clock {
 public:
  Clock() = default;  // the platform's
  explicit Clock(const ManualClock* manual) : manual_(manual) {}
  uint64_t now() const { return manual_ != nullptr ? manual_->now() : platform::now_ns(); }

 private:
  const ManualClock* manual_ = nullptr;
};

}  // namespace ebb::net
