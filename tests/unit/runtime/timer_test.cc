#include "runtime/timer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "runtime/fiber.h"
#include "runtime/platform.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using namespace std::chrono_literals;
using testing::RuntimeFixture;

class TimerTest : public RuntimeFixture {
 protected:
  void SetUp() override { start(2); }
};

// Waits (off-core) until pred() holds; timers are allowed all the time they need.
template <class P>
void eventually(P pred) {
  while (!pred()) std::this_thread::sleep_for(1ms);
}

TEST_F(TimerTest, OneShotFiresOnceNeverEarlyOnItsCore) {
  struct Shot {
    uint64_t armed_at = 0;
    std::atomic<uint64_t> fired_at{0};
    std::atomic<int> runs{0};
    std::atomic<CoreId> core{kNoCore};
  };
  std::vector<Shot> shots(20);
  run(1, [&] {
    for (std::size_t i = 0; i < shots.size(); ++i) {
      Shot& s = shots[i];
      s.armed_at = platform::now_ns();
      EXPECT_TRUE(add_timer(std::chrono::microseconds(500 * i), [&s] {
                    s.fired_at = platform::now_ns();
                    s.runs++;
                    s.core = this_core();
                  }).ok());
    }
  });
  eventually([&] {
    for (auto& s : shots)
      if (s.runs.load() == 0) return false;
    return true;
  });
  std::this_thread::sleep_for(20ms);  // a second run would show up by now
  for (std::size_t i = 0; i < shots.size(); ++i) {
    EXPECT_EQ(shots[i].runs.load(), 1);
    EXPECT_GE(shots[i].fired_at.load() - shots[i].armed_at, 500'000u * i) << "timer " << i;
    EXPECT_EQ(shots[i].core.load(), 1u);
  }
}

TEST_F(TimerTest, CancelPreventsTheRun) {
  std::atomic<int> runs{0};
  auto cancelled = on_core(0, [&] {
    TimerId id = add_timer(20ms, [&] { runs++; }).value();
    return cancel_timer(id);
  });
  EXPECT_TRUE(*cancelled);
  // A second timer that fires later proves the first had its chance.
  std::atomic<bool> later{false};
  run(0, [&] { (void)add_timer(40ms, [&] { later = true; }); });
  eventually([&] { return later.load(); });
  EXPECT_EQ(runs.load(), 0);
}

TEST_F(TimerTest, CancelAfterItRanReportsFalse) {
  std::atomic<TimerId> id{0};
  std::atomic<int> runs{0};
  run(0, [&] { id = add_timer(1ms, [&] { runs++; }).value(); });
  eventually([&] { return runs.load() == 1; });
  auto cancelled = on_core(0, [&] { return cancel_timer(id.load()); });
  EXPECT_FALSE(*cancelled);
}

TEST_F(TimerTest, PeriodicFiresRepeatedlyUntilCancelled) {
  std::atomic<int> runs{0};
  std::atomic<TimerId> id{0};
  run(1, [&] { id = add_periodic_timer(1ms, [&] { runs++; }).value(); });
  eventually([&] { return runs.load() >= 5; });
  auto cancelled = on_core(1, [&] { return cancel_timer(id.load()); });
  EXPECT_TRUE(*cancelled);
  const int after = runs.load();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(runs.load(), after);
}

TEST_F(TimerTest, PeriodicCanCancelItselfFromItsCallback) {
  std::atomic<int> runs{0};
  run(0, [&] {
    auto* id = new TimerId(0);
    *id = add_periodic_timer(1ms, [&runs, id] {
      if (++runs == 3) {
        EXPECT_TRUE(cancel_timer(*id));
        delete id;
      }
    }).value();
  });
  eventually([&] { return runs.load() == 3; });
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(runs.load(), 3);
}

TEST_F(TimerTest, ACallbackMayBlock) {
  std::atomic<int> step{0};
  run(0, [&] {
    (void)add_timer(1ms, [&] {
      step = 1;
      yield();
      step = 2;
    });
  });
  eventually([&] { return step.load() == 2; });
}

TEST_F(TimerTest, BadArgumentsAreErrors) {
  auto periodic = on_core(0, [] { return add_periodic_timer(0ns, [] {}); });
  ASSERT_FALSE(periodic.ok());
  EXPECT_EQ(periodic.error().code(), Errc::kInvalidArgument);
  auto off = add_timer(1ms, [] {});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().code(), Errc::kNotOnCore);
  auto zero = on_core(0, [] { return cancel_timer(0); });
  EXPECT_FALSE(*zero);
}

TEST_F(TimerTest, PendingTimersAreDroppedAtShutdown) {
  std::atomic<int> runs{0};
  run(0, [&] { (void)add_timer(std::chrono::hours(1), [&] { runs++; }); });
  runtime_.reset();  // must not wait an hour
  EXPECT_EQ(runs.load(), 0);
}

using TimerDeathTest = TimerTest;
TEST_F(TimerDeathTest, CancelOnAnotherCorePanics) {
  auto id = on_core(0, [] { return add_timer(1h, [] {}).value(); });
  EXPECT_DEATH(run(1, [&] { cancel_timer(*id); }), "belongs to core 0 but was cancelled on core 1");
}

}  // namespace
}  // namespace ebb
