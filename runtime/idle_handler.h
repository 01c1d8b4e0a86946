#pragma once
// Idle handlers: pollers that a core runs on every turn of its loop (drivers
// poll devices here). A handler returns true when it found work. A core with
// idle handlers polls instead of sleeping, so remove them when not needed.
// A handler must not block (park); it may queue events instead.

#include <cstdint>

#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb {

using IdleHandlerId = uint64_t;

// Adds a handler to the calling core. Errc::kNotOnCore off a core.
Result<IdleHandlerId> add_idle_handler(Function<bool()> handler);
// Removes a handler of the calling core (it may be the running one). True
// when it was there.
bool remove_idle_handler(IdleHandlerId id);

}  // namespace ebb
