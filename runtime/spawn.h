#pragma once
// Events: the unit of work on a core. An event runs to completion on one core
// (or blocks; see fiber.h); nothing preempts it.

#include "runtime/core.h"
#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb {

using Event = Function<void()>;

// Queues fn on the calling core, after the events already queued there.
// On a core only (a panic names the caller otherwise).
void spawn_local(Event fn);

// Queues fn on `core`; from any thread. Events from one sender to one core run
// in the order sent. Errors: Errc::kNoSuchCore, Errc::kShuttingDown (a thread
// that is not a core, once shutdown has begun).
Status spawn_remote(CoreId core, Event fn);

// Like spawn_remote, but does not wake `core` if it sleeps: fn runs when the
// core next runs for any other reason (at the latest when the runtime drains
// for shutdown). For work that only that core's own activity needs, such as
// handing back memory it allocated: a sleeping core allocates nothing.
// From a core only (Errc::kNotOnCore otherwise).
Status spawn_remote_lazy(CoreId core, Event fn);

// True while the runtime runs normally: not stopped, and not shutting down.
bool runtime_running();

// Runs fn as the first event of every core of every runtime started from
// now on (for services that must be in place before anything else runs on a
// core; set up before main). A runtime's start returns once every core has
// run its hooks, so work from outside always finds them done. At most 8.
void run_on_every_core_start(void (*fn)());

// Queues a copy of fn on every core (this one included).
template <class F>
Status spawn_on_all(const F& fn) {
  const uint32_t cores = num_cores();
  if (cores == 0) return Error(Errc::kShuttingDown, "spawn_on_all: no runtime is running");
  for (CoreId core = 0; core < cores; ++core) {
    Status sent = spawn_remote(core, Event(F(fn)));
    if (!sent) return sent;
  }
  return {};
}

}  // namespace ebb
