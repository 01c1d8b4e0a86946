// Events: spawning, ordering, idle handlers, shutdown.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/idle_handler.h"
#include "runtime/spawn.h"
#include "runtime/stats.h"
#include "tests/unit/runtime/polled_device.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::CoresFixture;
using testing::RuntimeFixture;

class SpawnTest : public CoresFixture {};

TEST_P(SpawnTest, LocalEventsRunInOrderAfterTheCurrentOne) {
  auto order = on_core(0, [] {
    auto* log = new std::vector<int>();
    for (int i = 0; i < 1000; ++i) spawn_local([log, i] { log->push_back(i); });
    Promise<std::vector<int>> done;
    Future<std::vector<int>> result = done.get_future();
    EXPECT_TRUE(log->empty());  // nothing runs until this event ends
    spawn_local([log, done = std::move(done)]() mutable {
      done.set_value(std::move(*log));
      delete log;
    });
    return result;
  });
  ASSERT_TRUE(order.ok());
  ASSERT_EQ(order->size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ((*order)[i], i);
}

// Every core floods every other core; each receiver sees each sender's
// events in the order sent.
TEST_P(SpawnTest, RemoteEventsFromOneSenderRunInOrder) {
  constexpr int kPerPair = 2000;
  const uint32_t n = cores();
  // next[receiver][sender]: touched only on the receiver's core.
  std::vector<std::vector<int>> next(n, std::vector<int>(n, 0));
  std::atomic<int> out_of_order{0};
  std::atomic<int> received{0};
  auto sent = on_core(0, [&] {
    return submit_to_all([&] {
      const CoreId sender = this_core();
      for (int i = 0; i < kPerPair; ++i) {
        for (CoreId receiver = 0; receiver < n; ++receiver) {
          Status s = spawn_remote(receiver, [&, sender, receiver, i] {
            if (next[receiver][sender] != i) out_of_order++;
            next[receiver][sender] = i + 1;
            received++;
          });
          EXPECT_TRUE(s.ok());
        }
      }
    });
  });
  ASSERT_TRUE(sent.ok());
  while (received.load() < static_cast<int>(n * n * kPerPair)) std::this_thread::yield();
  EXPECT_EQ(out_of_order.load(), 0);
}

// The receiver is busy while a sender floods it far past a channel's
// capacity: the surplus waits on the sender, in order, and all of it arrives.
TEST_P(SpawnTest, FloodPastTheChannelArrivesInOrder) {
  if (cores() < 2) GTEST_SKIP() << "needs a second core";
  constexpr int kEvents = 20'000;
  std::atomic<bool> release{false};
  std::atomic<int> received{0};
  std::atomic<int> out_of_order{0};
  ASSERT_TRUE(spawn_remote(1, [&] {
                while (!release.load()) std::this_thread::yield();  // core 1 is busy
              }).ok());
  int expected = 0;  // touched only on core 1
  run(0, [&] {
    for (int i = 0; i < kEvents; ++i) {
      EXPECT_TRUE(spawn_remote(1, [&, i] {
                    if (i != expected) out_of_order++;
                    expected = i + 1;
                    received++;
                  }).ok());
    }
  });
  release = true;
  while (received.load() < kEvents) std::this_thread::yield();
  EXPECT_EQ(out_of_order.load(), 0);
}

TEST_P(SpawnTest, SpawnOnAllReachesEveryCoreOnce) {
  std::vector<std::atomic<int>> hits(cores());
  std::atomic<int> total{0};
  auto sent = on_core(0, [&] {
    return spawn_on_all([&] {
      hits[this_core()]++;
      total++;
    });
  });
  ASSERT_TRUE(sent.ok());
  while (total.load() < static_cast<int>(cores())) std::this_thread::yield();
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST_P(SpawnTest, OffCoreThreadsCanSpawnRemote) {
  std::atomic<int> ran{0};
  std::atomic<CoreId> where{kNoCore};
  ASSERT_TRUE(spawn_remote(cores() - 1, [&] {
                where = this_core();
                ran++;
              }).ok());
  while (ran.load() == 0) std::this_thread::yield();
  EXPECT_EQ(where.load(), cores() - 1);
}

TEST_P(SpawnTest, SpawningToACoreThatDoesNotExistIsAnError) {
  Status off = spawn_remote(cores(), [] {});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().code(), Errc::kNoSuchCore);
  EXPECT_EQ(off.error().value(), cores());
  auto on = on_core(0, [this] { return spawn_remote(cores() + 5, [] {}); });
  ASSERT_FALSE(on.ok());
  EXPECT_EQ(on.error().code(), Errc::kNoSuchCore);
  auto f = on_core(0, [this] { return submit_to(cores(), [] { return 1; }); });
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), Errc::kNoSuchCore);
}

