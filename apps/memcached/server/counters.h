#pragma once
// Per-core request counters behind `stats`. Each core bumps its own cache
// lines with bump_counter (runtime/stats.h: no locked instruction); `stats`
// on any core adds them up while the others keep running.

#include <atomic>
#include <cstdint>

#include "runtime/stats.h"

namespace ebb::memcached {

// X(name): every counter, in the order `stats` prints them.
#define EBB_MEMCACHED_COUNTERS(X) \
  X(cmd_get)                      \
  X(cmd_set)                      \
  X(cmd_flush)                    \
  X(cmd_touch)                    \
  X(cmd_meta)                     \
  X(get_hits)                     \
  X(get_misses)                   \
  X(get_expired)                  \
  X(delete_misses)                \
  X(delete_hits)                  \
  X(incr_misses)                  \
  X(incr_hits)                    \
  X(decr_misses)                  \
  X(decr_hits)                    \
  X(cas_misses)                   \
  X(cas_hits)                     \
  X(cas_badval)                   \
  X(touch_hits)                   \
  X(touch_misses)                 \
  X(store_too_large)              \
  X(store_no_memory)              \
  X(bytes_read)                   \
  X(bytes_written)                \
  X(total_connections)            \
  X(rejected_connections)         \
  X(closed_on_error)

struct CounterValues {
#define EBB_MEMCACHED_VALUE(name) uint64_t name = 0;
  EBB_MEMCACHED_COUNTERS(EBB_MEMCACHED_VALUE)
#undef EBB_MEMCACHED_VALUE
  int64_t curr_connections = 0;
};

struct alignas(64) Counters {
#define EBB_MEMCACHED_COUNTER(name) std::atomic<uint64_t> name{0};
  EBB_MEMCACHED_COUNTERS(EBB_MEMCACHED_COUNTER)
#undef EBB_MEMCACHED_COUNTER
  std::atomic<int64_t> curr_connections{0};

  void add_connections(int64_t by) {
    curr_connections.store(curr_connections.load(std::memory_order_relaxed) + by,
                           std::memory_order_relaxed);
  }
  void add_to(CounterValues& sum) const {
#define EBB_MEMCACHED_ADD(name) sum.name += name.load(std::memory_order_relaxed);
    EBB_MEMCACHED_COUNTERS(EBB_MEMCACHED_ADD)
#undef EBB_MEMCACHED_ADD
    sum.curr_connections += curr_connections.load(std::memory_order_relaxed);
  }
};

}  // namespace ebb::memcached
