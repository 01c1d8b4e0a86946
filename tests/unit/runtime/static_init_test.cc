// A function-local static that several cores reach first at the same time
// is built once, and every core sees it built. Hosted, libstdc++'s guards
// see to it; native, the image's own (runtime/native/cxx.cc). Without them
// the cores that start together and fault the same Ebbs in each built the
// root registry, and so a page allocator of their own.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "runtime/platform.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::RuntimeFixture;

constexpr uint32_t kCores = 4;
std::atomic<uint32_t> g_arrived{0};
std::atomic<uint32_t> g_built{0};

// Its constructor waits (a while at most) for the other cores to reach
// the static too, so that they all come upon it while it is being built.
struct SlowToBuild {
  SlowToBuild() {
    g_built.fetch_add(1);
    const uint64_t give_up = platform::now_ns() + 200'000'000;
    while (g_arrived.load() < kCores && platform::now_ns() < give_up) {
    }
    value = 7;
  }
  int value = 0;
};

SlowToBuild& slow_to_build() {
  static SlowToBuild instance;
  return instance;
}

class StaticInitTest : public RuntimeFixture {
 protected:
  void SetUp() override { start(kCores); }  // skipped natively on fewer CPUs
};

TEST_F(StaticInitTest, ALocalStaticReachedByCoresAtOnceIsBuiltOnce) {
  auto seen = on_core(0, [] {
    return submit_to_all([] {
      g_arrived.fetch_add(1);
      SlowToBuild& built = slow_to_build();
      return built.value == 7 ? &built : nullptr;
    });
  });
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), kCores);
  for (auto& instance : *seen) {
    ASSERT_TRUE(instance.ok());
    EXPECT_EQ(*instance, &slow_to_build()) << "a core saw the static before it was built";
  }
  EXPECT_EQ(g_built.load(), 1u);
}

}  // namespace
}  // namespace ebb
