#pragma once
// Per-core timers: one-shot and periodic, cancellable. A timer runs as an
// event on the core that added it (so its callback may block), never before
// its deadline. Timers that have not fired when the runtime shuts down are
// dropped.

#include <chrono>
#include <cstdint>

#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb {

// Names a timer on the core that added it. 0 is never a timer.
using TimerId = uint64_t;

// Runs fn once, `delay` from now. On a core only (Errc::kNotOnCore otherwise).
Result<TimerId> add_timer(std::chrono::nanoseconds delay, Function<void()> fn);
// Runs fn every `period` (at least 1 ns) until cancelled. A run that falls
// behind skips the periods it missed rather than firing in a burst.
Result<TimerId> add_periodic_timer(std::chrono::nanoseconds period, Function<void()> fn);
// Stops a timer. True when this prevented a run that was still to come: a
// one-shot timer not yet run, or any periodic timer. On the core that added it.
bool cancel_timer(TimerId id);

}  // namespace ebb
