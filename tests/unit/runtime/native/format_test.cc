// The native image's printf formatter (runtime/native/format.cc), built for
// the host too and checked against glibc's snprintf case by case, including
// truncation and the length it reports.

#include "runtime/native/format.h"

#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ebb::native {
namespace {

int ours(char* out, std::size_t size, const char* f, ...) {
  va_list args;
  va_start(args, f);
  const int n = format(out, size, f, args);
  va_end(args);
  return n;
}

// Formats with both and compares text and length, at full size and cut short.
#define EXPECT_SAME(...)                                                              \
  do {                                                                                \
    char theirs_text[256], ours_text[256];                                            \
    const int theirs_n = std::snprintf(theirs_text, sizeof theirs_text, __VA_ARGS__); \
    const int ours_n = ours(ours_text, sizeof ours_text, __VA_ARGS__);                \
    EXPECT_EQ(ours_n, theirs_n) << #__VA_ARGS__;                                      \
    EXPECT_STREQ(ours_text, theirs_text) << #__VA_ARGS__;                             \
    char theirs_short[5], ours_short[5];                                              \
    std::snprintf(theirs_short, sizeof theirs_short, __VA_ARGS__);                    \
    ours(ours_short, sizeof ours_short, __VA_ARGS__);                                 \
    EXPECT_STREQ(ours_short, theirs_short) << #__VA_ARGS__;                           \
  } while (0)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-truncation"

TEST(NativeFormat, IntegersLikeGlibc) {
  for (long long v : {0LL, 1LL, -1LL, 42LL, -42LL, 2147483647LL, -2147483648LL, 9223372036854775807LL,
                      -9223372036854775807LL - 1}) {
    EXPECT_SAME("%lld", v);
    EXPECT_SAME("[%8lld]", v);
    EXPECT_SAME("[%-8lld]", v);
    EXPECT_SAME("[%08lld]", v);
    EXPECT_SAME("[%+lld]", v);
    EXPECT_SAME("[% lld]", v);
    EXPECT_SAME("[%.5lld]", v);
    EXPECT_SAME("[%10.4lld]", v);
    EXPECT_SAME("[%llx|%llX|%#llx|%llo|%#llo]", v, v, v, v, v);
    EXPECT_SAME("%d|%i", static_cast<int>(v), static_cast<int>(v));
    EXPECT_SAME("%u|%x", static_cast<unsigned>(v), static_cast<unsigned>(v));
    EXPECT_SAME("%hhd|%hd|%hhu|%hu", static_cast<int>(v), static_cast<int>(v), static_cast<int>(v),
                static_cast<int>(v));
  }
  EXPECT_SAME("%zu %zd %ju %td", std::size_t{123456789012}, static_cast<ssize_t>(-5),
              uintmax_t{7}, ptrdiff_t{-9});
  EXPECT_SAME("[%.0d][%.0x][%5.0d]", 0, 0, 0);
  EXPECT_SAME("[%*d][%-*d][%.*d]", 6, 42, 6, 42, 4, 42);
  EXPECT_SAME("[%*d]", -6, 42);
}

TEST(NativeFormat, TextCharactersAndPointers) {
  EXPECT_SAME("%s|%10s|%-10s|%.2s|%5.1s", "hello", "hi", "hi", "hello", "hello");
  EXPECT_SAME("%c%c%c|%3c|%-3c|", 'a', 'b', 'c', 'x', 'y');
  EXPECT_SAME("100%% sure");
  int x = 0;
  EXPECT_SAME("%p", static_cast<void*>(&x));
  EXPECT_SAME("%p", static_cast<void*>(nullptr));
  EXPECT_SAME("%20p|%-20p|", static_cast<void*>(&x), static_cast<void*>(&x));
  EXPECT_SAME("%s", "");
  EXPECT_SAME("no conversions at all");
}

TEST(NativeFormat, FixedPoint) {
  for (double v : {0.0, 1.0, -1.5, 3.14159265, 2.5, 0.125, 1234567.891, 0.999999, 99.995, 1e15}) {
    EXPECT_SAME("%f", v);
    EXPECT_SAME("%.2f", v);
    EXPECT_SAME("%.0f|%#.0f", v, v);
    EXPECT_SAME("[%10.3f][%-10.1f][%010.2f][%+.1f]", v, v, v, v);
  }
}

TEST(NativeFormat, TruncatesAndReportsTheFullLength) {
  char out[8];
  EXPECT_EQ(ours(out, sizeof out, "%s-%d", "abcdef", 12345), 12);
  EXPECT_STREQ(out, "abcdef-");
  EXPECT_EQ(ours(out, 1, "%d", 99), 2);
  EXPECT_STREQ(out, "");
  EXPECT_EQ(ours(nullptr, 0, "%d", 1234), 4);  // measuring only
}

#pragma GCC diagnostic pop

}  // namespace
}  // namespace ebb::native
