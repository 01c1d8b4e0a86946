#pragma once
// Blocking inside an event.
//
// Every event runs on a pooled fiber stack, so an event may block: park()
// suspends it and the core goes on running other events; unpark() (from any
// core or thread) queues its resumption on the core it parked on. The core's
// loop hops to another pooled stack while an event is parked, as in EbbRT, so
// an event that never blocks pays no context switch at all.

#include "runtime/core.h"
#include "runtime/platform.h"

namespace ebb {

namespace detail {
struct FiberAccess;
}

// A parked event. Lives on the parked event's own stack (it is typically a
// local of the function that parks), so it stays valid while parked.
class EventContext {
 public:
  // Made on the core that will park it.
  EventContext() : core_(this_core()) {}
  EventContext(const EventContext&) = delete;
  EventContext& operator=(const EventContext&) = delete;

  // The core it parks on.
  CoreId core() const { return core_; }

 private:
  friend struct detail::FiberAccess;
  platform::Context context_;
  CoreId core_;
  // On its own core only: the resume event checks it, so a second unpark is
  // caught there without a locked instruction on the unparking core.
  bool parked_ = false;
};

// Suspends the running event until unpark(context). On a core only; not from
// an idle handler.
void park(EventContext& context);
// Resumes a parked event on its own core. Any thread; once per park().
void unpark(EventContext& context);
// Lets the events queued so far run, then continues. On a core only.
void yield();

}  // namespace ebb
