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

std::optional<uint64_t> thread_malloc_bytes() {
  if (mallctl == nullptr) return std::nullopt;
  uint64_t bytes = 0;
  std::size_t length = sizeof bytes;
  if (mallctl("thread.allocated", &bytes, &length, nullptr, 0) != 0) return std::nullopt;
  return bytes;
}

}  // namespace ebb::apps