// Start hooks run first on every core, and the runtime's start waits for
// them: the first outside work finds each core's hook done.
thread_local int t_start_hook_runs = 0;

void slow_start_hook() {
  // Slow, so that outside work would overtake it were start not waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ++t_start_hook_runs;
}

TEST_P(SpawnTest, StartHooksRunOnEveryCoreBeforeOutsideWork) {
  // Hooks apply to runtimes started later: this one is stopped and a new one
  // started with the hook in place (it stays for later runtimes: harmless).
  static const bool registered = [] {
    run_on_every_core_start(&slow_start_hook);
    return true;
  }();
  ASSERT_TRUE(registered);
  stop();
  start(cores());
  auto runs = runtime().run_on(0, [] {
    return submit_to_all([] { return t_start_hook_runs; });
  });
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), cores());
  for (const Result<int>& n : *runs) {
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Cores, SpawnTest, ::testing::Values(1u, 2u, 4u), testing::CoresName);

TEST(SpawnNoRuntime, SpawnWithoutARuntimeIsAnError) {
  Status s = spawn_remote(0, [] {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kShuttingDown);
}

TEST(SpawnDeathTest, SpawnLocalOffACorePanics) {
  EXPECT_DEATH(spawn_local([] {}), "spawn_local called off any core");
}

class IdleHandlerTest : public RuntimeFixture {
 protected:
  void SetUp() override { start(2); }
};

TEST_F(IdleHandlerTest, SeveralHandlersRunUntilRemoved) {
  std::atomic<int> a{0}, b{0};
  std::atomic<bool> removed{false};
  auto ids = on_core(1, [&] {
    IdleHandlerId first = add_idle_handler([&] {
      a++;
      return false;
    }).value();
    // Removes itself after 100 turns. (Its result only says whether it did
    // work: a handler that kept running past this test would write into the
    // test's dead stack frame.)
    auto* self = new IdleHandlerId(0);
    *self = add_idle_handler([&b, self] {
      if (++b == 100) {
        EXPECT_TRUE(remove_idle_handler(*self));
        delete self;
      }
      return true;
    }).value();
    return first;
  });
  while (a.load() < 1000 || b.load() < 100) std::this_thread::yield();
  ASSERT_TRUE(on_core(1, [&] {
                EXPECT_TRUE(remove_idle_handler(*ids));
                EXPECT_FALSE(remove_idle_handler(*ids));
                removed = true;
              }).ok());
  const int a_after = a.load();
  // Let the core turn many more times.
  for (int i = 0; i < 100; ++i) run(1, [] {});
  EXPECT_EQ(a.load(), a_after);
  EXPECT_EQ(b.load(), 100);  // the self-removing one stopped at once
}

TEST_F(IdleHandlerTest, AHandlerCanRemoveItselfAndQueueEvents) {
  std::atomic<int> runs{0};
  std::atomic<int> events{0};
  run(0, [&] {
    auto* id = new IdleHandlerId(0);
    *id = add_idle_handler([&runs, &events, id] {
      if (++runs == 3) {
        EXPECT_TRUE(remove_idle_handler(*id));
        delete id;
      }
      spawn_local([&events] { events++; });
      return true;
    }).value();
  });
  while (events.load() < 3) std::this_thread::yield();
  run(0, [] {});
  EXPECT_EQ(runs.load(), 3);
  EXPECT_EQ(events.load(), 3);
}

TEST(IdleHandlerNoCore, AddingOffACoreIsAnError) {
  auto id = add_idle_handler([] { return false; });
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Errc::kNotOnCore);
}

// ---- idle handlers with arm hooks: polling under load, sleeping when idle ----

// The test's device (polled_device.h); its interrupt wakes the core the way
// a hosted device's completion must: wake_core_for_device.
struct FakeDevice : testing::PolledDevice {
  void raise(CoreId core) {
    if (publish()) wake_core_for_device(core);
  }
};

// Bounded waits: generous, so that a slow machine passes; a lost wake-up
// still fails instead of hanging.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

