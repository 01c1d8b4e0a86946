// ServerClock: memcached's seconds clock, read from a timer's last tick
// while it ticks (as memcached's own clock is) and from the monotonic clock
// otherwise; skew added by tests counts either way.

#include "apps/memcached/store/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/runtime_fixture.h"

namespace ebb::memcached::testing {
namespace {

class ClockTest : public ebb::testing::RuntimeFixture {
 protected:
  void SetUp() override { start(1); }
  void TearDown() override {
    run(0, [this] { clock_.stop_ticking(); });
    stop();
  }
  ServerClock clock_;
};

TEST_F(ClockTest, ReadsTheClockUntilItTicks) {
  EXPECT_FALSE(clock_.ticking());
  const ServerTime before = clock_.now();
  EXPECT_GE(before, 2u);  // server time starts at 2, as memcached's does
  clock_.advance(10);
  EXPECT_GE(clock_.now(), before + 10);
  EXPECT_EQ(clock_.ticks(), 0u);
}

TEST_F(ClockTest, TicksFromATimerUntilStopped) {
  run(0, [this]() -> Status {
    Status started = clock_.start_ticking();
    EXPECT_TRUE(started.ok());
    EXPECT_TRUE(clock_.ticking());
    EXPECT_EQ(clock_.ticks(), 1u);  // the first tick comes at once
    Status again = clock_.start_ticking();
    EXPECT_FALSE(again.ok());
    if (!again) {
      EXPECT_EQ(again.error().code(), Errc::kInvalidArgument);
    }
    return {};
  });
  // The timer ticks on core 0 while the test thread waits (bounded).
  for (int i = 0; i < 1000 && clock_.ticks() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(clock_.ticks(), 3u);

  // Skew from tests counts while ticking too.
  const ServerTime ticking = clock_.now();
  clock_.advance(100);
  EXPECT_GE(clock_.now(), ticking + 100);

  run(0, [this] {
    clock_.stop_ticking();
    EXPECT_FALSE(clock_.ticking());
  });
  const uint64_t after_stop = clock_.ticks();
  std::this_thread::sleep_for(3 * ServerClock::kTickPeriod);
  EXPECT_EQ(clock_.ticks(), after_stop);
  EXPECT_GE(clock_.now(), ticking + 100);  // read from the clock again
}

TEST_F(ClockTest, StartingOffACoreFails) {
  EXPECT_FALSE(clock_.start_ticking().ok());
  EXPECT_FALSE(clock_.ticking());
}

}  // namespace
}  // namespace ebb::memcached::testing
