#pragma once
// A full memory barrier: stores before it are visible before loads after it
// (what a driver needs between publishing a ring and reading whether the
// device wants a notification, or before ringing its doorbell).

#include <atomic>

#include "runtime/compiler.h"

namespace ebb {

EBB_ALWAYS_INLINE void full_fence() {
#if EBB_TSAN
  // TSan does not model fences (gcc refuses them under -fsanitize=thread): a
  // seq_cst read-modify-write, a full barrier as well, stands in.
  static std::atomic<int> stand_in{0};
  stand_in.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace ebb
