#include "runtime/native/smp.h"

#include <atomic>
#include <cstring>

#include "runtime/native/apic.h"
#include "runtime/native/boot_heap.h"
#include "runtime/native/cpu.h"
#include "runtime/native/traps.h"
#include "runtime/native/x86.h"
#include "runtime/panic.h"

extern "C" char ap_trampoline_start[], ap_trampoline_end[];
extern "C" uint64_t ap_trampoline_cr3, ap_trampoline_stack, ap_trampoline_entry, ap_trampoline_cpu;

namespace ebb::native {
namespace {

constexpr uint32_t kTrampoline = 0x8000;  // ap_trampoline.S assumes it
constexpr std::size_t kStackBytes = 64 * 1024;

struct Cpu {
  uint32_t apic_id = 0;
  uint64_t online_ns = 0;
  std::atomic<bool> online{false};
  // A one-slot mailbox: the boot CPU fills it, the CPU runs it and clears it.
  std::atomic<void (*)(void*)> work{nullptr};
  void* work_arg = nullptr;
};

constinit Cpu g_cpus[CpuList::kMaxCpus];
constinit std::atomic<uint32_t> g_online{0};
thread_local uint32_t t_cpu = 0;

template <class T>
T* trampoline_slot(T& symbol) {
  const auto offset = reinterpret_cast<char*>(&symbol) - ap_trampoline_start;
  return reinterpret_cast<T*>(uint64_t{kTrampoline} + static_cast<uint64_t>(offset));
}

[[noreturn]] void ap_loop(uint32_t index) {
  Cpu& me = g_cpus[index];
  for (;;) {
    void (*fn)(void*) = me.work.load(std::memory_order_acquire);
    if (fn == nullptr) {
      pause();
      continue;
    }
    fn(me.work_arg);
    me.work.store(nullptr, std::memory_order_release);
  }
}

}  // namespace

extern "C" [[noreturn]] void ap_entry(uint32_t index) {
  if (Status s = traps_init(); !s) panic("CPU %u: %s", index, s.error().message());
  if (Status s = install_tls(); !s) panic("CPU %u: %s", index, s.error().message());
  apic_enable();
  t_cpu = index;
  g_cpus[index].online_ns = ns_since_boot();
  g_cpus[index].online.store(true, std::memory_order_release);
  g_online.fetch_add(1, std::memory_order_acq_rel);
  ap_loop(index);
}

Status start_cpus(const CpuList& cpus, uint32_t wanted, ApicMode mode) {
  if (wanted > cpus.count)
    return Error(Errc::kInvalidArgument, "smp: more cores asked for than the machine has (ACPI MADT)",
                 static_cast<int64_t>(cpus.count));
  apic_init(cpus.local_apic, mode);
  apic_enable();
  apic_timer_calibrate();
  const uint32_t self = apic_id();
  g_cpus[0].apic_id = self;
  g_cpus[0].online_ns = ns_since_boot();
  g_cpus[0].online.store(true);
  g_online.store(1);

  std::memcpy(reinterpret_cast<void*>(uint64_t{kTrampoline}), ap_trampoline_start,
              static_cast<std::size_t>(ap_trampoline_end - ap_trampoline_start));
  uint64_t cr3;
  asm volatile("mov %%cr3, %0" : "=r"(cr3));
  *trampoline_slot(ap_trampoline_cr3) = cr3;
  *trampoline_slot(ap_trampoline_entry) = reinterpret_cast<uint64_t>(&ap_entry);

  uint32_t next = 1;
  for (std::size_t i = 0; i < cpus.count && next < wanted; ++i) {
    if (cpus.apic_ids[i] == self) continue;
    // xAPIC addresses 8 bits, and 0xff is everyone (MADT x2APIC entries may list more).
    if (mode == ApicMode::kXApic && cpus.apic_ids[i] >= 0xff)
      return Error(Errc::kInvalidArgument, "smp: a CPU's APIC id is past xAPIC's reach: x2APIC needed (APIC id)",
                   cpus.apic_ids[i]);
    auto* stack = static_cast<uint8_t*>(boot_heap_allocate(kStackBytes, 16));
    if (stack == nullptr) return Error(Errc::kExhausted, "smp: no memory for a CPU's stack");
    g_cpus[next].apic_id = cpus.apic_ids[i];
    *trampoline_slot(ap_trampoline_stack) = reinterpret_cast<uint64_t>(stack + kStackBytes);
    *trampoline_slot(ap_trampoline_cpu) = next;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    apic_start_cpu(cpus.apic_ids[i], kTrampoline);
    const uint64_t deadline = ns_since_boot() + 1'000'000'000;
    while (!g_cpus[next].online.load(std::memory_order_acquire)) {
      if (ns_since_boot() > deadline)
        return Error(Errc::kTimedOut, "smp: a CPU did not come up within 1 s (APIC id)", cpus.apic_ids[i]);
      pause();
    }
    ++next;
  }
  return {};
}

uint32_t cpus_online() { return g_online.load(std::memory_order_acquire); }
uint32_t this_cpu() { return t_cpu; }
uint32_t cpu_apic_id(uint32_t cpu) { return g_cpus[cpu].apic_id; }
uint64_t cpu_online_ns(uint32_t cpu) { return g_cpus[cpu].online_ns; }

void run_on_cpu(uint32_t cpu, void (*fn)(void*), void* arg) {
  if (cpu == this_cpu()) {
    fn(arg);
    return;
  }
  post_to_cpu(cpu, fn, arg);
  wait_for_cpu(cpu);
}

void post_to_cpu(uint32_t cpu, void (*fn)(void*), void* arg) {
  Cpu& c = g_cpus[cpu];
  wait_for_cpu(cpu);  // its last work first
  c.work_arg = arg;
  c.work.store(fn, std::memory_order_release);
}

void wait_for_cpu(uint32_t cpu) {
  while (g_cpus[cpu].work.load(std::memory_order_acquire) != nullptr) pause();
}

}  // namespace ebb::native
