#include "runtime/rcu.h"

#include <vector>

#include "runtime/compiler.h"
#include "runtime/fiber.h"
#include "runtime/panic.h"
#include "runtime/platform_heap_scope.h"
#include "runtime/spawn.h"

namespace ebb {
namespace rcu::detail {
namespace {

uint32_t g_cores_started = 0;

bool grace_period_over(uint64_t epoch) {
  for (uint32_t core = 0; core < g_cores_started; ++core)
    if (g_cores[core]->seen.load(std::memory_order_seq_cst) < epoch) return false;
  return true;
}

void report(CoreRcu& r, uint64_t epoch) {
  r.last_epoch = epoch;
  r.seen.store(epoch, std::memory_order_release);
}

// Run as ordinary events, so that a callback may block or spawn freely.
void run_waiting(CoreRcu& r) {
  for (auto& fn : r.waiting) spawn_local(std::move(fn));
  r.waiting.clear();
}

}  // namespace

void start(uint32_t cores) {
  for (uint32_t core = 0; core < cores; ++core) g_cores[core] = new CoreRcu();
  g_cores_started = cores;
}

void stop() {
  // Every core has left its loop: nothing reads any more.
  for (uint32_t core = 0; core < g_cores_started; ++core) {
    CoreRcu* r = g_cores[core];
    for (auto& fn : r->waiting) fn();
    for (auto& fn : r->next) fn();
    delete r;
    g_cores[core] = nullptr;
  }
  g_cores_started = 0;
}

void quiescent_slow(CoreId core) {
  CoreRcu& r = *g_cores[core];
  const uint64_t epoch = g_epoch.load(std::memory_order_acquire);
  if (r.last_epoch != epoch) report(r, epoch);
  if (!r.waiting.empty() && grace_period_over(r.waiting_epoch)) run_waiting(r);
  if (r.waiting.empty() && !r.next.empty()) {
    r.waiting.swap(r.next);
    // Advancing the epoch publishes everything this core did before; cores
    // that see the new epoch at a quiescent state have finished the events
    // that might still hold what the callbacks free.
    r.waiting_epoch = g_epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
    report(r, r.waiting_epoch);  // we are quiescent now
    if (grace_period_over(r.waiting_epoch)) run_waiting(r);
  }
  r.pending = !r.waiting.empty() || !r.next.empty();
}

void enter_idle(CoreId core) { g_cores[core]->seen.exchange(kIdle, std::memory_order_seq_cst); }

void exit_idle(CoreId core) {
  CoreRcu& r = *g_cores[core];
  // An exchange, not a store: a full barrier (xchg on x86), so our next reads
  // cannot move above it, where a writer that saw kIdle could already free.
  r.last_epoch = g_epoch.load(std::memory_order_seq_cst);
  r.seen.exchange(r.last_epoch, std::memory_order_seq_cst);
}

}  // namespace rcu::detail

void call_rcu(Function<void()> fn) {
  const CoreId core = this_core();
  if (EBB_UNLIKELY(core == kNoCore)) panic("call_rcu called off any core");
  rcu::detail::CoreRcu& r = *rcu::detail::g_cores[core];
  {
    PlatformHeapScope core_lifetime;  // the list lives as long as its core
    r.next.push_back(std::move(fn));
  }
  r.pending = true;
}

Status synchronize_rcu() {
  if (!on_core()) return Error(Errc::kNotOnCore, "synchronize_rcu: not on a core");
  EventContext context;
  EventContext* waiter = &context;
  call_rcu([waiter] { unpark(*waiter); });
  park(context);
  return {};
}

}  // namespace ebb
