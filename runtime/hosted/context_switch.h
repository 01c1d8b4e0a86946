#pragma once
// Hosted context switches: Boost.Context's raw fcontext (saves the
// callee-saved registers and swaps the stack pointer), with the sanitizers
// told about every switch. Included only through runtime/platform_switch.h.

#include <boost/context/detail/fcontext.hpp>
#include <cstddef>

#include "runtime/compiler.h"
#include "runtime/platform.h"

#if EBB_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if EBB_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace ebb::platform {

struct Stack {
  void* mapping;
  std::size_t mapping_bytes;
  void* bottom;  // lowest usable address (just above the guard page)
  std::size_t bytes;
  ContextEntry entry = nullptr;
  void* entry_arg = nullptr;
  void* tsan_fiber = nullptr;
};

namespace detail {

// Passed through every jump: what the side that lands must do first.
struct SwitchRecord {
  Context* save;   // where to store the suspended side's handle (null: abandoned)
  Stack* release;  // a stack the switching side is done with
  Stack* target;   // the stack being switched to (null: the thread's own)
};

inline Stack* land(boost::context::detail::transfer_t t) {
  auto* record = static_cast<SwitchRecord*>(t.data);
  if (record->save != nullptr) record->save->handle = t.fctx;
  return record->release;
}

// The calling thread's own stack and TSan fiber (sanitizer builds only).
const void* thread_stack_bottom();
std::size_t thread_stack_bytes();
void* thread_tsan_fiber();

}  // namespace detail

EBB_ALWAYS_INLINE Stack* switch_to(Context* save, const Context& target, Stack* release) {
  detail::SwitchRecord record{save, release, target.stack};
#if EBB_ASAN
  void* fake_stack = nullptr;
  const void* bottom = target.stack != nullptr ? target.stack->bottom : detail::thread_stack_bottom();
  const std::size_t bytes =
      target.stack != nullptr ? target.stack->bytes : detail::thread_stack_bytes();
  __sanitizer_start_switch_fiber(save != nullptr ? &fake_stack : nullptr, bottom, bytes);
#endif
#if EBB_TSAN
  __tsan_switch_to_fiber(
      target.stack != nullptr ? target.stack->tsan_fiber : detail::thread_tsan_fiber(), 0);
#endif
  const boost::context::detail::transfer_t t =
      boost::context::detail::jump_fcontext(target.handle, &record);
#if EBB_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  return detail::land(t);
}

// Every core has its thread to itself.
EBB_ALWAYS_INLINE void share_turn(CoreId) {}

}  // namespace ebb::platform
