#include "runtime/event_loop.h"

#include <algorithm>

#include "runtime/fiber.h"
#include "runtime/idle_handler.h"
#include "runtime/log.h"
#include "runtime/panic.h"
#include "runtime/rcu.h"
#include "runtime/timer.h"
#include "runtime/translation_table.h"

namespace ebb {
namespace detail {
namespace {

// Remote events taken per turn, so that local work and timers keep flowing
// while other cores flood this one.
constexpr uint32_t kRemoteBatch = 64;
// Suspended loop stacks kept for the next park (beyond this they are freed).
constexpr std::size_t kMaxSpareLoops = 16;
// How often a core with RCU callbacks waiting looks again while asleep.
constexpr uint64_t kRcuRecheckNs = 1'000'000;

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
  c.all_stacks.push_back(s);
  return s;
}

void release_stack(CoreState& c, platform::Stack* s) {
  if (s != nullptr) c.free_stacks.push_back(s);
}

[[noreturn]] void run_loop(CoreState& c);

void loop_entry(void* arg, platform::Stack* released) {
  CoreState& c = *static_cast<CoreState*>(arg);
  release_stack(c, released);
  run_loop(c);
}

bool has_work(const CoreState& c) { return !c.local.empty() || c.remote.might_have_work(); }

bool run_remote(CoreState& c) {
  uint32_t n = 0;
  for (; n < kRemoteBatch; ++n) {
    RemoteLink* link = c.remote.pop();
    if (link == nullptr) break;
    auto* node = static_cast<RemoteEvent*>(link);
    Event event = std::move(node->event);
    delete node;
    // Release pairs with the acquire in drained(): a count seen there implies
    // the sender's count is visible too.
    c.counters.remote_received.store(
        c.counters.remote_received.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    bump(c.counters.events);
    event();
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
      if (core->timers.run(id)) bump(core->counters.timers_fired);
    });
  });
  return true;
}

bool run_local(CoreState& c) {
  // Only the events queued before this turn: new ones wait for the next turn,
  // so remote events and timers are not starved by an event that respawns.
  std::size_t n = c.local.size();
  if (n == 0) return false;
  for (; n > 0 && !c.local.empty(); --n) {
    Event event = c.local.pop();
    bump(c.counters.events);
    event();
  }
  return true;
}

bool run_idle_handlers(CoreState& c) {
  if (c.idle_handlers.empty()) return false;
  bool worked = false;
  c.in_idle_handler = true;
  // A handler may add handlers (a deque keeps every entry in place; new ones
  // run this turn) or remove any (marked now, erased after the turn).
  for (std::size_t i = 0; i < c.idle_handlers.size(); ++i) {
    IdleHandlerEntry& e = c.idle_handlers[i];
    if (!e.removed && e.handler()) worked = true;
  }
  c.in_idle_handler = false;
  std::erase_if(c.idle_handlers, [](const IdleHandlerEntry& e) { return e.removed; });
  return worked;
}

void idle(CoreState& c) {
  const Phase phase = g_phase.load(std::memory_order_acquire);
  const bool draining = phase >= Phase::kDraining;
  if (!draining && !c.idle_handlers.empty()) return;  // pollers keep the core busy

  const uint64_t start = platform::now_ns();
  c.counters.idle_since_ns.store(start, std::memory_order_relaxed);
  uint64_t deadline = draining ? TimerHeap::kNever : c.timers.next_deadline();
  const bool rcu_waiting = rcu::detail::has_pending(c.id);
  if (rcu_waiting) deadline = std::min(deadline, start + kRcuRecheckNs);

  uint64_t now = start;
  bool found_work = false;
  if (!draining && c.config.idle_spin_ns != 0) {
    const uint64_t spin_end = std::min(start + c.config.idle_spin_ns, deadline);
    for (unsigned i = 1;; ++i) {
      if (has_work(c)) {
        found_work = true;
        break;
      }
      if ((i & 31) == 0) {
        now = platform::now_ns();
        if (now >= spin_end) break;
      }
      cpu_relax();
    }
  }

  if (!found_work && now < deadline) {
    if (draining && !rcu_waiting) c.quiet.store(true, std::memory_order_seq_cst);
    // Dekker with enqueue_remote, all seq_cst: the sender swaps the queue's
    // tail then reads `sleeping`; we set `sleeping` then read the tail. Either
    // it sees us asleep and wakes us, or we see its event here.
    c.sleeping.store(true, std::memory_order_seq_cst);
    if (!has_work(c) && g_phase.load(std::memory_order_acquire) == phase) {
      rcu::detail::enter_idle(c.id);
      platform::wait_for_work(c.id, deadline);
      rcu::detail::exit_idle(c.id);
    }
    c.sleeping.store(false, std::memory_order_relaxed);
    c.quiet.store(false, std::memory_order_seq_cst);
    now = platform::now_ns();
  }
  bump(c.counters.idle_ns, now - start);
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
    bool worked = run_remote(c);
    if (running) worked |= run_timers(c);
    worked |= run_local(c);
    if (running) {
      worked |= platform::poll_io(c.id);
      worked |= run_idle_handlers(c);
    }
    rcu::detail::quiescent(c.id);
    if (!worked) idle(c);
  }
}

