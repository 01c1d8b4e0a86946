#include "runtime/rcu.h"

#include <vector>

#include "runtime/compiler.h"
#include "runtime/fiber.h"
#include "runtime/panic.h"
#include "runtime/spawn.h"

namespace ebb {
namespace {

// Epochs: a batch of callbacks waits for epoch e; every core records the
// epoch it saw at its last quiescent state, or kIdle while asleep.
constexpr uint64_t kIdle = UINT64_MAX;

struct alignas(kCacheLine) RcuCore {
  std::atomic<uint64_t> seen{0};  // read by every core
  alignas(kCacheLine) std::vector<Function<void()>> next;  // this core only
  std::vector<Function<void()>> waiting;
  uint64_t waiting_epoch = 0;
};

constinit std::atomic<uint64_t> g_epoch{1};
RcuCore* g_rcu[kMaxCores];
uint32_t g_cores_started = 0;

bool grace_period_over(uint64_t epoch) {
  for (uint32_t core = 0; core < g_cores_started; ++core)
    if (g_rcu[core]->seen.load(std::memory_order_seq_cst) < epoch) return false;
  return true;
}

}  // namespace

void call_rcu(Function<void()> fn) {
  const CoreId core = this_core();
  if (EBB_UNLIKELY(core == kNoCore)) panic("call_rcu called off any core");
  g_rcu[core]->next.push_back(std::move(fn));
}

Status synchronize_rcu() {
  if (!on_core()) return Error(Errc::kNotOnCore, "synchronize_rcu: not on a core");
  EventContext context;
  EventContext* waiter = &context;
  call_rcu([waiter] { unpark(*waiter); });
  park(context);
  return {};
}

namespace rcu::detail {

void start(uint32_t cores) {
  for (uint32_t core = 0; core < cores; ++core) g_rcu[core] = new RcuCore();
  g_cores_started = cores;
}

void stop() {
  // Every core has left its loop: nothing reads any more.
  for (uint32_t core = 0; core < g_cores_started; ++core) {
    RcuCore* r = g_rcu[core];
    for (auto& fn : r->waiting) fn();
    for (auto& fn : r->next) fn();
    delete r;
    g_rcu[core] = nullptr;
  }
  g_cores_started = 0;
}

void quiescent(CoreId core) {
  RcuCore& r = *g_rcu[core];
  const uint64_t epoch = g_epoch.load(std::memory_order_acquire);
  if (r.seen.load(std::memory_order_relaxed) != epoch) r.seen.store(epoch, std::memory_order_release);
  if (EBB_LIKELY(r.waiting.empty() && r.next.empty())) return;

  if (!r.waiting.empty() && grace_period_over(r.waiting_epoch)) {
    // Run as ordinary events, so that a callback may block or spawn freely.
    for (auto& fn : r.waiting) spawn_local(std::move(fn));
    r.waiting.clear();
  }
  if (r.waiting.empty() && !r.next.empty()) {
    r.waiting.swap(r.next);
    // Advancing the epoch publishes everything this core did before; cores
    // that see the new epoch at a quiescent state have finished the events
    // that might still hold what the callbacks free.
    r.waiting_epoch = g_epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
    r.seen.store(r.waiting_epoch, std::memory_order_release);  // we are quiescent now
    if (grace_period_over(r.waiting_epoch)) {
      for (auto& fn : r.waiting) spawn_local(std::move(fn));
      r.waiting.clear();
    }
  }
}

void enter_idle(CoreId core) { g_rcu[core]->seen.exchange(kIdle, std::memory_order_seq_cst); }

void exit_idle(CoreId core) {
  RcuCore& r = *g_rcu[core];
  // An exchange, not a store: a full barrier (xchg on x86), so our next reads
  // cannot move above it, where a writer that saw kIdle could already free.
  r.seen.exchange(g_epoch.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
}

bool has_pending(CoreId core) {
  const RcuCore& r = *g_rcu[core];
  return !r.waiting.empty() || !r.next.empty();
}

}  // namespace rcu::detail
}  // namespace ebb
