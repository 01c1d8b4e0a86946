// ebb-tests.elf: runs the in-image tests; the kernel command line takes
// gtest's --gtest_filter=PATTERN. Exit code 0 when every test passed.

#include <cstring>

#include "gtest/gtest.h"
#include "runtime/native/power.h"

int main(int argc, char** argv) {
  const char* filter = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--gtest_filter=", 15) == 0) filter = argv[i] + 15;
  }
  return ::testing::internal::run_all_tests(filter) == 0 ? ebb::native::kExitPassed : ebb::native::kExitFailed;
}
