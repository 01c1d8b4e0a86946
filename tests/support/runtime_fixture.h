#pragma once
// RuntimeFixture: a test that runs on a fresh runtime of its own.

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "runtime/runtime.h"

namespace ebb::testing {

// In a native image a core needs a CPU of its own: a test that makes its
// own Runtime of n cores is skipped where there are too few (hosted runs
// any number of cores).
#if defined(EBB_PLATFORM_NATIVE)
#define EBB_NEEDS_CORES(n)                                 \
  if ((n) > ::ebb::Runtime::available_cpus()) {            \
    GTEST_SKIP() << (n) << " cores need " << (n) << " CPUs"; \
  }
#else
#define EBB_NEEDS_CORES(n) static_cast<void>(0)
#endif

class RuntimeFixture : public ::testing::Test {
 protected:
  void start(uint32_t cores, int64_t idle_spin_ns = -1) {
    EBB_NEEDS_CORES(cores);
    RuntimeOptions options;
    options.cores = cores;
    options.idle_spin_ns = idle_spin_ns;
    runtime_ = std::make_unique<Runtime>(options);
  }
  void stop() { runtime_.reset(); }
  void TearDown() override { stop(); }

  Runtime& runtime() { return *runtime_; }

  // Runs fn on `core` and returns what it returns, as Runtime::run_on does
  // (an Error or a Result from fn comes back as the Result's error).
  template <class F>
  auto on_core(CoreId core, F&& fn) {
    return runtime_->run_on(core, std::forward<F>(fn));
  }

  // Runs fn on `core` for its effects; any error fails the test.
  template <class F>
  void run(CoreId core, F&& fn) {
    auto result = runtime_->run_on(core, std::forward<F>(fn));
    EXPECT_TRUE(result.ok()) << "run_on(" << core << ") failed";
  }

  std::unique_ptr<Runtime> runtime_;
};

// For tests that repeat over core counts, including more cores than CPUs.
class CoresFixture : public RuntimeFixture, public ::testing::WithParamInterface<uint32_t> {
 protected:
  void SetUp() override { start(GetParam()); }
  uint32_t cores() const { return GetParam(); }
};

inline std::string CoresName(const ::testing::TestParamInfo<uint32_t>& info) {
  return std::to_string(info.param) + "cores";
}

}  // namespace ebb::testing
