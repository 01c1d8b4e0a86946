#pragma once
// The counters an app's runtime keeps per core — events, cross-core
// traffic, rep faults, busy and idle time, and the Ebb allocator's work —
// as named lines. ebb-memcached's `stats cores` and the stats endpoint
// (stats_endpoint.h) print the same names.

#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/core.h"

namespace ebb::apps {

struct StatLine {
  const char* name;
  uint64_t value;
};

// `core`'s lines now, read while the cores run (zeros for one that is not
// running).
std::vector<StatLine> core_stat_lines(CoreId core);

// Bytes the calling thread has had from the C library's malloc so far,
// where the allocator can say (hosted on jemalloc: a core's thread is the
// core); natively malloc is the Ebb allocator, counted by core_stat_lines.
std::optional<uint64_t> thread_malloc_bytes();

}  // namespace ebb::apps
