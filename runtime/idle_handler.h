#pragma once
// Idle handlers: pollers that a core runs on every turn of its loop (drivers
// poll devices here). A handler returns true when it found work. A handler
// must not block (park); it may queue events instead.
//
// Polling under load, interrupts when idle. A handler added without an arm
// hook keeps its core polling for as long as it is there: the core never
// sleeps. A handler with one lets the core sleep: when the core runs out of
// work it spins for a while (idle_spin_ns, calling the pollers, so that
// latency under load stays polling-grade), then calls every handler's arm
// hook and sleeps only if all of them return false. arm() enables the
// device's interrupt (or whatever will wake the core) and returns true when
// work already waits; then the core loops again instead of sleeping. The
// core sleeps only when every handler it has was added with an arm hook.
// After waking it polls again; whether poll() disables the interrupt again
// or leaves it on is the driver's business.
//
// What ends the sleep: natively, the device's interrupt aimed at the core
// (runtime/native/interrupts.h: msi_for_core), whose handler only
// acknowledges it; the halted CPU wakes and the loop polls. Anywhere else
// (hosted, or a thread or core that makes a device's work visible by
// itself), whoever makes the work visible calls wake_core_for_device(core)
// afterwards, as the interrupt would. Armed handlers also run no arm hook
// while the runtime drains: then idle handlers do not run at all.

#include <cstdint>

#include "runtime/core.h"
#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb {

using IdleHandlerId = uint64_t;

// Adds a handler to the calling core: `poll` runs on every turn of the
// loop; `arm`, when given, before the core sleeps (see above). Both run on
// the calling core. Errc::kNotOnCore off a core.
Result<IdleHandlerId> add_idle_handler(Function<bool()> poll, Function<bool()> arm = {});
// Removes a handler of the calling core (it may be the running one). True
// when it was there.
bool remove_idle_handler(IdleHandlerId id);

// Ends `core`'s sleep (or keeps it from starting one) so that it polls its
// idle handlers again. Any thread or core; call it after making the work
// visible (it orders that store before its look at the core). Does nothing
// for a core that does not exist or while no runtime runs. Natively a
// device's interrupt does the same by itself (runtime/native/interrupts.h).
void wake_core_for_device(CoreId core);

}  // namespace ebb