// Once armed, the core sleeps: it stops polling (a polling core calls
// poll() hundreds of thousands of times in 100 ms; a sleeping one only
// when something else wakes it), and its idle time grows. The device's
// interrupt (wake_core_for_device) wakes it, from a thread or from another
// core, and it polls, takes the work and sleeps again.
TEST_F(IdleHandlerTest, ArmedHandlerLetsTheCoreSleepUntilWoken) {
  FakeDevice dev;
  const IdleHandlerId id = on_core(1, [&] { return dev.install(); }).value();
  ASSERT_TRUE(eventually([&] { return dev.arms.load() >= 1; }));
  const uint64_t polls = dev.polls.load();
  const uint64_t idle_before = core_stats(1).idle_ns;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LT(dev.polls.load() - polls, 100u);
  EXPECT_GT(core_stats(1).idle_ns, idle_before);

  // The interrupt, from a thread that is not a core.
  ASSERT_TRUE(eventually([&] { return dev.interrupt_enabled.load(); }));
  const uint64_t arms = dev.arms.load();
  dev.raise(1);
  ASSERT_TRUE(eventually([&] { return dev.taken.load() == 1; }));
  ASSERT_TRUE(eventually([&] { return dev.arms.load() > arms; }));  // asleep again

  // Work raised from another core wakes it too, each time.
  for (int i = 2; i <= 50; ++i) {
    ASSERT_TRUE(eventually([&] { return dev.interrupt_enabled.load(); }));
    run(0, [&] { dev.raise(1); });
    ASSERT_TRUE(eventually([&] { return dev.taken.load() == i; })) << "round " << i;
  }
  run(1, [id] { EXPECT_TRUE(remove_idle_handler(id)); });
}

