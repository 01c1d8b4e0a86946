#include "runtime/event_loop.h"

#include <algorithm>

#include "runtime/fence.h"
#include "runtime/fiber.h"
#include "runtime/future.h"
#include "runtime/idle_handler.h"
#include "runtime/log.h"
#include "runtime/panic.h"
#include "runtime/platform_heap_scope.h"
#include "runtime/platform_switch.h"
#include "runtime/rcu.h"
#include "runtime/timer.h"
#include "runtime/translation_table.h"

namespace ebb {
namespace detail {

bool flush_overflow(CoreState& c);

// EventContext's private parts, for the loop's fiber code below.
struct FiberAccess {
  static platform::Context& context(EventContext& e) { return e.context_; }
  static CoreId core(const EventContext& e) { return e.core_; }
  static bool& parked(EventContext& e) { return e.parked_; }
  static uint64_t& resume_at(EventContext& e) { return e.resume_at_; }
  static EventContext*& next_yielder(EventContext& e) { return e.next_yielder_; }
};

namespace {

// Remote events taken per turn, so that local work and timers keep flowing
// while other cores flood this one.
constexpr uint32_t kRemoteBatch = 64;
// Local events run per turn.
constexpr uint32_t kLocalBatch = 256;
// How often a core with RCU callbacks waiting looks again while asleep.
constexpr uint64_t kRcuRecheckNs = 1'000'000;
// How often a core with events waiting for room in a channel looks again.
constexpr uint64_t kOverflowRecheckNs = 50'000;
// A spinning core with watched fds asks epoll every (mask + 1) spins.
constexpr unsigned kIoPollMask = 127;

inline void cpu_relax() { __builtin_ia32_pause(); }

platform::Stack* acquire_stack(CoreState& c) {
  if (!c.free_stacks.empty()) {
    platform::Stack* s = c.free_stacks.back();
    c.free_stacks.pop_back();
    return s;
  }
  platform::Stack* s = platform::stack_create(c.config.stack_bytes);
  EBB_CHECK(s != nullptr, "core %u: out of memory for a %zu-byte fiber stack", c.id,
            c.config.stack_bytes);
  PlatformHeapScope core_lifetime;
  c.all_stacks.push_back(s);
  return s;
}

void release_stack(CoreState& c, platform::Stack* s) {
  if (s == nullptr) return;
  if (c.free_stacks.size() == c.free_stacks.capacity()) {
    // The pool's memory lives as long as the core: from the platform heap
    // (only when it grows; the TLS stores cost on every parked fiber).
    PlatformHeapScope core_lifetime;
    c.free_stacks.push_back(s);
    return;
  }
  c.free_stacks.push_back(s);
}

[[noreturn]] void run_loop(CoreState& c);

void loop_entry(void* arg, platform::Stack* released) {
  CoreState& c = *static_cast<CoreState*>(arg);
  release_stack(c, released);
  run_loop(c);
}

// f(channel) for every channel into this core.
template <class F>
EBB_ALWAYS_INLINE void for_each_inbound(const CoreState& c, F&& f) {
  const uint32_t words = (c.cores + 63) / 64;
  for (uint32_t w = 0; w < words; ++w) {
    uint64_t bits = c.inbound_senders[w].load(std::memory_order_acquire);
    while (bits != 0) {
      const uint32_t sender = w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
      bits &= bits - 1;
      if (f(*c.inbound[sender].load(std::memory_order_acquire))) return;
    }
  }
}

bool has_inbound(const CoreState& c) {
  bool found = false;
  for_each_inbound(c, [&found](const CoreChannel& ch) { return found = ch.has_item(); });
  return found;
}

bool has_work(const CoreState& c) {
  return !c.local.empty() || c.yielders != nullptr || c.external.might_have_work() ||
         has_inbound(c);
}

// Continues a parked event from the loop body itself. The loop is kept as a
// spare, suspended right here: when a later park() continues it, it goes on
// with its turn, and no frame has to return across the switch (see
// runtime/platform_switch.h for why that matters).
EBB_ALWAYS_INLINE void resume_parked(CoreState& c, EventContext* parked) {
  bool& is_parked = FiberAccess::parked(*parked);
  if (EBB_UNLIKELY(!is_parked))
    panic("unpark called twice for one park (or for an event that is not parked)");
  is_parked = false;
  --c.parked_now;
  platform::Stack* mine = c.current_stack;
  const platform::Context target = FiberAccess::context(*parked);
  c.current_stack = target.stack;
  if (EBB_LIKELY(c.spare_count < CoreState::kMaxSpareLoops)) {
    platform::Context& spare = c.spare_loops[c.spare_count++];
    spare.stack = mine;
    release_stack(c, platform::switch_to(&spare, target, nullptr));
  } else {
    platform::switch_to(nullptr, target, mine);  // the target releases this stack
    __builtin_unreachable();
  }
}

// The event that unpark() queues. The loop recognises it (run_event) and
// switches to the parked event from its own body, not from inside a call.
struct ResumeEvent {
  EventContext* context;
  [[noreturn]] void operator()() const { panic("a resume event was run outside the loop"); }
};

Event resume_event(EventContext* context) { return ResumeEvent{context}; }

EBB_ALWAYS_INLINE void run_event(CoreState& c, Event& event) {
  bump_counter(c.counters.events);
  if (event.holds<ResumeEvent>()) resume_parked(c, event.get<ResumeEvent>().context);
  else event();
}

}  // namespace

ParkPlan prepare_park(EventContext& context, bool yielding) {
  CoreState& c = current_core(yielding ? "yield" : "park");
  EBB_CHECK(!c.in_idle_handler, "core %u: park inside an idle handler (idle handlers must not block)",
            c.id);
  EBB_CHECK(FiberAccess::core(context) == c.id,
            "park: the EventContext was made on core %u but parks on core %u",
            FiberAccess::core(context), c.id);
  if (yielding) {
    // No event to queue: the loop resumes it once it has run the
    // events queued so far (run_local).
    FiberAccess::resume_at(context) = c.local.pushed();
    FiberAccess::next_yielder(context) = nullptr;
    *c.yielders_tail = &context;
    c.yielders_tail = &FiberAccess::next_yielder(context);
  }
  bump_counter(c.counters.parks);
  ++c.parked_now;
  ParkPlan plan;
  if (EBB_LIKELY(c.spare_count != 0)) {
    plan.next = c.spare_loops[--c.spare_count];
  } else {
    plan.next = platform::make_context(acquire_stack(c), &loop_entry, &c);
  }
  FiberAccess::parked(context) = true;
  plan.save = &FiberAccess::context(context);
  plan.save->stack = c.current_stack;
  c.current_stack = plan.next.stack;
  return plan;
}

void finish_park(platform::Stack* released) { release_stack(*tls_core, released); }

namespace {

// Release pairs with the acquire in drained(): a count seen there implies
// the sender's count is visible too.
EBB_ALWAYS_INLINE void count_received(CoreState& c) {
  c.counters.remote_received.store(c.counters.remote_received.load(std::memory_order_relaxed) + 1,
                                   std::memory_order_release);
}

bool run_remote(CoreState& c) {
  uint32_t n = 0;
  for_each_inbound(c, [&c, &n](CoreChannel& ch) {
    uint32_t taken = 0;
    while (n < kRemoteBatch && ch.has_item()) {
      Event event = ch.pop();
      ++taken;
      ++n;
      count_received(c);
      run_event(c, event);
    }
    if (taken != 0) ch.publish_progress();
    return n >= kRemoteBatch;
  });
  while (n < kRemoteBatch) {
    RemoteLink* link = c.external.pop();
    if (link == nullptr) break;
    auto* node = static_cast<RemoteEvent*>(link);
    Event event = std::move(node->event);
    delete node;
    ++n;
    count_received(c);
    run_event(c, event);
  }
  return n != 0;
}

bool run_timers(CoreState& c) {
  if (c.timers.empty()) return false;
  const uint64_t now = platform::now_ns();
  if (c.timers.next_deadline() > now) return false;
  CoreState* core = &c;
  c.timers.expire(now, [core](uint64_t id) {
    core->local.push([core, id] {
      if (core->timers.run(id)) bump_counter(core->counters.timers_fired);
    });
  });
  return true;
}

bool run_local(CoreState& c) {
  // Events queued meanwhile run in the same batch (a resume right after a
  // park needs no full turn), but at most kLocalBatch, so that remote events,
  // timers and I/O are not starved by events that keep queueing more.
  uint32_t n = 0;
  for (; n < kLocalBatch; ++n) {
    EventContext* yielder = c.yielders;
    if (yielder != nullptr && c.local.popped() >= FiberAccess::resume_at(*yielder)) {
      c.yielders = FiberAccess::next_yielder(*yielder);
      if (c.yielders == nullptr) c.yielders_tail = &c.yielders;
      bump_counter(c.counters.events);
      resume_parked(c, yielder);
      continue;
    }
    if (c.local.empty()) break;
    Event event = c.local.pop();
    run_event(c, event);
  }
  return n != 0;
}

// Calls call(entry) for every idle handler, true when any returned true.
// A handler may add handlers (a deque keeps every entry in place; new ones
// run this turn) or remove any (marked now, erased after the turn).
template <class Call>
bool each_idle_handler(CoreState& c, Call call) {
  bool any = false;
  c.in_idle_handler = true;
  for (std::size_t i = 0; i < c.idle_handlers.size(); ++i) {
    IdleHandlerEntry& e = c.idle_handlers[i];
    if (!e.removed && call(e)) any = true;
  }
  c.in_idle_handler = false;
  std::erase_if(c.idle_handlers, [](const IdleHandlerEntry& e) { return e.removed; });
  return any;
}

bool run_idle_handlers(CoreState& c) {
  if (c.idle_handlers.empty()) return false;
  return each_idle_handler(c, [](IdleHandlerEntry& e) { return e.handler(); });
}

// Before the core sleeps: every handler's arm hook (runtime/idle_handler.h).
// True when it must not sleep: a hook saw work waiting, or a handler without
// a hook is there (a hook may have added one).
bool arm_idle_handlers(CoreState& c) {
  const bool work = each_idle_handler(c, [](IdleHandlerEntry& e) { return e.arm && e.arm(); });
  return work || c.unarmed_idle_handlers != 0;
}

void idle(CoreState& c) {
  const Phase phase = g_phase.load(std::memory_order_acquire);
  const bool draining = phase >= Phase::kDraining;
  // Idle handlers run only while the runtime runs; while it drains the core
  // sleeps as one without them.
  const bool polling = !draining && !c.idle_handlers.empty();
  // A poller without an arm hook keeps the core busy: nothing would wake it.
  if (polling && c.unarmed_idle_handlers != 0) return;

  const uint64_t start = platform::now_ns();
  c.counters.idle_since_ns.store(start, std::memory_order_relaxed);
  uint64_t deadline = draining ? TimerHeap::kNever : c.timers.next_deadline();
  // RCU callbacks wait for other cores, and an overflow for room in a
  // channel: look again soon rather than sleep until woken.
  const bool rcu_waiting = rcu::detail::has_pending(c.id);
  if (rcu_waiting) deadline = std::min(deadline, start + kRcuRecheckNs);
  const bool overflowing = !c.overflowing.empty();
  if (overflowing) deadline = std::min(deadline, start + kOverflowRecheckNs);

  uint64_t now = start;
  bool found_work = false;
  // Spinning on a CPU that other threads wait for takes it from them (and
  // from this core's own work, which they hold up in turn): sleep instead.
  if (!draining && c.config.idle_spin_ns != 0 && !platform::cpu_contended(c.id, start)) {
    const uint64_t spin_end = std::min(start + c.config.idle_spin_ns, deadline);
    for (unsigned i = 1;; ++i) {
      // The pollers too (every handler has an arm hook here): work that
      // arrives while the core spins is taken at polling speed.
      if (has_work(c) || (polling && run_idle_handlers(c))) {
        found_work = true;
        break;
      }
      if ((i & 31) == 0) {
        // I/O becomes ready without any store the spin could see: ask
        // epoll now and then (a system call, so not every time round).
        if ((i & kIoPollMask) == 0 && c.io_watches != 0 && platform::poll_io(c.id)) {
          found_work = true;
          break;
        }
        now = platform::now_ns();
        if (now >= spin_end) break;
      }
      cpu_relax();
    }
  }

  if (!found_work && now < deadline) {
    if (draining && !rcu_waiting && !overflowing) c.quiet.store(true, std::memory_order_seq_cst);
    // Dekker with the senders, all seq_cst: a sender publishes its event,
    // then reads `sleeping`; we set `sleeping`, then look for events. Either
    // it sees us asleep and wakes us, or we see its event here.
    c.sleeping.store(true, std::memory_order_seq_cst);
    // The same with the devices: arm hooks look for work after `sleeping`
    // is set (the fence orders the store before their loads, whatever
    // order they use), and wake_core_for_device looks at `sleeping` after
    // its caller made the work visible. Natively the device's interrupt
    // needs neither: raised after arm(), it ends the hlt below even when
    // it comes before the sti (runtime/native/cores.cc, wait_for_work).
    bool armed_work = false;
    if (polling) {
      full_fence();
      armed_work = arm_idle_handlers(c);
    }
    if (!armed_work && !has_work(c) && g_phase.load(std::memory_order_acquire) == phase) {
      rcu::detail::enter_idle(c.id);
      platform::wait_for_work(c.id, deadline);
      rcu::detail::exit_idle(c.id);
    }
    c.sleeping.store(false, std::memory_order_relaxed);
    c.quiet.store(false, std::memory_order_seq_cst);
    now = platform::now_ns();
  }
  bump_counter(c.counters.idle_ns, now - start);
  c.counters.idle_since_ns.store(0, std::memory_order_relaxed);
}

[[noreturn]] void exit_loop(CoreState& c) {
  // Back to the thread that entered run_core; it takes this stack back.
  platform::switch_to(nullptr, c.thread_context, c.current_stack);
  panic("core %u: a loop that exited was resumed", c.id);
}

[[noreturn]] void run_loop(CoreState& c) {
  for (;;) {
    const Phase phase = g_phase.load(std::memory_order_relaxed);
    if (EBB_UNLIKELY(phase == Phase::kExiting)) exit_loop(c);
    const bool running = phase == Phase::kRunning;
    bool worked = false;
    if (EBB_UNLIKELY(!c.overflowing.empty())) worked = flush_overflow(c);
    worked |= run_remote(c);
    if (running) worked |= run_timers(c);
    worked |= run_local(c);
    if (running) {
      if (c.io_watches != 0) worked |= platform::poll_io(c.id);
      worked |= run_idle_handlers(c);
    }
    rcu::detail::quiescent(c.id);
    if (!worked) idle(c);
    // Every round, busy or not: a core with idle handlers without arm hooks
    // never sleeps. (A sleeping core 0 gives the owner its turn in
    // platform::wait_for_work.)
    platform::share_turn(c.id);
  }
}

// After an event became visible to `target`: wake it if it sleeps.
EBB_ALWAYS_INLINE void notify(CoreState& target) {
  if (target.sleeping.load(std::memory_order_seq_cst) &&
      target.sleeping.exchange(false, std::memory_order_acq_rel)) {
    platform::wake_core(target.id);
  }
}

EBB_NOINLINE CoreChannel& open_channel(CoreState& sender, CoreState& target) {
  auto* channel = [] {
    PlatformHeapScope core_lifetime;  // lives as long as the cores
    return new CoreChannel();
  }();
  target.inbound[sender.id].store(channel, std::memory_order_release);
  target.inbound_senders[sender.id / 64].fetch_or(uint64_t{1} << (sender.id % 64),
                                                  std::memory_order_release);
  sender.outbound[target.id] = channel;
  return *channel;
}

EBB_NOINLINE void spill(CoreState& sender, CoreId target, Event&& fn) {
  PlatformHeapScope core_lifetime;
  RingQueue<Event>*& pending = sender.overflow[target];
  if (pending == nullptr) pending = new RingQueue<Event>();
  if (pending->empty()) sender.overflowing.push_back(target);
  pending->push(std::move(fn));
}

void send_between_cores(CoreState& sender, CoreState& target, Event&& fn, bool wake = true) {
  sender.counters.remote_sent.store(
      sender.counters.remote_sent.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  CoreChannel* channel = sender.outbound[target.id];
  if (EBB_UNLIKELY(channel == nullptr)) channel = &open_channel(sender, target);
  const RingQueue<Event>* pending = sender.overflow[target.id];
  // Behind events already waiting for room, or into a full ring: wait too.
  if (EBB_UNLIKELY((pending != nullptr && !pending->empty()) || !channel->try_push(fn))) {
    spill(sender, target.id, std::move(fn));
    return;
  }
  // While draining, every event must get its turn (shutdown waits for it).
  if (wake || g_phase.load(std::memory_order_relaxed) != Phase::kRunning) notify(target);
}

void send_from_outside(CoreState& target, Event&& fn) {
  g_external_sent.fetch_add(1, std::memory_order_acq_rel);
  target.external.push(new RemoteEvent(std::move(fn)));  // a seq_cst exchange
  notify(target);
}

}  // namespace

// Moves waiting events into their channels as room appears; true if any moved.
bool flush_overflow(CoreState& c) {
  bool moved = false;
  for (std::size_t i = 0; i < c.overflowing.size();) {
    const CoreId target = c.overflowing[i];
    RingQueue<Event>& pending = *c.overflow[target];
    CoreChannel& channel = *c.outbound[target];
    bool pushed = false;
    while (!pending.empty() && channel.try_push(pending.front())) {
      pending.drop_front();
      pushed = true;
    }
    if (pushed) notify(*g_cores[target]);
    moved |= pushed;
    if (pending.empty()) {
      c.overflowing[i] = c.overflowing.back();
      c.overflowing.pop_back();
    } else {
      ++i;
    }
  }
  return moved;
}

namespace {

void wake_all() {
  const uint32_t cores = num_cores();
  for (CoreId core = 0; core < cores; ++core) {
    g_cores[core]->sleeping.store(false, std::memory_order_relaxed);
    platform::wake_core(core);
  }
}

}  // namespace

CoreState::CoreState(CoreId core, uint32_t core_count, const LoopConfig& loop_config)
    : inbound(new std::atomic<CoreChannel*>[core_count]),
      id(core),
      cores(core_count),
      config(loop_config),
      outbound(new CoreChannel*[core_count]()),
      overflow(new RingQueue<Event>*[core_count]()) {
  for (uint32_t i = 0; i < core_count; ++i) inbound[i].store(nullptr, std::memory_order_relaxed);
}

CoreState::~CoreState() {
  while (RemoteLink* link = external.pop()) delete static_cast<RemoteEvent*>(link);
  for (uint32_t i = 0; i < cores; ++i) {
    delete inbound[i].load(std::memory_order_relaxed);  // events still inside die with it
    delete overflow[i];
  }
  delete[] inbound;
  delete[] outbound;
  delete[] overflow;
  for (platform::Stack* s : all_stacks) platform::stack_destroy(s);
}

CoreState& current_core(const char* what) {
  CoreState* c = tls_core;
  if (EBB_UNLIKELY(c == nullptr))
    panic("%s called off any core (on a thread that is not one of the runtime's cores)", what);
  return *c;
}

namespace {
constexpr int kMaxStartHooks = 8;
std::atomic<void (*)()> g_start_hooks[kMaxStartHooks];
// Cores that have not finished their start hooks yet.
std::atomic<uint32_t> g_cores_starting{0};
std::atomic<uint32_t> g_cores_started{0};  // 1 once every core has run its hooks

// A core's first event: its start hooks, in order (one may park, waiting for
// another core to build an Ebb's root; the rest wait their turn).
void run_start_hooks() {
  for (auto& hook : g_start_hooks) {
    if (void (*fn)() = hook.load(std::memory_order_acquire)) fn();
  }
  if (g_cores_starting.fetch_sub(1, std::memory_order_acq_rel) == 1) wake_waiter(g_cores_started);
}
}  // namespace

void create_cores(uint32_t cores, const LoopConfig& config) {
  EBB_CHECK(cores >= 1 && cores <= kMaxCores, "runtime: %u cores asked for; 1 to %u are possible",
            cores, kMaxCores);
  EBB_CHECK(g_phase.load() == Phase::kStopped, "runtime: cores created while a runtime runs");
  for (CoreId core = 0; core < cores; ++core) g_cores[core] = new CoreState(core, cores, config);
  rcu::detail::start(cores);
  g_external_sent.store(0);
  g_cores_starting.store(cores, std::memory_order_relaxed);
  g_cores_started.store(0, std::memory_order_relaxed);
  g_num_cores.store(cores, std::memory_order_release);
  g_phase.store(Phase::kRunning, std::memory_order_release);
}

void wait_for_core_starts() { wait_while_zero(g_cores_started); }

void run_core(CoreId core) {
  CoreState& c = *g_cores[core];
  tls_core_id = core;
  tls_core = &c;
  translation::detail::attach_core_table(core);
  c.counters.start_ns.store(platform::now_ns(), std::memory_order_relaxed);
  c.local.push(Event(&run_start_hooks));

  platform::Stack* stack = acquire_stack(c);
  c.current_stack = stack;
  const platform::Context loop = platform::make_context(stack, &loop_entry, &c);
  release_stack(c, platform::switch_to(&c.thread_context, loop, nullptr));

  // The loop has exited (exit_loop); we are on the thread's own stack again.
  if (c.parked_now != 0) {
    log_warn("core %u: %llu blocked event(s) never resumed before shutdown; dropped", core,
             static_cast<unsigned long long>(c.parked_now));
  }
  translation::detail::detach_core_table(core);
  tls_core = nullptr;
  tls_core_id = kNoCore;
}

void begin_drain() {
  g_phase.store(Phase::kDraining, std::memory_order_seq_cst);
  wake_all();
}

bool drained() {
  const uint32_t cores = num_cores();
  auto all_quiet = [cores] {
    for (CoreId core = 0; core < cores; ++core)
      if (!g_cores[core]->quiet.load(std::memory_order_seq_cst)) return false;
    return true;
  };
  auto events = [cores] {
    uint64_t sum = 0;
    for (CoreId core = 0; core < cores; ++core)
      sum += g_cores[core]->counters.events.load(std::memory_order_acquire);
    return sum;
  };
  if (!all_quiet()) return false;
  const uint64_t events_before = events();
  // Received before sent: see run_remote.
  uint64_t received = 0;
  uint64_t sent = g_external_sent.load(std::memory_order_acquire);
  for (CoreId core = 0; core < cores; ++core)
    received += g_cores[core]->counters.remote_received.load(std::memory_order_acquire);
  for (CoreId core = 0; core < cores; ++core)
    sent += g_cores[core]->counters.remote_sent.load(std::memory_order_acquire);
  if (sent != received) return false;
  return all_quiet() && events() == events_before;
}

void request_exit() {
  g_phase.store(Phase::kExiting, std::memory_order_seq_cst);
  wake_all();
}

void destroy_cores() {
  const uint32_t cores = num_cores();
  g_phase.store(Phase::kStopped, std::memory_order_seq_cst);
  g_num_cores.store(0, std::memory_order_release);
  rcu::detail::stop();
  for (CoreId core = 0; core < cores; ++core) {
    delete g_cores[core];
    g_cores[core] = nullptr;
  }
}

// Internal: queue an event on `core`'s loop regardless of the shutdown phase
// (resumes, the runtime's own teardown).
void enqueue_on_core(CoreId core, Event fn) {
  CoreState& target = *g_cores[core];
  CoreState* self = tls_core;
  if (self == &target) self->local.push(std::move(fn));
  else if (self != nullptr) send_between_cores(*self, target, std::move(fn));
  else send_from_outside(target, std::move(fn));
}

}  // namespace detail

// ---- events ----------------------------------------------------------------

void spawn_local(Event fn) { detail::current_core("spawn_local").local.push(std::move(fn)); }

Status spawn_remote(CoreId core, Event fn) {
  using namespace detail;
  const Phase phase = g_phase.load(std::memory_order_acquire);
  if (phase == Phase::kStopped)
    return Error(Errc::kShuttingDown, "spawn_remote: no runtime is running");
  if (core >= num_cores()) return Error(Errc::kNoSuchCore, "spawn_remote: no such core", core);
  CoreState* self = tls_core;
  if (self == nullptr && phase != Phase::kRunning)
    return Error(Errc::kShuttingDown, "spawn_remote: the runtime is shutting down");
  enqueue_on_core(core, std::move(fn));
  return {};
}

bool runtime_running() { return detail::g_phase.load(std::memory_order_acquire) == detail::Phase::kRunning; }

void run_on_every_core_start(void (*fn)()) {
  for (auto& hook : detail::g_start_hooks) {
    void (*empty)() = nullptr;
    if (hook.compare_exchange_strong(empty, fn, std::memory_order_acq_rel)) return;
  }
  panic("run_on_every_core_start: more than %d hooks", detail::kMaxStartHooks);
}

Status spawn_remote_lazy(CoreId core, Event fn) {
  using namespace detail;
  CoreState* self = tls_core;
  if (self == nullptr) return Error(Errc::kNotOnCore, "spawn_remote_lazy: not on a core");
  if (core >= num_cores()) return Error(Errc::kNoSuchCore, "spawn_remote_lazy: no such core", core);
  if (core == self->id) self->local.push(std::move(fn));
  else send_between_cores(*self, *g_cores[core], std::move(fn), /*wake=*/false);
  return {};
}

// ---- blocking --------------------------------------------------------------

void unpark(EventContext& context) {
  const CoreId core = detail::FiberAccess::core(context);
  EBB_CHECK(core != kNoCore, "unpark: the EventContext was made off any core");
  detail::enqueue_on_core(core, detail::resume_event(&context));
}

// ---- timers ----------------------------------------------------------------

namespace {
constexpr uint64_t kTimerIdMask = (uint64_t{1} << 48) - 1;

Result<TimerId> add_core_timer(const char* what, uint64_t delay_ns, uint64_t period_ns,
                               Function<void()>&& fn) {
  detail::CoreState* c = detail::tls_core;
  if (c == nullptr) return Error(Errc::kNotOnCore, what);
  const uint64_t id = c->timers.add(platform::now_ns() + delay_ns, period_ns, std::move(fn));
  return (uint64_t{c->id + 1} << 48) | id;
}
}  // namespace

Result<TimerId> add_timer(std::chrono::nanoseconds delay, Function<void()> fn) {
  const uint64_t delay_ns = delay.count() > 0 ? static_cast<uint64_t>(delay.count()) : 0;
  return add_core_timer("add_timer: not on a core", delay_ns, 0, std::move(fn));
}

Result<TimerId> add_periodic_timer(std::chrono::nanoseconds period, Function<void()> fn) {
  if (period.count() <= 0)
    return Error(Errc::kInvalidArgument, "add_periodic_timer: the period must be positive");
  const auto ns = static_cast<uint64_t>(period.count());
  return add_core_timer("add_periodic_timer: not on a core", ns, ns, std::move(fn));
}

bool cancel_timer(TimerId id) {
  if (id == 0) return false;
  detail::CoreState& c = detail::current_core("cancel_timer");
  const CoreId owner = static_cast<CoreId>((id >> 48) - 1);
  EBB_CHECK(owner == c.id, "cancel_timer: timer %#llx belongs to core %u but was cancelled on core %u",
            static_cast<unsigned long long>(id), owner, c.id);
  return c.timers.cancel(id & kTimerIdMask);
}

// ---- idle handlers ---------------------------------------------------------

Result<IdleHandlerId> add_idle_handler(Function<bool()> poll, Function<bool()> arm) {
  detail::CoreState* c = detail::tls_core;
  if (c == nullptr) return Error(Errc::kNotOnCore, "add_idle_handler: not on a core");
  const IdleHandlerId id = c->next_idle_handler_id++;
  if (!arm) ++c->unarmed_idle_handlers;
  PlatformHeapScope core_lifetime;
  c->idle_handlers.push_back({id, std::move(poll), std::move(arm), false});
  return id;
}

bool remove_idle_handler(IdleHandlerId id) {
  detail::CoreState& c = detail::current_core("remove_idle_handler");
  for (detail::IdleHandlerEntry& e : c.idle_handlers) {
    if (e.id != id || e.removed) continue;
    e.removed = true;  // erased after the turn: it may be the handler running now
    if (!e.arm) --c.unarmed_idle_handlers;
    if (!c.in_idle_handler)
      std::erase_if(c.idle_handlers, [](const detail::IdleHandlerEntry& x) { return x.removed; });
    return true;
  }
  return false;
}

void wake_core_for_device(CoreId core) {
  using namespace detail;
  if (g_phase.load(std::memory_order_acquire) == Phase::kStopped || core >= num_cores()) return;
  full_fence();  // the caller's work is visible before we look at `sleeping`
  notify(*g_cores[core]);
}

// ---- stats -----------------------------------------------------------------

CoreStats& CoreStats::operator+=(const CoreStats& o) {
  events += o.events;
  remote_sent += o.remote_sent;
  remote_received += o.remote_received;
  rep_faults += o.rep_faults;
  timers_fired += o.timers_fired;
  parks += o.parks;
  busy_ns += o.busy_ns;
  idle_ns += o.idle_ns;
  return *this;
}

CoreStats core_stats(CoreId core) {
  CoreStats s;
  if (core >= num_cores()) return s;
  const detail::CoreCounters& k = detail::g_cores[core]->counters;
  constexpr auto relaxed = std::memory_order_relaxed;
  s.events = k.events.load(relaxed);
  s.remote_sent = k.remote_sent.load(relaxed);
  s.remote_received = k.remote_received.load(relaxed);
  s.rep_faults = k.rep_faults.load(relaxed);
  s.timers_fired = k.timers_fired.load(relaxed);
  s.parks = k.parks.load(relaxed);
  const uint64_t start = k.start_ns.load(relaxed);
  if (start != 0) {
    const uint64_t now = platform::now_ns();
    const uint64_t since = k.idle_since_ns.load(relaxed);
    s.idle_ns = k.idle_ns.load(relaxed) + (since != 0 && since < now ? now - since : 0);
    const uint64_t up = now - start;
    s.busy_ns = up > s.idle_ns ? up - s.idle_ns : 0;
  }
  return s;
}

CoreStats total_stats() {
  CoreStats sum;
  const uint32_t cores = num_cores();
  for (CoreId core = 0; core < cores; ++core) sum += core_stats(core);
  return sum;
}

void detail::count_rep_fault() {
  if (detail::tls_core != nullptr) bump_counter(detail::tls_core->counters.rep_faults);
}

}  // namespace ebb

namespace ebb::detail {

bool post(CoreId core, Event fn) {
  if (g_phase.load(std::memory_order_acquire) == Phase::kStopped || core >= num_cores())
    return false;
  enqueue_on_core(core, std::move(fn));
  return true;
}

}  // namespace ebb::detail
