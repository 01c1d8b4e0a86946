#pragma once
// The inline half of runtime/platform.h: the context switch itself.
//
// Switching stacks defeats the CPU's return-stack predictor: every function
// return executed after landing on the other stack, until the code reaches a
// frame that was not suspended, is mispredicted (about 17 ns per level per
// round trip on this machine; see docs/PERFORMANCE.md). So the switch is
// inlined into its callers: the event loop, and park() and yield()
// (runtime/fiber.h), which are inline in their callers in turn.
//
//   platform::Stack* switch_to(Context* save, const Context& target, Stack* release)
//     suspends the running execution into *save (null: abandoned for good) and
//     continues `target`, handing it `release`, a stack the switching side is
//     done with; returns, once something switches back to *save, the stack
//     that side handed over.
//
//   void share_turn(CoreId core)
//     called by a busy core between rounds of its loop: where a core shares
//     its CPU with the Runtime's owner (native core 0 on the boot CPU), the
//     owner's turn when it is due. Nothing on hosted.

#include "runtime/platform.h"

#if defined(EBB_PLATFORM_NATIVE)
#include "runtime/native/context_switch.h"
#else
#include "runtime/hosted/context_switch.h"
#endif
