#pragma once
// A broken invariant stops the process with a message, the core and a backtrace.
// Expected failures (bad input, a dead peer, exhaustion) are Errors instead.

#include "runtime/compiler.h"

namespace ebb {

[[noreturn]] EBB_COLD void panic(const char* format, ...) __attribute__((format(printf, 1, 2)));

namespace detail {
[[noreturn]] EBB_COLD void check_failed(const char* file, int line, const char* condition,
                                        const char* format, ...)
    __attribute__((format(printf, 4, 5)));
}  // namespace detail

}  // namespace ebb

// EBB_CHECK(condition, "printf format", args...): always on.
#define EBB_CHECK(condition, ...)                                                      \
  do {                                                                                 \
    if (EBB_UNLIKELY(!(condition)))                                                    \
      ::ebb::detail::check_failed(__FILE__, __LINE__, #condition, __VA_ARGS__);        \
  } while (0)

// EBB_DCHECK: on in debug and sanitizer builds, compiled out (but still parsed)
// in release.
#ifdef NDEBUG
#define EBB_DCHECK(condition, ...) \
  do {                             \
    if (false) (void)(condition);  \
  } while (0)
#else
#define EBB_DCHECK(condition, ...) EBB_CHECK(condition, __VA_ARGS__)
#endif
