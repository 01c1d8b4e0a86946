#include "apps/common/core_stats.h"

#include <cstddef>

#include "ebbs/memory/general/general_allocator.h"
#include "runtime/stats.h"

// jemalloc's control interface, when the process runs on jemalloc (weak:
// null otherwise, as under the sanitizers and natively).
extern "C" int mallctl(const char* name, void* old_value, std::size_t* old_length, void* new_value,
                       std::size_t new_length) __attribute__((weak));

namespace ebb::apps {

std::vector<StatLine> core_stat_lines(CoreId core) {
  const CoreStats s = core_stats(core);
  const mem::SlabStats a = mem::GeneralAllocator::SmallStatsOn(core);
  return {
      {"events", s.events},
      {"remote_events", s.remote_received},
      {"remote_sent", s.remote_sent},
      {"rep_faults", s.rep_faults},
      {"timers_fired", s.timers_fired},
      {"parks", s.parks},
      {"busy_ns", s.busy_ns},
      {"idle_ns", s.idle_ns},
      {"allocations", a.allocations},
      {"frees", a.frees},
      {"remote_frees_sent", a.remote_frees_sent},
      {"remote_frees_received", a.remote_frees_received},
  };
}

std::optional<uint64_t> process_malloc_calls() {
  if (mallctl == nullptr) return std::nullopt;
  // The statistics are a snapshot taken when the epoch advances.
  uint64_t epoch = 1;
  std::size_t length = sizeof epoch;
  if (mallctl("epoch", &epoch, &length, &epoch, sizeof epoch) != 0) return std::nullopt;
  uint64_t total = 0;
  for (const char* name : {"stats.arenas.4096.small.nmalloc", "stats.arenas.4096.large.nmalloc"}) {
    uint64_t n = 0;  // 4096: MALLCTL_ARENAS_ALL, every arena summed
    length = sizeof n;
    if (mallctl(name, &n, &length, nullptr, 0) != 0) return std::nullopt;
    total += n;
  }
  return total;
}

}  // namespace ebb::apps
