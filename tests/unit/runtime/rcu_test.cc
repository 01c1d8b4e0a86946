#include "runtime/rcu.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <memory>
#include <vector>

#include "runtime/spawn.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::CoresFixture;
using testing::RuntimeFixture;

constexpr uint64_t kLive = 0x1171e1171e;
constexpr uint64_t kDead = 0xdeaddead;

// "Freed" nodes are only marked dead (never reused), so a reader that could
// still see a freed node is caught in every build, not just under ASan.
struct Node {
  std::atomic<uint64_t> magic{kLive};
  uint64_t value = 0;
};

class RcuTest : public CoresFixture {};

TEST_P(RcuTest, NeverFreesUnderAReader) {
  constexpr int kVersions = 3000;
  std::vector<Node> nodes(kVersions + 1);
  std::atomic<Node*> current{&nodes[0]};
  std::atomic<int> violations{0};
  std::atomic<int> reads{0};
  std::atomic<int> freed{0};
  std::atomic<bool> stop{false};
  std::atomic<int> readers_done{0};

  // Readers on every core: each event checks its node before and after
  // doing some work, and queues the next read.
  struct Reader {
    static void read(std::atomic<Node*>* current, std::atomic<int>* violations,
                     std::atomic<int>* reads, std::atomic<bool>* stop, std::atomic<int>* done) {
      Node* n = current->load(std::memory_order_acquire);
      if (n->magic.load(std::memory_order_relaxed) != kLive) (*violations)++;
      uint64_t sum = 0;
      for (int i = 0; i < 200; ++i) sum += n->value + static_cast<uint64_t>(i);
      if (n->magic.load(std::memory_order_relaxed) != kLive || sum == 1) (*violations)++;
      (*reads)++;
      if (stop->load(std::memory_order_relaxed)) (*done)++;
      else spawn_local([=] { read(current, violations, reads, stop, done); });
    }
  };
  ASSERT_TRUE(spawn_on_all([&] { Reader::read(&current, &violations, &reads, &stop, &readers_done); }).ok());

  // The writer publishes new versions and retires old ones through call_rcu.
  run(0, [&] {
    for (int v = 1; v <= kVersions; ++v) {
      nodes[v].value = static_cast<uint64_t>(v);
      Node* old = current.exchange(&nodes[v], std::memory_order_acq_rel);
      call_rcu([old, &freed] {
        old->magic.store(kDead, std::memory_order_relaxed);
        freed++;
      });
      if (v % 16 == 0) yield();  // let readers and grace periods progress
    }
  });
  while (freed.load() < kVersions) std::this_thread::yield();
  stop = true;
  while (readers_done.load() < static_cast<int>(cores())) std::this_thread::yield();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

// A grace period waits for an event that was running when it began.
TEST_P(RcuTest, WaitsForAnEventThatIsStillRunning) {
  if (cores() < 2) GTEST_SKIP() << "needs a second core";
  std::atomic<bool> reader_started{false};
  std::atomic<bool> release_reader{false};
  std::atomic<bool> callback_ran{false};
  ASSERT_TRUE(spawn_remote(1, [&] {
                reader_started = true;
                while (!release_reader.load()) std::this_thread::yield();  // a long event
              }).ok());
  while (!reader_started.load()) std::this_thread::yield();
  run(0, [&] { call_rcu([&] { callback_ran = true; }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(callback_ran.load()) << "grace period ended while core 1's event ran";
  release_reader = true;
  while (!callback_ran.load()) std::this_thread::yield();
}

TEST_P(RcuTest, SynchronizeBlocksUntilReadersAreDone) {
  auto* shared = new Node();
  std::atomic<Node*> current{shared};
  auto done = on_core(0, [&] {
    Node* old = current.exchange(nullptr);
    Status s = synchronize_rcu();
    old->magic = kDead;
    delete old;
    return s;
  });
  EXPECT_TRUE(done.ok());
  auto off = synchronize_rcu();
  EXPECT_EQ(off.error().code(), Errc::kNotOnCore);
}

TEST_P(RcuTest, CallbacksQueuedAtShutdownStillRun) {
  std::atomic<int> ran{0};
  run(0, [&] {
    for (int i = 0; i < 100; ++i) call_rcu([&ran] { ran++; });
  });
  runtime_.reset();
  EXPECT_EQ(ran.load(), 100);
}

INSTANTIATE_TEST_SUITE_P(Cores, RcuTest, ::testing::Values(1u, 2u, 4u), testing::CoresName);

TEST(RcuDeathTest, CallRcuOffACorePanics) {
  EXPECT_DEATH(call_rcu([] {}), "call_rcu called off any core");
}

}  // namespace
}  // namespace ebb
