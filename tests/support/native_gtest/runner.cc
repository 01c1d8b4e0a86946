// The in-image test runner: runs every registered test (or those that
// --gtest_filter names) and prints GoogleTest's lines, so that a log reads
// the same from either platform and the host's tools parse it alike.

#include <cstdio>
#include <cstring>

#include "gtest/gtest.h"
#include "runtime/native/serial.h"
#include "runtime/platform.h"

namespace testing::internal {
namespace {

struct Registered {
  const char* suite;
  const char* name;
  Test* (*make)();
  const void* param;
};
constexpr int kMaxTests = 4096;
Registered g_tests[kMaxTests];
int g_test_count = 0;

bool g_failed = false;        // the running test
bool g_fatal_failure = false;
bool g_skipped = false;

// Over serial, as every line of the image (no allocation, so a test that
// exhausts memory still gets its report).
constexpr auto print = ebb::native::serial_printf;

// gtest's filter: patterns with * and ?, separated by ':', negatives after '-'.
bool glob(const char* pattern, const char* pattern_end, const char* text) {
  if (pattern == pattern_end) return *text == '\0';
  if (*pattern == '*') return glob(pattern + 1, pattern_end, text) || (*text != '\0' && glob(pattern, pattern_end, text + 1));
  if (*text == '\0') return false;
  return (*pattern == '?' || *pattern == *text) && glob(pattern + 1, pattern_end, text + 1);
}
bool matches_any(const char* patterns, const char* end, const char* name) {
  while (patterns < end) {
    const char* stop = patterns;
    while (stop < end && *stop != ':') ++stop;
    if (glob(patterns, stop, name)) return true;
    patterns = stop + 1;
  }
  return false;
}
bool selected(const char* filter, const char* full_name) {
  if (filter == nullptr) return true;
  const char* minus = std::strchr(filter, '-');
  const char* positive_end = minus != nullptr ? minus : filter + std::strlen(filter);
  const bool positive = positive_end == filter || matches_any(filter, positive_end, full_name);
  const bool negative = minus != nullptr && matches_any(minus + 1, minus + std::strlen(minus), full_name);
  return positive && !negative;
}

}  // namespace

Message& Message::append(const char* text, std::size_t n) {
  for (std::size_t i = 0; i < n && length_ + 1 < sizeof text_; ++i) text_[length_++] = text[i];
  text_[length_] = '\0';
  return *this;
}
Message& Message::operator<<(const char* text) {
  return text == nullptr ? append("(null)", 6) : append(text, std::strlen(text));
}
Message& Message::signed_value(long long v) {
  char text[32];
  return append(text, static_cast<std::size_t>(snprintf(text, sizeof text, "%lld", v)));
}
Message& Message::unsigned_value(unsigned long long v) {
  char text[32];
  return append(text, static_cast<std::size_t>(snprintf(text, sizeof text, "%llu", v)));
}
Message& Message::operator<<(double v) {
  char text[48];
  return append(text, static_cast<std::size_t>(snprintf(text, sizeof text, "%f", v)));
}
Message& Message::operator<<(const void* p) {
  char text[32];
  return append(text, static_cast<std::size_t>(snprintf(text, sizeof text, "%p", p)));
}

Check compare_strings(bool want_equal, const char* a_text, const char* b_text, const char* a, const char* b) {
  const bool equal = (a == nullptr || b == nullptr) ? a == b : std::strcmp(a, b) == 0;
  Check c{equal == want_equal, {}};
  if (!c.ok)
    c.text << "Expected: (" << a_text << ") " << (want_equal ? "==" : "!=") << " (" << b_text
           << "), actual: \"" << a << "\" vs \"" << b << "\"";
  return c;
}

Check check_bool(bool value, bool expected, const char* text) {
  Check c{value == expected, {}};
  if (!c.ok) c.text << "Value of: " << text << "\n  Actual: " << value << "\nExpected: " << expected;
  return c;
}

Check failure() {
  Check c{false, {}};
  c.text << "Failed";
  return c;
}

void AssertHelper::operator=(const Message& extra) const {
  g_failed = true;
  if (fatal_) g_fatal_failure = true;
  print("%s:%d: Failure\n%s\n", file_, line_, what_.text());
  if (extra.text()[0] != '\0') print("%s\n", extra.text());
}

void SkipHelper::operator=(const Message& why) const {
  g_skipped = true;
  print("%s:%d: Skipped\n%s\n", file_, line_, why.text());
}

int register_test(const char* suite, const char* name, Test* (*make)(), const void* param) {
  if (g_test_count == kMaxTests) {
    print("test runner: more than %d tests\n", kMaxTests);
    return -1;
  }
  g_tests[g_test_count] = {suite, name, make, param};
  return g_test_count++;
}

namespace {
constexpr int kMaxExpanders = 256;
void (*g_expanders[kMaxExpanders])();
int g_expander_count = 0;
}  // namespace

int register_expander(void (*expand)()) {
  if (g_expander_count < kMaxExpanders) g_expanders[g_expander_count++] = expand;
  return 0;
}

char* keep_string(const std::string& text) {
  char* kept = new char[text.size() + 1];
  std::memcpy(kept, text.c_str(), text.size() + 1);
  return kept;
}

bool has_fatal_failure() { return g_fatal_failure; }

void death_test_not_run(const char* file, int line) {
  print("%s:%d: a death test, not run in the image (it runs on hosted)\n", file, line);
}

// Runs the selected tests; returns how many failed.
int run_all_tests(const char* filter) {
  for (int i = 0; i < g_expander_count; ++i) g_expanders[i]();
  g_expander_count = 0;
  int selected_count = 0, suites = 0;
  const char* last_suite = nullptr;
  for (int i = 0; i < g_test_count; ++i) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", g_tests[i].suite, g_tests[i].name);
    if (!selected(filter, full)) continue;
    ++selected_count;
    if (last_suite == nullptr || std::strcmp(last_suite, g_tests[i].suite) != 0) ++suites;
    last_suite = g_tests[i].suite;
  }
  if (filter != nullptr) print("Note: Google Test filter = %s\n", filter);
  print("[==========] Running %d tests from %d test suites.\n", selected_count, suites);
  const uint64_t start = ebb::platform::now_ns();
  int passed = 0, skipped = 0;
  static const Registered* failed[kMaxTests];
  int failed_count = 0;
  for (int i = 0; i < g_test_count; ++i) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", g_tests[i].suite, g_tests[i].name);
    if (!selected(filter, full)) continue;
    print("[ RUN      ] %s\n", full);
    g_failed = g_fatal_failure = g_skipped = false;
    const uint64_t t0 = ebb::platform::now_ns();
    g_current_param = g_tests[i].param;
    Test* test = g_tests[i].make();
    test->SetUp();
    if (!g_fatal_failure && !g_skipped) test->TestBody();
    test->TearDown();
    delete test;
    const unsigned long long ms = (ebb::platform::now_ns() - t0) / 1'000'000;
    if (g_failed) {
      print("[  FAILED  ] %s (%llu ms)\n", full, ms);
      failed[failed_count++] = &g_tests[i];
    } else if (g_skipped) {
      print("[  SKIPPED ] %s (%llu ms)\n", full, ms);
      ++skipped;
    } else {
      print("[       OK ] %s (%llu ms)\n", full, ms);
      ++passed;
    }
  }
  print("[==========] %d tests from %d test suites ran. (%llu ms total)\n", selected_count, suites,
        static_cast<unsigned long long>((ebb::platform::now_ns() - start) / 1'000'000));
  print("[  PASSED  ] %d tests.\n", passed);
  if (skipped > 0) print("[  SKIPPED ] %d tests.\n", skipped);
  if (failed_count > 0) {
    print("[  FAILED  ] %d tests, listed below:\n", failed_count);
    for (int i = 0; i < failed_count; ++i) {
      print("[  FAILED  ] %s.%s\n", failed[i]->suite, failed[i]->name);
    }
    print("\n %d FAILED TESTS\n", failed_count);
  }
  return failed_count;
}

}  // namespace testing::internal
