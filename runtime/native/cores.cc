// runtime/platform.h's cores, sleep and wake, fiber stacks and memory on
// bare x86-64. Core c runs on CPU c. Core 0 shares the boot CPU with the
// Runtime's owner (main, as a process's main thread is on hosted): each
// has its own stack and thread-local storage, and they take turns (see
// "the boot CPU" below). A core with nothing to do halts until an IPI
// (wake_core), its local APIC timer (the next deadline) or a device's
// interrupt (runtime/native/interrupts.h) ends the hlt.

#include <atomic>
#include <cstring>

#include "runtime/event_loop.h"
#include "runtime/native/apic.h"
#include "runtime/native/boot_heap.h"
#include "runtime/native/cpu.h"
#include "runtime/native/interrupts.h"
#include "runtime/native/smp.h"
#include "runtime/native/stack_area.h"
#include "runtime/native/x86.h"
#include "runtime/panic.h"
#include "runtime/platform_switch.h"

extern "C" char ebb_native_context_start[];

namespace ebb::platform {
namespace {

struct alignas(64) Sleep {
  std::atomic<bool> pending{false};   // a wake-up not yet seen
  std::atomic<bool> sleeping{false};  // halted, or about to: wakers send an IPI
};
constinit Sleep g_sleep[kMaxCores];

uint32_t cpu_of(CoreId core) { return native::cpu_of_core(core); }

void run_core_on_cpu(void* core) { ebb::detail::run_core(static_cast<CoreId>(reinterpret_cast<uintptr_t>(core))); }

// ---- the boot CPU: the owner and core 0 take turns --------------------------
// Cooperatively, with no preemption: the owner runs until it waits
// (wait_while_zero, pause_briefly, a sleep), then core 0 runs until it is
// idle and either the owner was kicked (wake_waiter: what it waits for may
// have happened) or the owner's poll time has come. So a core 0 that never
// idles keeps the owner waiting, and an owner that spins on its own keeps
// core 0 from running; the runtime's own waits all take turns.
struct BootCpuShare {
  std::atomic<bool>& active = detail::g_core0_shares_boot_cpu;  // a Runtime's core 0 is on the boot CPU
  uint32_t busy_rounds = 0;  // share_turn looks at the clock every so often
  bool core0_exited = false;
  Context owner, core0;      // the suspended side
  uint64_t owner_tls = 0, core0_tls = 0;
  Stack* stack = nullptr;    // core 0's
  std::atomic<bool> kicked{false};
  uint64_t owner_poll_at = 0;
};
constinit BootCpuShare g_share;

constexpr uint64_t kOwnerPollNs = 500'000;  // pause_briefly: look again within 0.5 ms
constexpr uint32_t kClockEveryRounds = 64;

void switch_to_core0() {
  native::wrmsr(native::kMsrFsBase, g_share.core0_tls);
  switch_to(&g_share.owner, g_share.core0, nullptr);
}

void switch_to_owner(Context* save) {
  native::wrmsr(native::kMsrFsBase, g_share.owner_tls);
  switch_to(save, g_share.owner, nullptr);
}

[[noreturn]] void core0_entry(void*, Stack*) {
  ebb::detail::run_core(0);
  g_share.core0_exited = true;
  switch_to_owner(nullptr);
  __builtin_unreachable();
}

// The owner, waiting: lets core 0 run until it idles past `poll_at`.
bool owner_yields(uint64_t poll_at) {
  if (!g_share.active || g_share.core0_exited || on_core() || native::this_cpu() != 0) return false;
  g_share.owner_poll_at = poll_at;
  switch_to_core0();
  return true;
}

// Whether the owner's turn has come: kicked, or its poll time passed.
bool owner_turn_due(uint64_t now) {
  return g_share.kicked.exchange(false, std::memory_order_acq_rel) || now >= g_share.owner_poll_at;
}

void start_core0() {
  g_share.core0_exited = false;
  g_share.kicked.store(false);
  g_share.owner_tls = native::rdmsr(native::kMsrFsBase);
  g_share.core0_tls = native::make_tls();
  g_share.stack = stack_create(default_stack_bytes());
  EBB_CHECK(g_share.core0_tls != 0 && g_share.stack != nullptr,
            "Runtime: no memory for core 0's stack and thread-local storage");
  g_share.core0 = make_context(g_share.stack, &core0_entry, nullptr);
  g_share.active = true;  // it starts at the owner's first wait
}

void join_core0() {
  while (!g_share.core0_exited) owner_yields(0);
  g_share.active = false;
  stack_destroy(g_share.stack);
  native::free_tls(g_share.core0_tls);
  g_share.stack = nullptr;
  g_share.core0_tls = 0;
}

}  // namespace

constinit std::atomic<bool> detail::g_core0_shares_boot_cpu{false};

void detail::offer_owner_turn() {
  if (g_share.kicked.exchange(false, std::memory_order_acq_rel) ||
      (++g_share.busy_rounds % kClockEveryRounds == 0 && now_ns() >= g_share.owner_poll_at)) {
    switch_to_owner(&g_share.core0);
  }
}

// ---- cores ------------------------------------------------------------------

uint32_t available_cpus() { return native::cpus_online(); }

void configure_logging() {}

void start_cores(uint32_t cores, bool) {
  EBB_CHECK(cores <= available_cpus(), "Runtime: %u cores asked for; the image has %u CPUs (boot with more, e.g. -smp %u)",
            cores, available_cpus(), cores);
  EBB_CHECK(native::this_cpu() == 0, "Runtime: start it on the boot CPU");
  for (CoreId core = 0; core < cores; ++core) {
    g_sleep[core].pending.store(false);
    g_sleep[core].sleeping.store(false);
    if (core == 0) start_core0();
    else native::post_to_cpu(cpu_of(core), &run_core_on_cpu, reinterpret_cast<void*>(uintptr_t{core}));
  }
}

void join_cores(uint32_t cores) {
  if (cores > 0) join_core0();
  for (CoreId core = 1; core < cores; ++core) native::wait_for_cpu(cpu_of(core));
}

void pause_briefly() {
  if (owner_yields(now_ns() + kOwnerPollNs)) return;
  for (int i = 0; i < 64; ++i) native::pause();
}


void wake_core(CoreId core) {
  Sleep& s = g_sleep[core];
  s.pending.store(true, std::memory_order_seq_cst);
  if (s.sleeping.load(std::memory_order_seq_cst))
    native::apic_send_ipi(native::cpu_apic_id(cpu_of(core)), native::kWakeVector);
}

void wait_for_work(CoreId core, uint64_t deadline_ns) {
  Sleep& s = g_sleep[core];
  if (s.pending.exchange(false, std::memory_order_acq_rel)) return;
  const uint64_t now = now_ns();
  if (deadline_ns != 0 && deadline_ns <= now) return;
  if (core == 0 && g_share.active) {
    // The owner's turn, when it was kicked or its poll time has come; else
    // sleep no longer than until that time.
    if (owner_turn_due(now)) {
      switch_to_owner(&g_share.core0);
      return;
    }
    if (deadline_ns == 0 || deadline_ns > g_share.owner_poll_at) deadline_ns = g_share.owner_poll_at;
  }
  s.sleeping.store(true, std::memory_order_seq_cst);
  if (!s.pending.load(std::memory_order_seq_cst)) {
    if (deadline_ns != 0) native::apic_timer_once(deadline_ns - now);
    // sti takes effect after the next instruction: no interrupt slips in
    // between it and the hlt, so a wake-up sent after the check ends it.
    // A device's interrupt needs no `pending`: it is sent whether or not
    // the core sleeps, and one raised since its driver's arm() (the loop
    // arms after setting `sleeping`, before calling here), while
    // interrupts were off, waits in the local APIC's IRR and is taken
    // right after the sti, ending the hlt at once. (A wake-up IPI, sent
    // only to a core seen `sleeping`, needs the flag for the same window.)
    asm volatile("sti; hlt; cli" ::: "memory");
    if (deadline_ns != 0) native::apic_timer_stop();
  }
  s.sleeping.store(false, std::memory_order_relaxed);
  s.pending.store(false, std::memory_order_relaxed);
}

bool poll_io(CoreId) { return false; }  // no file descriptors: drivers poll in idle handlers

bool cpu_contended(CoreId, uint64_t) { return false; }  // a core owns its CPU

uint32_t numa_nodes() { return 1; }
uint32_t numa_node_of(CoreId) { return 0; }

// ---- fiber stacks -------------------------------------------------------------

std::size_t default_stack_bytes() { return 64 * 1024; }

// In the stack area: a guard below each (runtime/native/stack_area.h).
Stack* stack_create(std::size_t bytes) {
  uint8_t* bottom = native::stack_area_allocate(bytes);
  if (bottom == nullptr) return nullptr;
  auto* stack = static_cast<Stack*>(native::boot_heap_allocate(sizeof(Stack)));
  if (stack == nullptr) {
    native::stack_area_free(bottom, bytes);
    return nullptr;
  }
  *stack = Stack{bottom, (bytes + 4095) & ~std::size_t{4095}};
  return stack;
}

void stack_destroy(Stack* stack) {
  if (stack == nullptr) return;
  native::stack_area_free(stack->bottom, stack->bytes);
  native::boot_heap_free(stack);
}

Context make_context(Stack* stack, ContextEntry entry, void* arg) {
  // What ebb_native_switch pops: r15, r14, r13 (entry), r12 (arg), rbx,
  // rbp, then the return address (the start code). 16-byte aligned on
  // arrival there.
  auto* top = reinterpret_cast<uint64_t*>(stack->bottom + stack->bytes);
  uint64_t* sp = top - 7;
  sp[0] = 0;                                            // r15
  sp[1] = 0;                                            // r14
  sp[2] = reinterpret_cast<uint64_t>(entry);            // r13
  sp[3] = reinterpret_cast<uint64_t>(arg);              // r12
  sp[4] = 0;                                            // rbx
  sp[5] = 0;                                            // rbp
  sp[6] = reinterpret_cast<uint64_t>(ebb_native_context_start);
  return Context{sp, stack};
}

// ---- waiting off the cores ------------------------------------------------------

}  // namespace ebb::platform

namespace ebb::native {

uint32_t cpu_of_core(CoreId core) { return core; }

void sleep_until(uint64_t until_ns) {
  do {  // the owner: core 0 gets a turn even when the time has come
    if (!platform::owner_yields(until_ns)) pause();
  } while (platform::now_ns() < until_ns);
}

}  // namespace ebb::native

namespace ebb::detail {

void wait_while_zero(std::atomic<uint32_t>& flag) {
  while (flag.load(std::memory_order_acquire) == 0) {
    // Kicked when the flag is set: no need to look before then (or a second).
    if (!platform::owner_yields(platform::now_ns() + 1'000'000'000)) native::pause();
  }
}

void wake_waiter(std::atomic<uint32_t>& flag) {
  flag.store(1, std::memory_order_release);
  // The owner may be waiting for it on the boot CPU, behind core 0.
  if (platform::g_share.active) {
    platform::g_share.kicked.store(true, std::memory_order_seq_cst);
    platform::wake_core(0);
  }
}

}  // namespace ebb::detail
