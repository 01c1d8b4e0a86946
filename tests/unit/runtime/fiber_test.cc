#include "runtime/fiber.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "runtime/idle_handler.h"
#include "runtime/spawn.h"
#include "runtime/stats.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::RuntimeFixture;

class FiberTest : public RuntimeFixture {
 protected:
  void SetUp() override { start(3); }
};

// Parked on core 1, woken from core 2: resumes on core 1, with its stack
// (locals) intact, and core 1 kept running other events meanwhile.
TEST_F(FiberTest, ABlockedFiberResumesOnItsOwnCore) {
  std::atomic<EventContext*> parked{nullptr};
  std::atomic<int> others_ran{0};
  auto blocked = submit_to(1, [&] {
    int local = 1234;
    EventContext context;
    parked = &context;
    park(context);
    return std::make_pair(this_core(), local);
  });
  while (parked.load() == nullptr) std::this_thread::yield();
  // Core 1 is free while the event is parked.
  run(1, [&] { others_ran++; });
  EXPECT_EQ(others_ran.load(), 1);
  run(2, [&] { unpark(*parked.load()); });
  auto r = blocked.block();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 1u);
  EXPECT_EQ(r->second, 1234);
}

TEST_F(FiberTest, YieldLetsQueuedEventsRunFirst) {
  auto order = on_core(0, [] {
    std::vector<int> log;
    spawn_local([&log] { log.push_back(1); });
    spawn_local([&log] { log.push_back(2); });
    log.push_back(0);
    yield();
    log.push_back(3);
    return log;
  });
  EXPECT_EQ(*order, (std::vector<int>{0, 1, 2, 3}));
}

// What yield() promises: the events queued before it run first; events they
// queue in turn come after the yielder.
TEST_F(FiberTest, YieldResumesBeforeEventsQueuedWhileItWaited) {
  auto order = on_core(1, [] {
    std::vector<std::string> log;
    spawn_local([&log] {
      log.push_back("B");
      spawn_local([&log] { log.push_back("C"); });
    });
    yield();
    log.push_back("A");
    yield();
    return log;
  });
  EXPECT_EQ(*order, (std::vector<std::string>{"B", "A", "C"}));
}

// Yield behind more events than the local queue holds (it grows meanwhile).
TEST_F(FiberTest, YieldBehindAGrowingQueue) {
  auto ran = on_core(0, [] {
    int count = 0;
    for (int i = 0; i < 5000; ++i) spawn_local([&count] { ++count; });
    yield();
    const int seen = count;
    int more = 0;
    for (int i = 0; i < 700; ++i) spawn_local([&more] { ++more; });
    yield();
    return std::make_pair(seen, more);
  });
  EXPECT_EQ(ran->first, 5000);
  EXPECT_EQ(ran->second, 700);
}

// Several events yield in turn: they resume in the order they yielded.
TEST_F(FiberTest, YieldersResumeInOrder) {
  auto order = on_core(2, [] {
    auto log = std::make_shared<std::vector<int>>();
    std::vector<Future<void>> done;
    for (int i = 0; i < 5; ++i) {
      done.push_back(submit_to(2, [log, i] {
        for (int round = 0; round < 3; ++round) {
          log->push_back(i);
          yield();
        }
      }));
    }
    return when_all(std::move(done)).then([log](std::vector<Status>) { return *log; });
  });
  const std::vector<int> expected = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
  EXPECT_EQ(*order, expected);
}

// Thousands of parked events at once, each on its own stack, all resumed.
TEST_F(FiberTest, ManyParkedEventsAllResume) {
  constexpr int kParked = 2000;
  auto total = on_core(0, [] {
    std::vector<EventContext*> contexts(kParked, nullptr);
    std::vector<Future<int>> done;
    for (int i = 0; i < kParked; ++i) {
      done.push_back(submit_to(0, [&contexts, i] {
        EventContext context;
        contexts[i] = &context;
        park(context);
        return i;
      }));
    }
    yield();  // let them all park
    for (int i = kParked - 1; i >= 0; --i) {  // resume in reverse
      EXPECT_NE(contexts[i], nullptr);
      unpark(*contexts[i]);
    }
    return when_all(std::move(done)).then([](std::vector<Result<int>> results) {
      long sum = 0;
      for (auto& r : results) sum += r.value();
      return sum;
    });
  });
  EXPECT_EQ(*total, static_cast<long>(kParked) * (kParked - 1) / 2);
}

TEST_F(FiberTest, ParksAreCounted) {
  auto parks = on_core(2, [] {
    const uint64_t before = core_stats(2).parks;
    for (int i = 0; i < 10; ++i) yield();
    return core_stats(2).parks - before;
  });
  EXPECT_EQ(*parks, 10u);
}

// Deep recursion inside an event uses the fiber's stack, not the thread's.
int recurse(int depth) {
  volatile char pad[256];
  pad[0] = static_cast<char>(depth);
  return depth == 0 ? pad[0] : recurse(depth - 1) + 1;
}
TEST_F(FiberTest, EventsHaveRoomOnTheirStack) {
  auto r = on_core(0, [] { return recurse(200); });
  EXPECT_EQ(*r, 200);
}

using FiberDeathTest = FiberTest;

TEST_F(FiberDeathTest, UnparkTwicePanics) {
  // The context stays alive (the event yields after its resume) so that the
  // second resume finds it resumed already.
  EXPECT_DEATH(run(0, [] {
                 EventContext context;
                 spawn_local([&context] {
                   unpark(context);
                   unpark(context);
                 });
                 park(context);
                 yield();
                 yield();
               }),
               "unpark called twice");
}

TEST_F(FiberDeathTest, ParkInsideAnIdleHandlerPanics) {
  EXPECT_DEATH(
      {
        run(0, [] {
          (void)add_idle_handler([] {
            EventContext context;
            park(context);
            return false;
          });
        });
        std::this_thread::sleep_for(std::chrono::seconds(5));
      },
      "park inside an idle handler");
}

TEST(FiberNoCoreDeathTest, ParkOffACorePanics) {
  EXPECT_DEATH(
      {
        EventContext context;
        park(context);
      },
      "park called off any core");
}

}  // namespace
}  // namespace ebb
