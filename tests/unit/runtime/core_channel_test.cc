#include "runtime/core_channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

namespace ebb::detail {
namespace {

TEST(CoreChannel, FillsUpThenTakesMoreAsTheConsumerProgresses) {
  auto channel = std::make_unique<CoreChannel>();
  int ran = 0;
  uint64_t pushed = 0;
  for (;; ++pushed) {
    Event e = [&ran] { ++ran; };
    if (!channel->try_push(e)) {
      EXPECT_TRUE(e) << "a refused event stays with the caller";
      break;
    }
  }
  EXPECT_EQ(pushed, CoreChannel::kSlots);
  // Taking without publishing does not free slots...
  ASSERT_TRUE(channel->has_item());
  channel->pop()();
  Event more = [&ran] { ++ran; };
  EXPECT_FALSE(channel->try_push(more));
  // ...publishing does.
  channel->publish_progress();
  EXPECT_TRUE(channel->try_push(more));
  while (channel->has_item()) channel->pop()();
  EXPECT_EQ(ran, static_cast<int>(CoreChannel::kSlots) + 1);
}

// One producer thread, one consumer thread: everything arrives, in order,
// with its captures intact, through many laps of the ring.
TEST(CoreChannel, OrderAcrossThreadsAndLaps) {
  constexpr uint64_t kCount = 200'000;
  auto channel = std::make_unique<CoreChannel>();
  uint64_t next = 0;
  bool in_order = true;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kCount;) {
      Event e = [i, &next, &in_order] {
        if (i != next) in_order = false;
        ++next;
      };
      if (channel->try_push(e)) ++i;
      else std::this_thread::yield();
    }
  });
  uint64_t taken = 0;
  while (taken < kCount) {
    if (!channel->has_item()) {
      channel->publish_progress();
      continue;
    }
    channel->pop()();
    if (++taken % 64 == 0) channel->publish_progress();
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next, kCount);
  EXPECT_FALSE(channel->has_item());
}

TEST(CoreChannel, DestroysEventsLeftInside) {
  auto counted = std::make_shared<int>(0);
  {
    auto channel = std::make_unique<CoreChannel>();
    for (int i = 0; i < 10; ++i) {
      Event e = [counted] {};
      ASSERT_TRUE(channel->try_push(e));
    }
    EXPECT_EQ(counted.use_count(), 11);
  }
  EXPECT_EQ(counted.use_count(), 1);
}

}  // namespace
}  // namespace ebb::detail
