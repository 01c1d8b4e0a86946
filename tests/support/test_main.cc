// The gtest main of every test binary.

#include <gtest/gtest.h>

// Under ASan and TSan an allocation the system cannot satisfy returns null, as
// it does without them: tests check that running out is an Error, not a crash.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
extern "C" const char* __tsan_default_options() { return "allocator_may_return_null=1"; }

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Death tests re-run the test in a fresh process: safe with the runtime's
  // threads (the default "fast" style forks a threaded process).
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  return RUN_ALL_TESTS();
}
