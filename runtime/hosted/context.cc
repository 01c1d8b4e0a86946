// Fiber stacks for hosted: mmap'd, with a guard page below each, and the
// first code a fresh context runs. The switch itself is inline
// (context_switch.h).

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/panic.h"
#include "runtime/platform_switch.h"

#if EBB_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace ebb::platform {

std::size_t default_stack_bytes() { return (EBB_ASAN || EBB_TSAN) ? 1024 * 1024 : 256 * 1024; }

namespace fctx = boost::context::detail;

namespace {

// First code to run on a fresh context.
[[noreturn]] void trampoline(fctx::transfer_t t) {
#if EBB_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  Stack* self = static_cast<detail::SwitchRecord*>(t.data)->target;
  Stack* released = detail::land(t);
  self->entry(self->entry_arg, released);
  panic("a context's entry function returned");
}

struct ThreadStack {
  const void* bottom = nullptr;
  std::size_t bytes = 0;
  void* tsan_fiber = nullptr;
};

// Learned on the thread's first switch away from its own stack (run_core
// switches into the loop before anything else).
ThreadStack& thread_stack() {
  static thread_local ThreadStack stack;
  if (stack.bottom == nullptr) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* addr = nullptr;
      std::size_t size = 0;
      pthread_attr_getstack(&attr, &addr, &size);
      stack.bottom = addr;
      stack.bytes = size;
      pthread_attr_destroy(&attr);
    }
#if EBB_TSAN
    stack.tsan_fiber = __tsan_get_current_fiber();
#endif
  }
  return stack;
}

}  // namespace

const void* detail::thread_stack_bottom() { return thread_stack().bottom; }
std::size_t detail::thread_stack_bytes() { return thread_stack().bytes; }
void* detail::thread_tsan_fiber() { return thread_stack().tsan_fiber; }

Stack* stack_create(std::size_t bytes) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  bytes = (bytes + page - 1) / page * page;
  const std::size_t total = bytes + page;  // the guard page sits below the stack
  void* mapping = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) return nullptr;
  if (mprotect(mapping, page, PROT_NONE) != 0) {
    munmap(mapping, total);
    return nullptr;
  }
  return new Stack{mapping, total, static_cast<char*>(mapping) + page, bytes};
}

void stack_destroy(Stack* stack) {
  if (stack == nullptr) return;
#if EBB_ASAN
  // Frames abandoned on this stack left their poison in ASan's shadow, which
  // outlives munmap: whatever is mapped here next (a thread's stack or TLS,
  // a heap region) would inherit it.
  ASAN_UNPOISON_MEMORY_REGION(stack->bottom, stack->bytes);
#endif
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
  thread_stack();  // learn the thread's fiber before its first switch away
  if (stack->tsan_fiber != nullptr) __tsan_destroy_fiber(stack->tsan_fiber);
  stack->tsan_fiber = __tsan_create_fiber(0);
#endif
  void* top = static_cast<char*>(stack->bottom) + stack->bytes;
  return Context{fctx::make_fcontext(top, stack->bytes, &trampoline), stack};
}

}  // namespace ebb::platform
