#pragma once
// Compiler hints shared by every component.

#include <cstddef>

#define EBB_LIKELY(x) __builtin_expect(!!(x), 1)
#define EBB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define EBB_ALWAYS_INLINE [[gnu::always_inline]] inline
#define EBB_NOINLINE [[gnu::noinline]]
// Fault paths and error reports: out of line, and out of the hot text.
#define EBB_COLD [[gnu::cold, gnu::noinline]]

// gcc says __SANITIZE_*__; clang (the fuzzers) answers __has_feature.
#if defined(__has_feature)
#define EBB_HAS_FEATURE(x) __has_feature(x)
#else
#define EBB_HAS_FEATURE(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || EBB_HAS_FEATURE(address_sanitizer)
#define EBB_ASAN 1
#else
#define EBB_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__) || EBB_HAS_FEATURE(thread_sanitizer)
#define EBB_TSAN 1
#else
#define EBB_TSAN 0
#endif

namespace ebb {
inline constexpr std::size_t kCacheLine = 64;
}  // namespace ebb
