#pragma once
// Read-copy-update, quiescent-state based.
//
// A core is quiescent between events. Readers take no lock and execute no
// barrier: inside an event they just load an RCU-protected pointer and use it.
// A writer unpublishes the object and hands its reclamation to call_rcu,
// which runs once every core has finished the events that were running when
// it was called (a grace period). A sleeping core is quiescent throughout.
//
// Rule for readers: do not keep an RCU-protected pointer across a blocking
// call (park, Future::block, co_await). A parked event does not hold up grace
// periods, exactly like sleeping inside rcu_read_lock is not allowed in Linux.

#include <atomic>
#include <cstdint>

#include <vector>

#include "runtime/compiler.h"
#include "runtime/core.h"
#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb {

// Runs fn as an event on this core after a grace period. On a core only.
void call_rcu(Function<void()> fn);
// Blocks the calling event until a grace period has passed.
// Errc::kNotOnCore off a core.
Status synchronize_rcu();

namespace rcu::detail {

// Epochs: a batch of callbacks waits for epoch e; every core records the
// epoch it saw at its last quiescent state (`seen`), or kIdle while asleep.
inline constexpr uint64_t kIdle = UINT64_MAX;

struct alignas(kCacheLine) CoreRcu {
  std::atomic<uint64_t> seen{0};  // read by every core
  // This core only:
  alignas(kCacheLine) uint64_t last_epoch = 0;  // a copy of seen, cheap to compare
  bool pending = false;                         // callbacks in next or waiting
  std::vector<Function<void()>> next;
  std::vector<Function<void()>> waiting;
  uint64_t waiting_epoch = 0;
};

inline constinit std::atomic<uint64_t> g_epoch{1};
inline constinit CoreRcu* g_cores[kMaxCores] = {};

// The event loop's hooks.
void start(uint32_t cores);
void stop();  // runs callbacks still waiting (no reader is left)
void quiescent_slow(CoreId core);
void enter_idle(CoreId core);
void exit_idle(CoreId core);
inline bool has_pending(CoreId core) { return g_cores[core]->pending; }

// Called between events on every turn of the loop: a load and a compare
// unless the epoch moved or this core has callbacks waiting.
EBB_ALWAYS_INLINE void quiescent(CoreId core) {
  const CoreRcu& r = *g_cores[core];
  if (EBB_LIKELY(g_epoch.load(std::memory_order_relaxed) == r.last_epoch && !r.pending)) return;
  quiescent_slow(core);
}

}  // namespace rcu::detail

}  // namespace ebb
