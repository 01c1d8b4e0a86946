#include "runtime/shared_ebb.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "runtime/fiber.h"
#include "runtime/multicore_ebb.h"
#include "runtime/static_ids.h"
#include "runtime/submit.h"
#include "runtime/timer.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::RuntimeFixture;

std::atomic<int> g_built{0};
std::atomic<int> g_destroyed{0};

class Registry : public SharedEbb<Registry> {
 public:
  Registry() { g_built++; }
  explicit Registry(int value) : value_(value) { g_built++; }
  ~Registry() { g_destroyed++; }
  int value() const { return value_; }

 private:
  int value_ = 1;
};

// Its constructor blocks (yields) several times, so other cores fault while
// it is being built.
class SlowToBuild : public SharedEbb<SlowToBuild> {
 public:
  SlowToBuild() {
    g_built++;
    for (int i = 0; i < 5; ++i) yield();
  }
  int ready() const { return 7; }
};

class NeedsArguments : public SharedEbb<NeedsArguments> {
 public:
  explicit NeedsArguments(int) {}
};

class Other : public SharedEbb<Other> {};

class SharedEbbTest : public RuntimeFixture {
 protected:
  void SetUp() override {
    g_built = g_destroyed = 0;
    start(4);
  }
};

TEST_F(SharedEbbTest, OneRepSharedByEveryCore) {
  const Ref<Registry> registry = Registry::Create(42).value();
  auto seen = on_core(0, [registry] {
    return submit_to_all([registry] { return &*registry; });
  });
  for (auto& rep : *seen) EXPECT_EQ(rep.value(), (*seen)[0].value());
  auto value = on_core(3, [registry] { return registry->value(); });
  EXPECT_EQ(*value, 42);
  EXPECT_EQ(g_built.load(), 1);
}

TEST_F(SharedEbbTest, StaticIdBuiltOnFirstUse) {
  static constexpr Ref<Registry> kRegistry(ids::kTestSharedId);
  auto value = on_core(1, [] { return kRegistry->value(); });
  EXPECT_EQ(*value, 1);
  EXPECT_EQ(g_built.load(), 1);
}

TEST_F(SharedEbbTest, ABlockingRootIsBuiltOnceWhileOtherCoresWait) {
  static constexpr Ref<SlowToBuild> kSlow(ids::kTestBlockingRootId);
  auto results = on_core(0, [] {
    return submit_to_all([] {
      std::vector<Future<int>> local;
      // Several events per core fault at once, too.
      for (int i = 0; i < 3; ++i) local.push_back(submit_to(this_core(), [] { return kSlow->ready(); }));
      return when_all(std::move(local));
    });
  });
  ASSERT_TRUE(results.ok());
  for (auto& per_core : *results)
    for (auto& r : per_core.value()) EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(g_built.load(), 1);
}

TEST_F(SharedEbbTest, CreateWithATakenIdFails) {
  EXPECT_TRUE(Registry::CreateWithId(ids::kTestSharedId, 5).ok());
  Status again = Registry::CreateWithId(ids::kTestSharedId, 6);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(g_destroyed.load(), 1);  // the second object was not leaked
}

TEST_F(SharedEbbTest, StaticIdWithoutADefaultConstructorIsAnError) {
  static constexpr Ref<NeedsArguments> kNeeds(ids::kTestNoDefaultId);
  auto r = on_core(0, [] { return kNeeds.try_get(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNoSuchEbb);
}

TEST_F(SharedEbbTest, WrongTypeIsAnError) {
  const Ref<Registry> registry = Registry::Create().value();
  const Ref<Other> other(registry.id());
  auto r = on_core(0, [other] { return other.try_get(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kWrongEbbType);
}

TEST_F(SharedEbbTest, DestroyWaitsForTheGracePeriodThenDeletes) {
  const Ref<Registry> registry = Registry::Create().value();
  EXPECT_EQ(on_core(0, [registry] { return registry->value(); }).value(), 1);
  ASSERT_TRUE(Registry::Destroy(registry.id()).block().ok());
  EXPECT_EQ(g_destroyed.load(), 1);
}

// A timer that outlives its Ebb finds an error through try_get instead of a
// freed object.
TEST_F(SharedEbbTest, TimerOnADestroyedEbbSeesAnError) {
  const Ref<Registry> registry = Registry::Create().value();
  std::atomic<int> outcome{0};
  auto armed = on_core(1, [&outcome, registry] {
    registry->value();
    return add_timer(std::chrono::milliseconds(20), [&outcome, registry] {
      Result<Registry*> rep = registry.try_get();
      outcome = rep.ok() ? 1 : (rep.error().code() == Errc::kNoSuchEbb ? 2 : 3);
    });
  });
  ASSERT_TRUE(armed.ok());
  ASSERT_TRUE(Registry::Destroy(registry.id()).block().ok());
  while (outcome.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(outcome.load(), 2);
}

using SharedEbbDeathTest = SharedEbbTest;

TEST_F(SharedEbbDeathTest, RefOffAnyCorePanics) {
  const Ref<Registry> registry = Registry::Create().value();
  EXPECT_DEATH(registry->value(), "used off any core");
}

TEST_F(SharedEbbDeathTest, RefToADestroyedEbbPanicsWithAHint) {
  const Ref<Registry> registry = Registry::Create().value();
  ASSERT_TRUE(Registry::Destroy(registry.id()).block().ok());
  EXPECT_DEATH(run(0, [registry] { return registry->value(); }),
               "destroyed or never created");
}

TEST_F(SharedEbbDeathTest, TimerCallbackOnADestroyedEbbPanicsClearly) {
  const Ref<Registry> registry = Registry::Create().value();
  EXPECT_DEATH(
      {
        // A periodic timer that uses the Ebb only once the destroy has
        // returned: no wall-clock race decides whether it comes too early.
        auto destroyed = std::make_shared<std::atomic<bool>>(false);
        (void)runtime().run_on(2, [registry, destroyed] {
          (void)add_periodic_timer(std::chrono::milliseconds(1), [registry, destroyed] {
            if (destroyed->load()) registry->value();
          });
        });
        (void)Registry::Destroy(registry.id()).block();
        destroyed->store(true);
        std::this_thread::sleep_for(std::chrono::seconds(30));
      },
      "Ebb [0-9]+: (no Ebb has this id|the Ebb has been destroyed)");
}

TEST_F(SharedEbbDeathTest, WrongTypePanicsNamingBothTypes) {
  const Ref<Registry> registry = Registry::Create().value();
  const Ref<Other> other(registry.id());
  EXPECT_DEATH(run(0, [other] { (void)&*other; }),
               "Other> used on Ebb [0-9]+, which is a .*Registry");
}

}  // namespace
}  // namespace ebb
