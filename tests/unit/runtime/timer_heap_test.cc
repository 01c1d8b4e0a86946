#include "runtime/timer_heap.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ebb::detail {
namespace {

// Expires and runs everything due at `now`, returning the callbacks' marks.
std::vector<int> fire(TimerHeap& heap, uint64_t now, std::vector<int>& log) {
  std::vector<uint64_t> due;
  heap.expire(now, [&](uint64_t id) { due.push_back(id); });
  log.clear();
  for (uint64_t id : due) heap.run(id);
  return log;
}

TEST(TimerHeap, FiresInDeadlineOrderThenInsertionOrder) {
  TimerHeap heap;
  std::vector<int> log;
  heap.add(30, 0, [&] { log.push_back(3); });
  heap.add(10, 0, [&] { log.push_back(1); });
  heap.add(20, 0, [&] { log.push_back(2); });
  heap.add(20, 0, [&] { log.push_back(22); });
  EXPECT_EQ(heap.next_deadline(), 10u);
  EXPECT_EQ(fire(heap, 9, log), std::vector<int>{});
  EXPECT_EQ(fire(heap, 20, log), (std::vector<int>{1, 2, 22}));
  EXPECT_EQ(fire(heap, 100, log), std::vector<int>{3});
  EXPECT_TRUE(heap.empty());
  EXPECT_EQ(heap.live(), 0u);
}

TEST(TimerHeap, CancelBeforeAndAfterExpiry) {
  TimerHeap heap;
  std::vector<int> log;
  const uint64_t a = heap.add(10, 0, [&] { log.push_back(1); });
  const uint64_t b = heap.add(10, 0, [&] { log.push_back(2); });
  EXPECT_TRUE(heap.cancel(a));
  EXPECT_FALSE(heap.cancel(a));  // twice
  std::vector<uint64_t> due;
  heap.expire(10, [&](uint64_t id) { due.push_back(id); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(heap.cancel(b));  // expired but not run yet: still prevented
  EXPECT_FALSE(heap.run(due[0]));
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(heap.live(), 0u);
}

TEST(TimerHeap, StaleIdsDoNotCancelReusedSlots) {
  TimerHeap heap;
  std::vector<int> log;
  const uint64_t old_id = heap.add(10, 0, [] {});
  EXPECT_TRUE(heap.cancel(old_id));
  const uint64_t new_id = heap.add(10, 0, [&] { log.push_back(7); });
  EXPECT_NE(old_id, new_id);
  EXPECT_FALSE(heap.cancel(old_id));
  EXPECT_EQ(fire(heap, 10, log), std::vector<int>{7});
}

TEST(TimerHeap, PeriodicRearmsAndSkipsMissedPeriods) {
  TimerHeap heap;
  std::vector<int> log;
  const uint64_t id = heap.add(10, 10, [&] { log.push_back(1); });
  EXPECT_EQ(fire(heap, 10, log).size(), 1u);
  EXPECT_EQ(heap.next_deadline(), 20u);
  EXPECT_EQ(fire(heap, 55, log).size(), 1u);  // 20, 30, 40, 50 missed: one run
  EXPECT_EQ(heap.next_deadline(), 65u);
  EXPECT_TRUE(heap.cancel(id));
  EXPECT_TRUE(heap.empty());
}

TEST(TimerHeap, CallbackMayCancelItselfAndAddTimers) {
  TimerHeap heap;
  std::vector<int> log;
  uint64_t self = 0;
  self = heap.add(5, 5, [&] {
    log.push_back(1);
    heap.cancel(self);
    heap.add(100, 0, [&] { log.push_back(2); });
  });
  fire(heap, 5, log);
  EXPECT_EQ(heap.live(), 1u);
  EXPECT_EQ(fire(heap, 100, log), std::vector<int>{2});
}

// Random adds and cancels against a simple model.
TEST(TimerHeap, RandomizedAgainstModel) {
  std::mt19937_64 rng(12345);
  TimerHeap heap;
  std::vector<std::pair<uint64_t, uint64_t>> live;  // (deadline, id)
  std::vector<uint64_t> fired;
  uint64_t now = 0;
  for (int step = 0; step < 20'000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5) {
      const uint64_t deadline = now + rng() % 1000;
      const uint64_t id = heap.add(deadline, 0, [&fired, deadline] { fired.push_back(deadline); });
      live.emplace_back(deadline, id);
    } else if (op < 8 && !live.empty()) {
      const size_t victim = rng() % live.size();
      EXPECT_TRUE(heap.cancel(live[victim].second));
      live.erase(live.begin() + static_cast<long>(victim));
    } else {
      now += rng() % 300;
      std::vector<uint64_t> due;
      heap.expire(now, [&](uint64_t id) { due.push_back(id); });
      fired.clear();
      for (uint64_t id : due) heap.run(id);
      for (uint64_t d : fired) EXPECT_LE(d, now);
      std::erase_if(live, [&](auto& t) { return t.first <= now; });
      EXPECT_EQ(heap.live(), live.size());
      if (!live.empty()) {
        uint64_t earliest = UINT64_MAX;
        for (auto& t : live) earliest = std::min(earliest, t.first);
        EXPECT_EQ(heap.next_deadline(), earliest);
      }
    }
  }
}

}  // namespace
}  // namespace ebb::detail
