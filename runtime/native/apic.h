#pragma once
// The local APIC of each CPU, in xAPIC mode (memory-mapped; TCG offers no
// x2APIC): its id, enabling it, and the inter-processor interrupts that
// start the other CPUs and, later, wake them.

#include <cstdint>

namespace ebb::native {

void apic_init(uint64_t physical_base);  // the boot CPU, once: where the registers are
void apic_enable();                      // each CPU: software-enable, spurious vector set
uint32_t apic_id();

// INIT, then twice STARTUP with the trampoline's page (Intel SDM 8.4.4.1).
void apic_start_cpu(uint32_t apic_id, uint32_t trampoline_physical);

// An interrupt with `vector` to the CPU with `apic_id`.
void apic_send_ipi(uint32_t apic_id, uint8_t vector);

// The vectors the image uses. Their handlers (trap_stubs.S) only
// acknowledge the interrupt: its one job is to end a CPU's hlt.
inline constexpr uint8_t kWakeVector = 0xf0;
inline constexpr uint8_t kTimerVector = 0xef;
inline constexpr uint8_t kSpuriousVector = 0xff;

// The local APIC timer, calibrated once against the TSC: one interrupt
// (kTimerVector) `ns` from now on this CPU; stop cancels it.
void apic_timer_calibrate();
void apic_timer_once(uint64_t ns);
void apic_timer_stop();

}  // namespace ebb::native
