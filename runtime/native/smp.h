#pragma once
// The CPUs: the boot CPU starts the others the MADT lists (as many as
// ebb.cores asks for, all by default), one at a time through the real-mode
// trampoline. Each comes up on its own stack, with its own exception
// tables, TLS and APIC, and waits for work.

#include <cstdint>

#include "runtime/native/acpi.h"
#include "runtime/native/apic.h"
#include "runtime/result.h"

namespace ebb::native {

// Starts CPUs until `wanted` are online (the boot CPU counts), every local
// APIC in `mode`. Errors: fewer CPUs in the MADT than wanted, one whose
// APIC id xAPIC cannot reach, or one that does not come up within 1 s.
Status start_cpus(const CpuList& cpus, uint32_t wanted, ApicMode mode);
uint32_t cpus_online();
// The calling CPU's index (the boot CPU is 0) and APIC id.
uint32_t this_cpu();
uint32_t cpu_apic_id(uint32_t cpu);
// When each CPU came online, in ns since boot (the TSC).
uint64_t cpu_online_ns(uint32_t cpu);

// Runs fn(arg) on `cpu` and waits for it (the boot CPU runs it in place).
void run_on_cpu(uint32_t cpu, void (*fn)(void*), void* arg);
// The same without waiting (another CPU only; one at a time per CPU), and
// the wait for it to finish.
void post_to_cpu(uint32_t cpu, void (*fn)(void*), void* arg);
void wait_for_cpu(uint32_t cpu);

// Waits until now_ns() reaches `until_ns`: on the boot CPU while a Runtime
// runs, the owner lets core 0 run meanwhile (at least once, even when the
// time has come: sched_yield) (runtime/native/cores.cc); else the CPU
// polls the clock.
void sleep_until(uint64_t until_ns);

}  // namespace ebb::native
