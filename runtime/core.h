#pragma once
// Cores: the unit of execution. Hosted, a core is a pinned thread running an
// event loop; native, a CPU. Code on a core touches core-local state without
// locks; everything else reaches a core by spawning an event onto it.

#include <atomic>
#include <cstdint>

namespace ebb {

using CoreId = uint32_t;
inline constexpr CoreId kNoCore = UINT32_MAX;
// Upper bound on cores per node (per-core arrays are sized by it).
inline constexpr uint32_t kMaxCores = 1024;

namespace detail {
inline thread_local constinit CoreId tls_core_id = kNoCore;
inline constinit std::atomic<uint32_t> g_num_cores{0};
}  // namespace detail

// The calling core, or kNoCore on a thread that is not a core (main, helpers).
inline CoreId this_core() { return detail::tls_core_id; }
inline bool on_core() { return detail::tls_core_id != kNoCore; }

// Cores of the running runtime; 0 when none is running.
inline uint32_t num_cores() { return detail::g_num_cores.load(std::memory_order_relaxed); }

}  // namespace ebb
