#pragma once
// Native context switches: context.S saves the callee-saved registers on
// the running stack, stores the stack pointer where the suspending side
// asked, loads the target's, and returns there with the switching side's
// record (as Boost.Context's fcontext does on hosted). Included only
// through runtime/platform_switch.h.

#include <atomic>
#include <cstddef>

#include "runtime/compiler.h"
#include "runtime/platform.h"

namespace ebb::platform {

struct Stack {
  uint8_t* bottom;  // lowest usable address
  std::size_t bytes;
};

namespace detail {

// Passed through every switch: a stack the switching side is done with.
struct SwitchRecord {
  Stack* release;
};

}  // namespace detail
}  // namespace ebb::platform

// Saves the running context's stack pointer in *save, continues the context
// whose stack pointer is `target`, and returns (when something switches
// back) the record that side passed.
extern "C" void* ebb_native_switch(void** save, void* target, void* record);

namespace ebb::platform {

EBB_ALWAYS_INLINE Stack* switch_to(Context* save, const Context& target, Stack* release) {
  detail::SwitchRecord record{release};
  void* abandoned;  // the state of a context nothing will resume
  void** slot = save != nullptr ? &save->handle : &abandoned;
  auto* landed = static_cast<detail::SwitchRecord*>(ebb_native_switch(slot, target.handle, &record));
  return landed->release;
}

namespace detail {
// Set while core 0 shares the boot CPU with the Runtime's owner (cores.cc).
extern std::atomic<bool> g_core0_shares_boot_cpu;
void offer_owner_turn();
}  // namespace detail

// Core 0, busy on the boot CPU: the owner's turn when it is due.
EBB_ALWAYS_INLINE void share_turn(CoreId core) {
  if (core == 0 && detail::g_core0_shares_boot_cpu.load(std::memory_order_relaxed)) detail::offer_owner_turn();
}

}  // namespace ebb::platform
