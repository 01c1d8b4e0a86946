#pragma once
// Blocking inside an event.
//
// Every event runs on a pooled fiber stack, so an event may block: park()
// suspends it and the core goes on running other events; unpark() (from any
// core or thread) queues its resumption on the core it parked on. The core's
// loop hops to another pooled stack while an event is parked, as in EbbRT, so
// an event that never blocks pays no context switch at all.
//
// park() and yield() are inline: the switch then sits in the caller's own
// frame, and the event resumes with no return to unwind across stacks (each
// such return is a mispredicted branch; see runtime/platform_switch.h).

#include "runtime/core.h"
#include "runtime/platform_switch.h"

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
  // yield(): resume once the core's local queue has run past this position;
  // the core's yielders wait in a FIFO linked through next_yielder_.
  uint64_t resume_at_ = 0;
  EventContext* next_yielder_ = nullptr;
  // On its own core only: the resume event checks it, so a second unpark is
  // caught there without a locked instruction on the unparking core.
  bool parked_ = false;
};

namespace detail {
struct ParkPlan {
  platform::Context* save;  // where the parked event's context goes
  platform::Context next;   // the loop that carries on meanwhile
};
// The out-of-line halves of park() and yield(): before the switch (checks,
// bookkeeping, choosing the loop that carries on, and for a yield joining the
// core's yielders) and after it (the pool takes back the stack the resumer
// handed over).
ParkPlan prepare_park(EventContext& context, bool yielding);
void finish_park(platform::Stack* released);
}  // namespace detail

// Suspends the running event until unpark(context). On a core only; not from
// an idle handler.
inline void park(EventContext& context) {
  const detail::ParkPlan plan = detail::prepare_park(context, false);
  detail::finish_park(platform::switch_to(plan.save, plan.next, nullptr));
}
// Resumes a parked event on its own core. Any thread; once per park().
void unpark(EventContext& context);
// Lets the events queued so far run, then continues (before any events they
// queue). On a core only.
inline void yield() {
  EventContext context;
  const detail::ParkPlan plan = detail::prepare_park(context, true);
  detail::finish_park(platform::switch_to(plan.save, plan.next, nullptr));
}

}  // namespace ebb
