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
  auto counts = on_core(0, [] {
    const CoreStats before0 = core_stats(0);
    const CoreStats before1 = core_stats(1);
    for (int i = 0; i < 100; ++i) spawn_local([] {});
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(spawn_remote(1, [] {}).ok());
    return submit_to(1, [] {}).then([before0, before1] {
      // Runs on core 0 after core 1 ran the 50 (they were sent first).
      CoreStats after0 = core_stats(0);
      CoreStats after1 = core_stats(1);
      return std::make_tuple(after0.events - before0.events, after0.remote_sent - before0.remote_sent,
                             after1.remote_received - before1.remote_received);
    });
  });
  auto [events0, sent0, received1] = *counts;
  EXPECT_GE(events0, 100u);
  EXPECT_EQ(sent0, 51u);       // 50 plus submit_to's event
  EXPECT_GE(received1, 51u);   // plus the reply's forwarding, if any
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
