// The gtest main of every test binary.

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Death tests re-run the test in a fresh process: safe with the runtime's
  // threads (the default "fast" style forks a threaded process).
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  return RUN_ALL_TESTS();
}
