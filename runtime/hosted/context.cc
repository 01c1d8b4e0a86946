// Fiber stacks and context switches for hosted: mmap'd stacks with a guard
// page, switched with Boost.Context's raw fcontext (a handful of instructions
// that save callee-saved registers and swap the stack pointer).
//
// Sanitizers must be told about every switch: ASan keeps shadow state per
// stack and TSan models each context as a fiber.

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdint>
#include <pthread.h>

#include "runtime/compiler.h"
#include "runtime/panic.h"
#include "runtime/platform.h"

#if EBB_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if EBB_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace ebb::platform {

namespace fctx = boost::context::detail;

struct Stack {
  void* mapping;
  std::size_t mapping_bytes;
  void* bottom;  // lowest usable address (just above the guard page)
  std::size_t bytes;
  ContextEntry entry = nullptr;
  void* entry_arg = nullptr;
  void* tsan_fiber = nullptr;
};

namespace {

// Passed through every jump: what the side that lands must do first.
struct SwitchRecord {
  Context* save;   // where to store the suspended side's handle (null: abandoned)
  Stack* release;  // a stack the switching side is done with
  Stack* target;   // the stack being switched to (null: the thread's own)
};

#if EBB_ASAN
// The thread's own stack, for ASan's bookkeeping of switches back to it.
thread_local const void* tls_thread_stack_bottom = nullptr;
thread_local std::size_t tls_thread_stack_bytes = 0;

void learn_thread_stack() {
  if (tls_thread_stack_bottom != nullptr) return;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* addr = nullptr;
  std::size_t size = 0;
  pthread_attr_getstack(&attr, &addr, &size);
  tls_thread_stack_bottom = addr;
  tls_thread_stack_bytes = size;
  pthread_attr_destroy(&attr);
}
#endif

#if EBB_TSAN
thread_local void* tls_thread_tsan_fiber = nullptr;
#endif

Stack* land(fctx::transfer_t t) {
  auto* record = static_cast<SwitchRecord*>(t.data);
  if (record->save != nullptr) record->save->handle = t.fctx;
  return record->release;
}

// First code to run on a fresh context.
[[noreturn]] void trampoline(fctx::transfer_t t) {
#if EBB_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  Stack* self = static_cast<SwitchRecord*>(t.data)->target;
  Stack* released = land(t);
  self->entry(self->entry_arg, released);
  panic("a context's entry function returned");
}

}  // namespace

Stack* stack_create(std::size_t bytes) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  bytes = (bytes + page - 1) / page * page;
  const std::size_t total = bytes + page;  // guard page below the stack
  void* mapping = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
  if (mapping == MAP_FAILED) return nullptr;
  if (mprotect(mapping, page, PROT_NONE) != 0) {
    munmap(mapping, total);
    return nullptr;
  }
  auto* stack = new Stack{mapping, total, static_cast<char*>(mapping) + page, bytes};
  return stack;
}

void stack_destroy(Stack* stack) {
  if (stack == nullptr) return;
#if EBB_TSAN
  if (stack->tsan_fiber != nullptr) __tsan_destroy_fiber(stack->tsan_fiber);
#endif
  munmap(stack->mapping, stack->mapping_bytes);
  delete stack;
}

Context make_context(Stack* stack, ContextEntry entry, void* arg) {
  stack->entry = entry;
  stack->entry_arg = arg;
#if EBB_ASAN
  // The stack may have been abandoned mid-call: clear the old frames' poison.
  ASAN_UNPOISON_MEMORY_REGION(stack->bottom, stack->bytes);
#endif
#if EBB_TSAN
  if (stack->tsan_fiber != nullptr) __tsan_destroy_fiber(stack->tsan_fiber);
  stack->tsan_fiber = __tsan_create_fiber(0);
#endif
  void* top = static_cast<char*>(stack->bottom) + stack->bytes;
  return Context{fctx::make_fcontext(top, stack->bytes, &trampoline), stack};
}

Stack* switch_to(Context* save, const Context& target, Stack* release) {
  SwitchRecord record{save, release, target.stack};
#if EBB_ASAN
  learn_thread_stack();
  void* fake_stack = nullptr;
  const void* bottom = target.stack != nullptr ? target.stack->bottom : tls_thread_stack_bottom;
  const std::size_t bytes = target.stack != nullptr ? target.stack->bytes : tls_thread_stack_bytes;
  __sanitizer_start_switch_fiber(save != nullptr ? &fake_stack : nullptr, bottom, bytes);
#endif
#if EBB_TSAN
  if (tls_thread_tsan_fiber == nullptr) tls_thread_tsan_fiber = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(target.stack != nullptr ? target.stack->tsan_fiber : tls_thread_tsan_fiber,
                         0);
#endif
  const fctx::transfer_t t = fctx::jump_fcontext(target.handle, &record);
#if EBB_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  return land(t);
}

}  // namespace ebb::platform
