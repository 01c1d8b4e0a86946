#include "runtime/multicore_ebb.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "runtime/fiber.h"
#include "runtime/stats.h"
#include "runtime/static_ids.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::CoresFixture;
using testing::RuntimeFixture;

std::atomic<int> g_reps_made{0};
std::atomic<int> g_reps_destroyed{0};
std::atomic<int> g_roots_made{0};
std::atomic<int> g_roots_destroyed{0};

class Tally;
class TallyRoot : public MulticoreRoot<Tally> {
 public:
  TallyRoot() { g_roots_made++; }
  explicit TallyRoot(int start) : start_(start) { g_roots_made++; }
  ~TallyRoot() { g_roots_destroyed++; }
  int start() const { return start_; }

 private:
  int start_ = 0;
};

class Tally : public MulticoreEbb<Tally, TallyRoot> {
 public:
  explicit Tally(TallyRoot& root) : root_(root), core_(this_core()), count_(root.start()) {
    g_reps_made++;
  }
  ~Tally() { g_reps_destroyed++; }
  void add() { count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  int count() const { return count_.load(std::memory_order_relaxed); }
  CoreId core() const { return core_; }
  TallyRoot& root() { return root_; }

 private:
  TallyRoot& root_;
  CoreId core_;
  std::atomic<int> count_;
};

class MulticoreEbbTest : public CoresFixture {
 protected:
  void SetUp() override {
    g_reps_made = g_reps_destroyed = g_roots_made = g_roots_destroyed = 0;
    CoresFixture::SetUp();
  }
};

// Every core uses a fresh Ebb at once: exactly one rep per core, made on
// that core, and one root.
TEST_P(MulticoreEbbTest, ConcurrentFirstUseMakesExactlyOneRepPerCore) {
  for (int round = 0; round < 20; ++round) {
    g_reps_made = 0;
    const Ref<Tally> tally = Tally::Create(100).value();
    auto all = on_core(0, [tally] {
      return submit_to_all([tally] {
        for (int i = 0; i < 50; ++i) {
          tally->add();
          if (i % 10 == 0) yield();  // interleave with the other cores' faults
        }
        EXPECT_EQ(tally->core(), this_core());
        return &*tally;
      });
    });
    ASSERT_TRUE(all.ok());
    std::set<Tally*> reps;
    for (auto& rep : *all) reps.insert(rep.value());
    EXPECT_EQ(reps.size(), cores());
    EXPECT_EQ(g_reps_made.load(), static_cast<int>(cores()));

    TallyRoot* root = Tally::RootOf(tally.id()).value();
    EXPECT_EQ(root->rep_count(), cores());
    int total = 0;
    root->for_each_rep([&](CoreId core, Tally& rep) {
      EXPECT_EQ(rep.core(), core);
      EXPECT_EQ(&rep.root(), root);
      total += rep.count();
    });
    EXPECT_EQ(total, static_cast<int>(cores()) * 150);
    for (CoreId core = 0; core < cores(); ++core)
      EXPECT_EQ(translation::peek(core, tally.id()), root->rep_on(core));
  }
}

// A static id with a default-constructible root is built on first use,
// exactly once machine-wide, even when every core faults at once.
TEST_P(MulticoreEbbTest, StaticIdIsBuiltOnceOnFirstUse) {
  static constexpr Ref<Tally> kTally(ids::kTestMulticoreId);
  auto done = on_core(0, [] {
    return submit_to_all([] {
      kTally->add();
      return kTally->core() == this_core();
    });
  });
  ASSERT_TRUE(done.ok());
  for (auto& r : *done) EXPECT_TRUE(r.value());
  EXPECT_EQ(g_roots_made.load(), 1);
  EXPECT_EQ(g_reps_made.load(), static_cast<int>(cores()));
}

TEST_P(MulticoreEbbTest, FaultsAreCountedOncePerCore) {
  const Ref<Tally> tally = Tally::Create().value();
  auto faults = on_core(0, [tally] {
    return submit_to_all([tally] {
      const uint64_t before = core_stats(this_core()).rep_faults;
      for (int i = 0; i < 1000; ++i) tally->add();
      return core_stats(this_core()).rep_faults - before;
    });
  });
  for (auto& f : *faults) EXPECT_EQ(f.value(), 1u);
}

// Destroy: tables cleared on every core, then reps and root deleted, and
// a stale Ref meets an error rather than freed memory.
TEST_P(MulticoreEbbTest, DestroyClearsEveryCoreThenFreesRepsAndRoot) {
  const Ref<Tally> tally = Tally::Create().value();
  run(0, [tally] {
    return submit_to_all([tally] { tally->add(); });
  });
  EXPECT_EQ(g_reps_made.load(), static_cast<int>(cores()));
  Status destroyed = Tally::Destroy(tally.id()).block();
  ASSERT_TRUE(destroyed.ok());
  EXPECT_EQ(g_reps_destroyed.load(), static_cast<int>(cores()));
  EXPECT_EQ(g_roots_destroyed.load(), 1);
  for (CoreId core = 0; core < cores(); ++core)
    EXPECT_EQ(translation::peek(core, tally.id()), nullptr);
  auto stale = on_core(cores() - 1, [tally] { return tally.try_get(); });
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), Errc::kNoSuchEbb);
  // Destroying again is an error, not a crash.
  Status again = Tally::Destroy(tally.id()).block();
  EXPECT_FALSE(again.ok());
}

INSTANTIATE_TEST_SUITE_P(Cores, MulticoreEbbTest, ::testing::Values(1u, 2u, 4u, 8u),
                         testing::CoresName);

// Ebbs left alive are destroyed by shutdown, on a core.
TEST(MulticoreEbbShutdown, ShutdownDestroysEveryRepAndRoot) {
  g_reps_made = g_reps_destroyed = g_roots_made = g_roots_destroyed = 0;
  {
    EBB_NEEDS_CORES(3);
    Runtime runtime({.cores = 3});
    const Ref<Tally> tally = Tally::Create().value();
    auto done = runtime.run_on(0, [tally] { return submit_to_all([tally] { tally->add(); }); });
    ASSERT_TRUE(done.ok());
  }
  EXPECT_EQ(g_reps_made.load(), 3);
  EXPECT_EQ(g_reps_destroyed.load(), 3);
  EXPECT_EQ(g_roots_destroyed.load(), 1);
}

}  // namespace
}  // namespace ebb
