#pragma once
// Per-core statistics. Each core counts into its own cache lines with plain
// (relaxed) stores; any thread may read them while the cores run, and no
// reader ever stops a core.

#include <atomic>
#include <cstdint>

#include "runtime/core.h"

namespace ebb {

struct CoreStats {
  uint64_t events = 0;           // events run: local, remote, timers, I/O, resumes
  uint64_t remote_sent = 0;      // events this core queued on other cores
  uint64_t remote_received = 0;  // events other threads queued on this core
  uint64_t rep_faults = 0;       // translation-table misses handled on this core
  uint64_t timers_fired = 0;
  uint64_t parks = 0;            // times an event blocked (parked its fiber)
  uint64_t busy_ns = 0;          // since the core started
  uint64_t idle_ns = 0;          // spinning or asleep with nothing to run

  CoreStats& operator+=(const CoreStats& other);
};

// One core's counters now; zeros for a core that is not running.
CoreStats core_stats(CoreId core);
// The sum over every running core.
CoreStats total_stats();

// Adds to a counter that one core alone writes and any thread may read: a
// load and a store, no locked instruction on the hot path. (n may be a
// negative number cast to uint64_t: the sum wraps back.)
inline void bump_counter(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

namespace detail {

struct alignas(64) CoreCounters {
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> remote_sent{0};
  std::atomic<uint64_t> remote_received{0};
  std::atomic<uint64_t> rep_faults{0};
  std::atomic<uint64_t> timers_fired{0};
  std::atomic<uint64_t> parks{0};
  std::atomic<uint64_t> start_ns{0};
  std::atomic<uint64_t> idle_ns{0};
  std::atomic<uint64_t> idle_since_ns{0};  // 0 while busy
};


// Counts a rep fault on the calling core (called by the Ebb patterns).
void count_rep_fault();

}  // namespace detail
}  // namespace ebb
