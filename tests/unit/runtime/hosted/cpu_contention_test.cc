// platform::cpu_contended against the real scheduler: a thread that shares
// its CPU with a busy one is told so, which is what stops a core's idle spin.

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <thread>

#include "runtime/platform.h"

namespace ebb {
namespace {

int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) return cpu;
  return -1;
}

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

TEST(CpuContention, AThreadSharingItsCpuWithABusyOneIsContended) {
  const int cpu = first_allowed_cpu();
  ASSERT_GE(cpu, 0);
  std::atomic<bool> stop{false};
  std::atomic<bool> hog_pinned{false};
  std::thread hog([&] {
    hog_pinned = pin_to(cpu);
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  bool pinned = false, at_first = true, contended = false;
  std::thread watcher([&] {
    pinned = pin_to(cpu);
    at_first = platform::cpu_contended(0, platform::now_ns());
    // Both threads want the one CPU all the time: each waits about half of
    // it. Ten seconds is only a bound for a machine that never runs us.
    const uint64_t give_up = platform::now_ns() + 10'000'000'000u;
    while (!contended && platform::now_ns() < give_up) contended = platform::cpu_contended(0, platform::now_ns());
  });
  watcher.join();
  stop = true;
  hog.join();
  ASSERT_TRUE(pinned && hog_pinned);
  EXPECT_FALSE(at_first);  // nothing measured yet
  EXPECT_TRUE(contended);
}

}  // namespace
}  // namespace ebb