// A handler without an arm hook keeps its core polling, even beside armed
// ones: no arm hook runs and the core never counts idle time. Once it is
// removed, the core arms and sleeps.
TEST_F(IdleHandlerTest, HandlerWithoutArmKeepsTheCorePolling) {
  FakeDevice dev;
  std::atomic<uint64_t> plain_polls{0};
  auto ids = on_core(1, [&] {
    const IdleHandlerId armed = dev.install();
    const IdleHandlerId plain = add_idle_handler([&plain_polls] {
                                  plain_polls++;
                                  return false;
                                }).value();
    return std::pair{armed, plain};
  });
  ASSERT_TRUE(ids.ok());
  ASSERT_TRUE(eventually([&] { return plain_polls.load() >= 100; }));
  const uint64_t arms = dev.arms.load();
  const uint64_t idle_before = core_stats(1).idle_ns;
  const uint64_t polls = plain_polls.load();
  ASSERT_TRUE(eventually([&] { return plain_polls.load() >= polls + 100'000; }));
  EXPECT_EQ(dev.arms.load(), arms);  // never armed while the plain one is there
  EXPECT_EQ(core_stats(1).idle_ns, idle_before);
  EXPECT_GE(dev.polls.load(), 100'000u);

  run(1, [&] { EXPECT_TRUE(remove_idle_handler(ids->second)); });
  ASSERT_TRUE(eventually([&] { return dev.arms.load() > arms; }));
  dev.raise(1);
  ASSERT_TRUE(eventually([&] { return dev.taken.load() == 1; }));
  run(1, [&] { EXPECT_TRUE(remove_idle_handler(ids->first)); });
}

// An arm hook that reports work keeps the core awake: it polls, spins,
// arms again, and never sleeps.
TEST_F(IdleHandlerTest, ArmReportingWorkPreventsSleep) {
  FakeDevice dev;
  dev.arm_reports_work = true;
  const IdleHandlerId id = on_core(1, [&] { return dev.install(); }).value();
  ASSERT_TRUE(eventually([&] { return dev.arms.load() >= 1000; }));
  EXPECT_GE(dev.polls.load(), dev.arms.load());
  run(1, [id] { EXPECT_TRUE(remove_idle_handler(id)); });
}

// Without the spin (idle_spin_ns 0) the core arms at once; a handler may
// still be added with one argument, and both kinds can be removed.
TEST(IdleHandlerArm, NoSpinArmsAtOnceAndWakesForWork) {
  FakeDevice dev;
  Runtime runtime({.cores = 2, .idle_spin_ns = 0});
  const IdleHandlerId id = runtime.run_on(1, [&] { return dev.install(); }).value();
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(eventually([&] { return dev.interrupt_enabled.load(); }));
    dev.raise(1);
    ASSERT_TRUE(eventually([&] { return dev.taken.load() == i; })) << "round " << i;
  }
  ASSERT_TRUE(runtime.run_on(1, [id] { EXPECT_TRUE(remove_idle_handler(id)); }).ok());
}

TEST(IdleHandlerArm, WakingNoCoreDoesNothing) {
  wake_core_for_device(0);  // no runtime
  Runtime runtime({.cores = 1});
  wake_core_for_device(5);  // no such core
  wake_core_for_device(0);  // awake or not: it just looks again
  EXPECT_TRUE(runtime.run_on(0, [] {}).ok());
}

// A lazy event waits for the core's next run, whatever wakes it, and
// shutdown runs it too.
TEST(SpawnLazy, RunsOnTheCoresNextRunAndAtShutdown) {
  std::atomic<int> ran{0};
  {
    Runtime runtime({.cores = 2, .idle_spin_ns = 0});  // core 1 sleeps when idle
    ASSERT_TRUE(runtime.run_on(0, [&ran] {
                  EXPECT_TRUE(spawn_remote_lazy(1, [&ran] { ran++; }).ok());
                  Status bad = spawn_remote_lazy(7, [] {});
                  EXPECT_EQ(bad.error().code(), Errc::kNoSuchCore);
                }).ok());
    ASSERT_TRUE(runtime.run_on(1, [] {}).ok());  // any run of core 1 takes it
    EXPECT_EQ(ran.load(), 1);
    ASSERT_TRUE(runtime.run_on(0, [&ran] {
                  EXPECT_TRUE(spawn_remote_lazy(1, [&ran] { ran++; }).ok());
                }).ok());
  }  // shutdown drains core 1's lazy event
  EXPECT_EQ(ran.load(), 2);
  Status off = spawn_remote_lazy(0, [] {});
  EXPECT_EQ(off.error().code(), Errc::kNotOnCore);
}

// Shutdown with events in flight: every event queued before or during the
// drain runs, including chains that hop between cores.
TEST(Shutdown, RunsEveryEventInFlight) {
  std::atomic<int> hops{0};
  constexpr int kChains = 50;
  constexpr int kChainLength = 200;
  {
    Runtime runtime({.cores = 4});
    struct Hop {
      static void go(std::atomic<int>* hops, int left) {
        hops->fetch_add(1);
        if (left == 0) return;
        const CoreId next = (this_core() + 1) % num_cores();
        EXPECT_TRUE(spawn_remote(next, [hops, left] { go(hops, left - 1); }).ok());
      }
    };
    for (int chain = 0; chain < kChains; ++chain) {
      ASSERT_TRUE(spawn_remote(chain % 4, [&hops] { Hop::go(&hops, kChainLength - 1); }).ok());
    }
  }  // ~Runtime: drain, then stop
  EXPECT_EQ(hops.load(), kChains * kChainLength);
}

// Shutdown while a sender's overflow is still full: drained, not dropped.
TEST(Shutdown, DeliversEventsWaitingForRoomInAChannel) {
  std::atomic<int> received{0};
  constexpr int kEvents = 5'000;
  {
    Runtime runtime({.cores = 2});
    std::atomic<bool> release{false};
    ASSERT_TRUE(spawn_remote(1, [&] {
                  while (!release.load()) std::this_thread::yield();
                }).ok());
    ASSERT_TRUE(runtime.run_on(0, [&] {
                  for (int i = 0; i < kEvents; ++i)
                    EXPECT_TRUE(spawn_remote(1, [&] { received++; }).ok());
                  release = true;
                }).ok());
  }
  EXPECT_EQ(received.load(), kEvents);
}

TEST(Shutdown, RefusesOutsideWorkOnceDraining) {
  Runtime runtime({.cores = 2});
  std::atomic<bool> release{false};
  std::atomic<int> refused{0};
  // Core 0 keeps the drain going until the helper thread has tried to spawn.
  ASSERT_TRUE(spawn_remote(0, [&] {
                while (!release.load()) std::this_thread::yield();
              }).ok());
  std::thread helper([&] {
    while (spawn_remote(1, [] {}).ok()) std::this_thread::yield();
    refused++;
    release = true;
  });
  runtime.shutdown();
  helper.join();
  EXPECT_EQ(refused.load(), 1);
}

}  // namespace
}  // namespace ebb
