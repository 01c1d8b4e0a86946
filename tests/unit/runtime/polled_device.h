#pragma once
// A device played by the idle-handler tests: work waits in `pending`;
// poll() takes it and disables the "interrupt"; arm() enables it and says
// whether work already waits. How the interrupt reaches the core is the
// test's: wake_core_for_device hosted (event_loop_test.cc), a real
// interrupt to the MSI target natively (native/interrupts_test.cc).

#include <atomic>
#include <cstdint>

#include "runtime/idle_handler.h"

namespace ebb::testing {

struct PolledDevice {
  std::atomic<int> pending{0};
  std::atomic<int> taken{0};
  std::atomic<bool> interrupt_enabled{false};
  std::atomic<uint64_t> polls{0};
  std::atomic<uint64_t> arms{0};
  bool arm_reports_work = false;  // arm() always says work waits

  bool poll() {
    polls++;
    const int n = pending.exchange(0);
    if (n == 0) return false;
    interrupt_enabled = false;
    taken += n;
    return true;
  }
  bool arm() {
    arms++;
    interrupt_enabled.store(true);  // seq_cst, as the loads below
    return arm_reports_work || pending.load() != 0;
  }
  // Publishes one piece of work; true when the interrupt was enabled (the
  // caller then delivers it, as the device would).
  bool publish() {
    pending.fetch_add(1);
    return interrupt_enabled.exchange(false);
  }
  IdleHandlerId install() {
    return add_idle_handler([this] { return poll(); }, [this] { return arm(); }).value();
  }
};

}  // namespace ebb::testing
