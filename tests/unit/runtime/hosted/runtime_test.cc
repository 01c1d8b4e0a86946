#include "runtime/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "runtime/multicore_ebb.h"
#include "runtime/shared_ebb.h"
#include "runtime/static_ids.h"
#include "runtime/submit.h"

namespace ebb {
namespace {

TEST(Runtime, RunOnReturnsWhatTheEventReturns) {
  Runtime runtime({.cores = 2});
  EXPECT_EQ(runtime.cores(), 2u);
  EXPECT_EQ(num_cores(), 2u);
  Result<std::string> text = runtime.run_on(1, [] { return std::string("core ") + std::to_string(this_core()); });
  EXPECT_EQ(*text, "core 1");
  Status nothing = runtime.run_on(0, [] {});
  EXPECT_TRUE(nothing.ok());
  Result<int> bad = runtime.run_on(9, [] { return 1; });
  EXPECT_EQ(bad.error().code(), Errc::kNoSuchCore);
}

TEST(Runtime, DefaultsToEveryAvailableCpu) {
  Runtime runtime;
  EXPECT_EQ(runtime.cores(), Runtime::available_cpus());
  EXPECT_GE(runtime.cores(), 1u);
}

TEST(Runtime, MoreCoresThanCpus) {
  const uint32_t cores = Runtime::available_cpus() * 4;
  Runtime runtime({.cores = cores});
  auto seen = runtime.run_on(0, [] { return submit_to_all([] { return this_core(); }); });
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), cores);
  for (CoreId c = 0; c < cores; ++c) EXPECT_EQ((*seen)[c].value(), c);
}

TEST(Runtime, ShutdownIsIdempotentAndAnotherRuntimeMayFollow) {
  for (int i = 0; i < 5; ++i) {
    Runtime runtime({.cores = 2});
    EXPECT_EQ(runtime.run_on(1, [] { return 7; }).value(), 7);
    runtime.shutdown();
    runtime.shutdown();
    EXPECT_EQ(num_cores(), 0u);
  }
}

TEST(Runtime, WaitsForARequestedShutdown) {
  Runtime runtime({.cores = 2});
  std::atomic<bool> asked{false};
  ASSERT_TRUE(spawn_remote(1, [&] {
                asked = true;
                request_shutdown();
              }).ok());
  runtime.wait_for_shutdown_request();
  EXPECT_TRUE(asked.load());
  EXPECT_EQ(num_cores(), 0u);
}

// Teardown order: node-local Ebbs newest first, then static ones, so a
// destructor may still use anything made before it.
std::vector<std::string>* g_order = nullptr;
struct Named : SharedEbb<Named> {
  explicit Named(std::string n) : name(std::move(n)) {}
  Named() : name("static") {}
  ~Named() { g_order->push_back(name + (on_core() ? "" : " off-core")); }
  std::string name;
};

TEST(Runtime, ShutdownDestroysEbbsOnACoreNewestFirst) {
  std::vector<std::string> order;
  g_order = &order;
  {
    Runtime runtime({.cores = 2});
    static constexpr Ref<Named> kStatic(ids::kTestSharedId);
    ASSERT_TRUE(runtime.run_on(1, [] { return kStatic->name; }).ok());
    (void)Named::Create("first").value();
    (void)Named::Create("second").value();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"second", "first", "static"}));
  g_order = nullptr;
}

TEST(RuntimeDeathTest, TwoRuntimesAtOncePanic) {
  EXPECT_DEATH(
      {
        Runtime a({.cores = 1});
        Runtime b({.cores = 1});
      },
      "only one ebb::Runtime may exist at a time");
}

}  // namespace
}  // namespace ebb
