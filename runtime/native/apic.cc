#include "runtime/native/apic.h"

#include "runtime/native/cpu.h"
#include "runtime/native/x86.h"

namespace ebb::native {
namespace {

// Registers by their xAPIC offset; in x2APIC mode the one at offset o is
// MSR 0x800 + o / 16 (Intel SDM 10.12.1.2).
constexpr uint32_t kId = 0x20;
constexpr uint32_t kSpurious = 0xf0;
constexpr uint32_t kIcrLow = 0x300;
constexpr uint32_t kIcrHigh = 0x310;
constexpr uint32_t kDeliveryPending = 1u << 12;
constexpr uint32_t kEoi = 0xb0;
constexpr uint32_t kTimerLvt = 0x320;
constexpr uint32_t kTimerInitial = 0x380;
constexpr uint32_t kTimerCurrent = 0x390;
constexpr uint32_t kTimerDivide = 0x3e0;
constexpr uint32_t kMasked = 1u << 16;
constexpr uint32_t kLint0Lvt = 0x350;
constexpr uint32_t kX2ApicMsrs = 0x800;

// IA32_APIC_BASE: the APIC globally enabled, and in x2APIC mode.
constexpr uint64_t kBaseEnabled = 1u << 11;
constexpr uint64_t kBaseX2Apic = 1u << 10;

ApicMode g_mode = ApicMode::kXApic;
volatile uint32_t* g_registers = reinterpret_cast<volatile uint32_t*>(0xfee00000);
uint64_t g_timer_ticks_per_ms = 0;

uint32_t msr_of(uint32_t reg) { return kX2ApicMsrs + reg / 16; }

// The one place that picks the interface.
uint32_t read(uint32_t reg) {
  if (g_mode == ApicMode::kX2Apic) return static_cast<uint32_t>(rdmsr(msr_of(reg)));
  return g_registers[reg / 4];
}
void write(uint32_t reg, uint32_t v) {
  if (g_mode == ApicMode::kX2Apic) {
    wrmsr(msr_of(reg), v);
    return;
  }
  g_registers[reg / 4] = v;
}

void wait_ns(uint64_t ns) {
  const uint64_t until = ns_since_boot() + ns;
  while (ns_since_boot() < until) pause();
}

void send(uint32_t apic_id, uint32_t command) {
  if (g_mode == ApicMode::kX2Apic) {
    // A write to an x2APIC MSR does not wait for earlier stores: without
    // the fences a woken CPU could look before the wake-up's data is
    // visible (the SDM's advice, as Linux does). One 64-bit ICR, the
    // destination in its high half, and no delivery status to poll.
    asm volatile("mfence; lfence" ::: "memory");
    wrmsr(msr_of(kIcrLow), (uint64_t{apic_id} << 32) | command);
    return;
  }
  write(kIcrHigh, apic_id << 24);
  write(kIcrLow, command);
  while ((read(kIcrLow) & kDeliveryPending) != 0) pause();
}

}  // namespace

// The address the interrupt handlers write to acknowledge (trap_stubs.S);
// 0 in x2APIC mode, where they write MSR 0x80b instead.
extern "C" {
constinit uint64_t g_apic_eoi = 0xfee00000 + kEoi;
}

bool cpu_has_x2apic() { return (cpuid(1).ecx & (1u << 21)) != 0; }

const char* apic_mode_name(ApicMode mode) { return mode == ApicMode::kX2Apic ? "x2APIC" : "xAPIC"; }

void apic_init(uint64_t physical_base, ApicMode mode) {
  g_mode = mode;
  // Below 4 GiB the identity map reaches it (uncached, boot.S).
  g_registers = reinterpret_cast<volatile uint32_t*>(physical_base);
  g_apic_eoi = mode == ApicMode::kX2Apic ? 0 : physical_base + kEoi;
  // Every line of the legacy PICs masked (the firmware leaves the timer's
  // open): nothing but the APICs interrupts a CPU.
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
}

ApicMode apic_mode() { return g_mode; }

void apic_enable() {
  uint64_t base = rdmsr(kMsrApicBase);
  if (g_mode == ApicMode::kXApic && (base & kBaseX2Apic) != 0) {
    // Left in x2APIC mode (by firmware): the way back to xAPIC is through
    // disabled (SDM 10.12.5).
    base &= ~(kBaseEnabled | kBaseX2Apic);
    wrmsr(kMsrApicBase, base);
  }
  // Enabled first, then x2APIC in a second write: steps valid from any
  // state (x2APIC without enabled is not).
  base |= kBaseEnabled;
  wrmsr(kMsrApicBase, base);
  if (g_mode == ApicMode::kX2Apic) wrmsr(kMsrApicBase, base | kBaseX2Apic);
  write(kSpurious, (1u << 8) | kSpuriousVector);
  // The legacy PIC's line (LINT0, left in virtual-wire mode by the
  // firmware on the boot CPU) masked: interrupts come from the APIC only.
  write(kLint0Lvt, kMasked);
}

uint32_t apic_id() { return g_mode == ApicMode::kX2Apic ? read(kId) : read(kId) >> 24; }

void apic_start_cpu(uint32_t apic_id, uint32_t trampoline_physical) {
  const uint32_t page = trampoline_physical >> 12;
  send(apic_id, 0x4500);  // INIT, level assert
  wait_ns(10'000'000);
  for (int i = 0; i < 2; ++i) {
    send(apic_id, 0x4600 | page);  // STARTUP at page << 12
    wait_ns(200'000);
  }
}

void apic_send_ipi(uint32_t apic_id, uint8_t vector) { send(apic_id, vector); }

void apic_timer_calibrate() {
  write(kTimerDivide, 0x3);  // divide by 16
  write(kTimerLvt, kMasked | kTimerVector);
  write(kTimerInitial, 0xffffffff);
  wait_ns(10'000'000);
  const uint32_t elapsed = 0xffffffff - read(kTimerCurrent);
  write(kTimerInitial, 0);
  g_timer_ticks_per_ms = elapsed / 10 != 0 ? elapsed / 10 : 1;
}

void apic_timer_once(uint64_t ns) {
  write(kTimerDivide, 0x3);
  write(kTimerLvt, kTimerVector);  // one-shot, unmasked
  // Far deadlines (TimerHeap::kNever, a core that sleeps until woken) in
  // the longest count, without overflowing the product.
  uint64_t ticks = ns / 1'000'000 > 0xffffffff / g_timer_ticks_per_ms
                       ? 0xffffffff
                       : ns * g_timer_ticks_per_ms / 1'000'000;
  if (ticks == 0) ticks = 1;
  if (ticks > 0xffffffff) ticks = 0xffffffff;
  write(kTimerInitial, static_cast<uint32_t>(ticks));
}

void apic_timer_stop() { write(kTimerInitial, 0); }

}  // namespace ebb::native
