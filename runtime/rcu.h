#pragma once
// Read-copy-update, quiescent-state based.
//
// A core is quiescent between events. Readers take no lock and execute no
// barrier: inside an event they just load an RCU-protected pointer and use it.
// A writer unpublishes the object and hands its reclamation to call_rcu,
// which runs once every core has finished the events that were running when
// it was called (a grace period). A sleeping core is quiescent throughout.
//
// Rule for readers: do not keep an RCU-protected pointer across a blocking
// call (park, Future::block, co_await). A parked event does not hold up grace
// periods, exactly like sleeping inside rcu_read_lock is not allowed in Linux.

#include <atomic>
#include <cstdint>

#include "runtime/core.h"
#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb {

// Runs fn as an event on this core after a grace period. On a core only.
void call_rcu(Function<void()> fn);
// Blocks the calling event until a grace period has passed.
// Errc::kNotOnCore off a core.
Status synchronize_rcu();

namespace rcu::detail {
// The event loop's hooks.
void start(uint32_t cores);
void stop();  // runs callbacks still waiting (no reader is left)
void quiescent(CoreId core);
void enter_idle(CoreId core);
void exit_idle(CoreId core);
bool has_pending(CoreId core);
}  // namespace rcu::detail

}  // namespace ebb
