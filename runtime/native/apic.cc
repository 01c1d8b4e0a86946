#include "runtime/native/apic.h"

#include "runtime/native/cpu.h"
#include "runtime/native/x86.h"

namespace ebb::native {
namespace {

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

volatile uint32_t* g_registers = reinterpret_cast<volatile uint32_t*>(0xfee00000);
uint64_t g_timer_ticks_per_ms = 0;

uint32_t read(uint32_t reg) { return g_registers[reg / 4]; }
void write(uint32_t reg, uint32_t v) { g_registers[reg / 4] = v; }

void wait_ns(uint64_t ns) {
  const uint64_t until = ns_since_boot() + ns;
  while (ns_since_boot() < until) pause();
}

void send(uint32_t apic_id, uint32_t command) {
  write(kIcrHigh, apic_id << 24);
  write(kIcrLow, command);
  while ((read(kIcrLow) & kDeliveryPending) != 0) pause();
}

}  // namespace

// The address the interrupt handlers write to acknowledge (trap_stubs.S).
extern "C" {
constinit uint64_t g_apic_eoi = 0xfee00000 + kEoi;
}

void apic_init(uint64_t physical_base) {
  // Below 4 GiB the identity map reaches it (uncached, boot.S).
  g_registers = reinterpret_cast<volatile uint32_t*>(physical_base);
  g_apic_eoi = physical_base + kEoi;
}

void apic_enable() {
  wrmsr(kMsrApicBase, rdmsr(kMsrApicBase) | (1u << 11));  // globally enabled
  write(kSpurious, (1u << 8) | kSpuriousVector);
}

uint32_t apic_id() { return read(kId) >> 24; }

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
  uint64_t ticks = ns * g_timer_ticks_per_ms / 1'000'000;
  if (ticks == 0) ticks = 1;
  if (ticks > 0xffffffff) ticks = 0xffffffff;
  write(kTimerInitial, static_cast<uint32_t>(ticks));
}

void apic_timer_stop() { write(kTimerInitial, 0); }

}  // namespace ebb::native