void resume_parked(CoreState& c, const platform::Context& target) {
  --c.parked_now;
  platform::Stack* mine = c.current_stack;
  c.current_stack = target.stack;
  if (c.spare_loops.size() < kMaxSpareLoops) {
    // Keep this loop suspended here; a later park() continues it, and this
    // resume event then simply returns into the loop.
    c.spare_loops.emplace_back();  // capacity reserved: the slot never moves
    platform::Context& spare = c.spare_loops.back();
    spare.stack = mine;
    platform::Stack* released = platform::switch_to(&spare, target, nullptr);
    release_stack(c, released);
  } else {
    platform::switch_to(nullptr, target, mine);
    panic("core %u: an abandoned loop stack was resumed", c.id);
  }
}

void enqueue_remote(CoreState& target, Event&& fn, CoreState* sender) {
  if (sender != nullptr) {
    sender->counters.remote_sent.store(
        sender->counters.remote_sent.load(std::memory_order_relaxed) + 1,
        std::memory_order_release);
  } else {
    g_external_sent.fetch_add(1, std::memory_order_acq_rel);
  }
  target.remote.push(new RemoteEvent(std::move(fn)));  // a seq_cst exchange
  if (target.sleeping.load(std::memory_order_seq_cst) &&
      target.sleeping.exchange(false, std::memory_order_acq_rel)) {
    platform::wake_core(target.id);
  }
}

void wake_all() {
  const uint32_t cores = num_cores();
  for (CoreId core = 0; core < cores; ++core) {
    g_cores[core]->sleeping.store(false, std::memory_order_relaxed);
    platform::wake_core(core);
  }
}

}  // namespace

CoreState::CoreState(CoreId core, const LoopConfig& loop_config) : id(core), config(loop_config) {
  spare_loops.reserve(kMaxSpareLoops);
}

CoreState::~CoreState() {
  while (RemoteLink* link = remote.pop()) delete static_cast<RemoteEvent*>(link);
  for (platform::Stack* s : all_stacks) platform::stack_destroy(s);
}

CoreState& current_core(const char* what) {
  CoreState* c = tls_core;
  if (EBB_UNLIKELY(c == nullptr))
    panic("%s called off any core (on a thread that is not one of the runtime's cores)", what);
  return *c;
}

void create_cores(uint32_t cores, const LoopConfig& config) {
  EBB_CHECK(cores >= 1 && cores <= kMaxCores, "runtime: %u cores asked for; 1 to %u are possible",
            cores, kMaxCores);
  EBB_CHECK(g_phase.load() == Phase::kStopped, "runtime: cores created while a runtime runs");
  for (CoreId core = 0; core < cores; ++core) g_cores[core] = new CoreState(core, config);
  rcu::detail::start(cores);
  g_external_sent.store(0);
  g_num_cores.store(cores, std::memory_order_release);
  g_phase.store(Phase::kRunning, std::memory_order_release);
}

void run_core(CoreId core) {
  CoreState& c = *g_cores[core];
  tls_core_id = core;
  tls_core = &c;
  translation::detail::attach_core_table(core);
  c.counters.start_ns.store(platform::now_ns(), std::memory_order_relaxed);

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
  else enqueue_remote(target, std::move(fn), self);
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

// ---- blocking --------------------------------------------------------------

void park(EventContext& context) {
  using namespace detail;
  CoreState& c = current_core("park");
  EBB_CHECK(!c.in_idle_handler, "core %u: park inside an idle handler (idle handlers must not block)",
            c.id);
  EBB_CHECK(context.core_ == c.id,
            "park: the EventContext was made on core %u but parks on core %u", context.core_, c.id);
  bump(c.counters.parks);
  ++c.parked_now;
  platform::Context next;
  if (!c.spare_loops.empty()) {
    next = c.spare_loops.back();
    c.spare_loops.pop_back();
  } else {
    next = platform::make_context(acquire_stack(c), &loop_entry, &c);
  }
  context.context_.stack = c.current_stack;
  c.current_stack = next.stack;
  release_stack(c, platform::switch_to(&context.context_, next, nullptr));
  // Resumed by resume_parked on this core, on our own stack again.
}

void unpark(EventContext& context) {
  EBB_CHECK(context.core_ != kNoCore, "unpark: the EventContext was made off any core");
  EBB_CHECK(!context.resume_queued_.exchange(true, std::memory_order_acq_rel),
            "unpark called twice for one park");
  EventContext* parked = &context;
  detail::enqueue_on_core(context.core_, [parked] {
    parked->resume_queued_.store(false, std::memory_order_relaxed);
    detail::resume_parked(*detail::tls_core, parked->context_);
  });
}

void yield() {
  EventContext context;
  unpark(context);  // runs after the events queued so far, once we have parked
  park(context);
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

Result<IdleHandlerId> add_idle_handler(Function<bool()> handler) {
  detail::CoreState* c = detail::tls_core;
  if (c == nullptr) return Error(Errc::kNotOnCore, "add_idle_handler: not on a core");
  const IdleHandlerId id = c->next_idle_handler_id++;
  c->idle_handlers.push_back({id, std::move(handler), false});
  return id;
}

bool remove_idle_handler(IdleHandlerId id) {
  detail::CoreState& c = detail::current_core("remove_idle_handler");
  for (detail::IdleHandlerEntry& e : c.idle_handlers) {
    if (e.id != id || e.removed) continue;
    e.removed = true;  // erased after the turn: it may be the handler running now
    if (!c.in_idle_handler)
      std::erase_if(c.idle_handlers, [](const detail::IdleHandlerEntry& x) { return x.removed; });
    return true;
  }
  return false;
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
  if (detail::tls_core != nullptr) bump(detail::tls_core->counters.rep_faults);
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
