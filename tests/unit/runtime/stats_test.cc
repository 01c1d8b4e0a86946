#include "runtime/stats.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runtime/platform.h"
#include "runtime/spawn.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::RuntimeFixture;

class StatsTest : public RuntimeFixture {
 protected:
  void SetUp() override { start(2); }
};

TEST_F(StatsTest, CountsLocalAndRemoteEvents) {
  const CoreStats before0 = core_stats(0);
  const CoreStats before1 = core_stats(1);
  std::atomic<int> ran{0};
  run(0, [&ran] {
    for (int i = 0; i < 100; ++i) spawn_local([&ran] { ran++; });
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(spawn_remote(1, [&ran] { ran++; }).ok());
  });
  while (ran.load() < 150) std::this_thread::yield();
  const CoreStats after0 = core_stats(0);
  const CoreStats after1 = core_stats(1);
  EXPECT_GE(after0.events - before0.events, 101u);  // the 100 and run()'s own
  // At least the 50 (the runtime's own services may send too: memory going home).
  EXPECT_GE(after0.remote_sent - before0.remote_sent, 50u);
  EXPECT_GE(after1.remote_received - before1.remote_received, 50u);
  EXPECT_GE(after1.events - before1.events, 50u);
}

TEST_F(StatsTest, BusyAndIdleAddUpToUptime) {
  const uint64_t start = platform::now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  run(1, [] {
    const uint64_t until = platform::now_ns() + 20'000'000;
    while (platform::now_ns() < until) {
    }  // 20 ms busy
  });
  const uint64_t elapsed = platform::now_ns() - start;
  const CoreStats s = core_stats(1);
  EXPECT_GE(s.busy_ns, 20'000'000u);
  EXPECT_GE(s.idle_ns, 10'000'000u);  // mostly asleep during the 50 ms
  EXPECT_LE(s.busy_ns + s.idle_ns, elapsed + 50'000'000u);
}

// Readers never stop a core: read continuously while the cores work.
TEST_F(StatsTest, ReadableWhileCoresRun) {
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!stop.load()) {
      const CoreStats total = total_stats();
      EXPECT_GE(total.events, last);
      last = total.events;
    }
  });
  for (int i = 0; i < 200; ++i) {
    run(static_cast<CoreId>(i % 2), [] {
      for (int j = 0; j < 100; ++j) spawn_local([] {});
    });
  }
  stop = true;
  reader.join();
  EXPECT_EQ(core_stats(7).events, 0u);  // no such core: zeros
}

}  // namespace
}  // namespace ebb
