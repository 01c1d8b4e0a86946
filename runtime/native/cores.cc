// runtime/platform.h's cores, sleep and wake, fiber stacks and memory on
// bare x86-64. Core c runs on CPU c + 1: the boot CPU is the Runtime's
// owner, as a process's main thread is on hosted. A core with nothing to
// do halts until an IPI (wake_core) or its local APIC timer (the next
// deadline) ends the hlt.

#include <atomic>
#include <cstring>

#include "runtime/event_loop.h"
#include "runtime/native/apic.h"
#include "runtime/native/boot_heap.h"
#include "runtime/native/cpu.h"
#include "runtime/native/smp.h"
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

uint32_t cpu_of(CoreId core) { return core + 1; }

void run_core_on_cpu(void* core) { ebb::detail::run_core(static_cast<CoreId>(reinterpret_cast<uintptr_t>(core))); }

}  // namespace

// ---- cores ------------------------------------------------------------------

uint32_t available_cpus() { return native::cpus_online() - 1; }

void configure_logging() {}

void start_cores(uint32_t cores, bool) {
  EBB_CHECK(cores <= available_cpus(),
            "Runtime: %u cores asked for; the image has %u CPUs besides the boot CPU (boot with more, "
            "e.g. -smp %u)",
            cores, available_cpus(), cores + 1);
  for (CoreId core = 0; core < cores; ++core) {
    g_sleep[core].pending.store(false);
    g_sleep[core].sleeping.store(false);
    native::post_to_cpu(cpu_of(core), &run_core_on_cpu, reinterpret_cast<void*>(uintptr_t{core}));
  }
}

void join_cores(uint32_t cores) {
  for (CoreId core = 0; core < cores; ++core) native::wait_for_cpu(cpu_of(core));
}

void pause_briefly() {
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
  s.sleeping.store(true, std::memory_order_seq_cst);
  if (!s.pending.load(std::memory_order_seq_cst)) {
    if (deadline_ns != 0) native::apic_timer_once(deadline_ns - now);
    // sti takes effect after the next instruction: no interrupt slips in
    // between it and the hlt, so a wake-up sent after the check ends it.
    asm volatile("sti; hlt; cli" ::: "memory");
    if (deadline_ns != 0) native::apic_timer_stop();
  }
  s.sleeping.store(false, std::memory_order_relaxed);
  s.pending.store(false, std::memory_order_relaxed);
}

bool poll_io(CoreId) { return false; }  // no file descriptors: drivers poll in idle handlers

uint32_t numa_nodes() { return 1; }
uint32_t numa_node_of(CoreId) { return 0; }

// ---- fiber stacks -------------------------------------------------------------

std::size_t default_stack_bytes() { return 60 * 1024; }

Stack* stack_create(std::size_t bytes) {
  bytes = (bytes + 15) & ~std::size_t{15};
  auto* memory = static_cast<uint8_t*>(native::boot_heap_allocate(bytes, 16));
  if (memory == nullptr) return nullptr;
  auto* stack = static_cast<Stack*>(native::boot_heap_allocate(sizeof(Stack)));
  if (stack == nullptr) {
    native::boot_heap_free(memory);
    return nullptr;
  }
  *stack = Stack{memory, bytes};
  return stack;
}

void stack_destroy(Stack* stack) {
  if (stack == nullptr) return;
  native::boot_heap_free(stack->bottom);
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

namespace ebb::detail {

void wait_while_zero(std::atomic<uint32_t>& flag) {
  while (flag.load(std::memory_order_acquire) == 0) native::pause();
}

void wake_waiter(std::atomic<uint32_t>& flag) { flag.store(1, std::memory_order_release); }

}  // namespace ebb::detail
