// Device interrupts aimed at a core (runtime/native/interrupts.h), and the
// idle loop they serve: a core whose idle handlers all have arm hooks halts
// and is woken by an interrupt sent to its MSI target. The test plays the
// device: it writes the local APIC's ICR with the target's vector and APIC
// id (an IPI), which takes the same handler path as the device's MSI.
// Native only (ebb-tests.elf).

#include <gtest/gtest.h>

#include <atomic>

#include "runtime/idle_handler.h"
#include "tests/unit/runtime/polled_device.h"
#include "runtime/native/apic.h"
#include "runtime/native/interrupts.h"
#include "runtime/native/smp.h"
#include "runtime/platform.h"
#include "runtime/runtime.h"
#include "runtime/stats.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::native {
namespace {

TEST(DeviceInterrupts, MsiTargetsTheCoresLocalApic) {
  for (CoreId core = 0; core < cpus_online(); ++core) {
    Result<MsiTarget> target = msi_for_core(core);
    ASSERT_TRUE(target.ok()) << "core " << core;
    EXPECT_EQ(target->address, 0xfee00000u | (uint64_t{cpu_apic_id(core)} << 12)) << "core " << core;
    EXPECT_EQ(target->data, uint32_t{kDeviceVector});
    EXPECT_EQ(core_apic_id(core), cpu_apic_id(cpu_of_core(core)));
  }
  Result<MsiTarget> none = msi_for_core(cpus_online());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Errc::kNoSuchCore);
}

// The test's device (polled_device.h), whose interrupt is a real one: the
// MSI's vector to the MSI's APIC.
struct FakeDevice : testing::PolledDevice {
  MsiTarget target{};
  void interrupt() {
    apic_send_ipi(static_cast<uint32_t>((target.address >> 12) & 0xff), static_cast<uint8_t>(target.data & 0xff));
  }
};

// Waits on the owner's side (core 0 runs meanwhile); false after 20 s.
template <class Pred>
bool eventually(Pred pred) {
  const uint64_t until = platform::now_ns() + 20'000'000'000;
  while (!pred()) {
    if (platform::now_ns() > until) return false;
    sleep_until(platform::now_ns() + 100'000);
  }
  return true;
}

void pause_ms(uint64_t ms) { sleep_until(platform::now_ns() + ms * 1'000'000); }

// Core 1 halts once armed: it stops polling, its idle time grows. The
// interrupt to its MSI target, and nothing else (no wake_core, no
// `pending`; core 1 has no timers to wake it), ends the hlt; it polls,
// takes the work, arms and halts again, round after round.
TEST(DeviceInterrupts, ArmedCoreHaltsUntilItsDeviceInterrupts) {
  EBB_NEEDS_CORES(2);
  FakeDevice dev;
  Runtime runtime({.cores = 2});
  Result<MsiTarget> target = msi_for_core(1);
  ASSERT_TRUE(target.ok());
  dev.target = *target;
  Result<IdleHandlerId> id = runtime.run_on(1, [&dev] { return dev.install(); });
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(eventually([&] { return dev.arms.load() >= 1; }));
  // Asleep: it stops polling (a polling core calls poll() thousands of
  // times in 50 ms, even under TCG) and its idle time grows.
  const uint64_t polls = dev.polls.load();
  const uint64_t idle_before = core_stats(1).idle_ns;
  pause_ms(50);
  EXPECT_LT(dev.polls.load() - polls, 20u);
  EXPECT_GT(core_stats(1).idle_ns, idle_before);

  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(eventually([&] { return dev.interrupt_enabled.load(); })) << "round " << i;
    if (dev.publish()) dev.interrupt();
    ASSERT_TRUE(eventually([&] { return dev.taken.load() == i; })) << "round " << i;
  }
  EXPECT_TRUE(runtime.run_on(1, [&] { return remove_idle_handler(*id); }).value());
}

// Core 0 shares the boot CPU with the owner (this test): armed and
// asleep, it still gives the owner its turns (the waits here end), and
// its work is taken. The interrupt to its own MSI target, raised by the
// owner on that CPU with interrupts off, waits in the IRR until core 0's
// next `sti; hlt`, which it ends at once: harmless. (Here core 0 would
// take the work without it too: it polls after every turn of the owner.)
TEST(DeviceInterrupts, ArmedCoreZeroLetsTheOwnerRunAndWakesForItsDevice) {
  FakeDevice dev;
  Runtime runtime({.cores = 1});
  Result<MsiTarget> target = msi_for_core(0);
  ASSERT_TRUE(target.ok());
  dev.target = *target;
  Result<IdleHandlerId> id = runtime.run_on(0, [&dev] { return dev.install(); });
  ASSERT_TRUE(id.ok());
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(eventually([&] { return dev.interrupt_enabled.load(); })) << "round " << i;
    if (dev.publish()) dev.interrupt();
    ASSERT_TRUE(eventually([&] { return dev.taken.load() == i; })) << "round " << i;
  }
  EXPECT_TRUE(runtime.run_on(0, [&] { return remove_idle_handler(*id); }).value());
}

}  // namespace
}  // namespace ebb::native
