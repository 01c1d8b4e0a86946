#pragma once
// The local APIC of each CPU: its id, enabling it, and the inter-processor
// interrupts that start the other CPUs and, later, wake them. In x2APIC
// mode (registers as MSRs) when the CPU has it, else in xAPIC mode
// (memory-mapped; QEMU 7.2's TCG offers no x2APIC). Only this file's
// functions know which: the rest of the image does not care.

#include <cstdint>

namespace ebb::native {

enum class ApicMode : uint8_t { kXApic, kX2Apic };

bool cpu_has_x2apic();  // CPUID.01H:ECX bit 21
const char* apic_mode_name(ApicMode mode);  // "xAPIC", "x2APIC"

// The boot CPU, once, before the rest: the mode every CPU will use and,
// for xAPIC, where the registers are.
void apic_init(uint64_t physical_base, ApicMode mode);
ApicMode apic_mode();
void apic_enable();  // each CPU: into the mode, software-enabled, spurious vector set
uint32_t apic_id();  // 8 bits in xAPIC mode, 32 in x2APIC mode

// INIT, then twice STARTUP with the trampoline's page (Intel SDM 8.4.4.1).
void apic_start_cpu(uint32_t apic_id, uint32_t trampoline_physical);

// An interrupt with `vector` to the CPU with `apic_id`.
void apic_send_ipi(uint32_t apic_id, uint8_t vector);

// The vectors the image uses. Their handlers (trap_stubs.S) only
// acknowledge the interrupt: its one job is to end a CPU's hlt. Devices get
// a vector of their own (runtime/native/interrupts.h), apart from the
// runtime's wake-ups, so that one never stands for the other.
inline constexpr uint8_t kWakeVector = 0xf0;
inline constexpr uint8_t kTimerVector = 0xef;
inline constexpr uint8_t kDeviceVector = 0xee;
inline constexpr uint8_t kSpuriousVector = 0xff;

// The local APIC timer, calibrated once against the TSC: one interrupt
// (kTimerVector) `ns` from now on this CPU; stop cancels it.
void apic_timer_calibrate();
void apic_timer_once(uint64_t ns);
void apic_timer_stop();

}  // namespace ebb::native
