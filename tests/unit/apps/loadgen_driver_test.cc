// CoreDriver against a small fake memcached on another core of the same
// runtime: closed and open loops, preloading, error replies, and a server
// that drops a connection mid-run. Counts are checked, never speed.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "apps/loadgen/scheduler.h"
#include "ebbs/net/posix/tcp.h"
#include "runtime/platform.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::loadgen {
namespace {

enum class Fake { kMemcached, kServerErrors, kDropAfter100 };

// Per connection: requests are lines; a set's data follows its line.
struct FakeState {
  std::string line;
  uint64_t skip = 0;  // data bytes (and CRLF) of a set still to come
  uint64_t requests = 0;
  std::set<std::string> stored;
};

void fake_server(Fake kind, net::Connection c) {
  auto state = std::make_shared<FakeState>();
  c.on_receive([c, state, kind](net::IOBuf data) mutable {
    std::string replies;
    const std::string bytes = data.to_string();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (state->skip != 0) {
        --state->skip;
        continue;
      }
      if (bytes[i] != '\n') {
        state->line += bytes[i];
        continue;
      }
      std::string line = state->line;
      state->line.clear();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (++state->requests == 100 && kind == Fake::kDropAfter100) {
        c.abort();
        return;
      }
      if (line.rfind("get ", 0) == 0) {
        const std::string key = line.substr(4);
        if (kind == Fake::kServerErrors)
          replies += "SERVER_ERROR busy\r\n";
        else if (state->stored.count(key) != 0)
          replies += "VALUE " + key + " 0 2\r\nok\r\nEND\r\n";
        else
          replies += "END\r\n";
      } else if (line.rfind("set ", 0) == 0) {
        // set <key> 0 0 <n>
        const std::size_t key_end = line.find(' ', 4);
        state->stored.insert(line.substr(4, key_end - 4));
        state->skip = std::stoull(line.substr(line.rfind(' ') + 1)) + 2;
        replies += "STORED\r\n";
      } else {
        replies += "ERROR\r\n";
      }
    }
    if (!replies.empty()) (void)c.send(net::IOBuf::CopyOf(replies).value());
  });
}

class LoadgenDriverTest : public testing::RuntimeFixture {
 protected:
  void SetUp() override { start(2); }
  void TearDown() override {
    if (driver_ != nullptr) (void)on_core(1, [this] { return driver_->close(); });
    stop();
    driver_.reset();
  }

  void serve(Fake kind, WorkloadSpec spec, uint32_t connections = 2, uint32_t pipeline = 4) {
    auto listener = on_core(0, [kind] {
      return net::posix::listen(0, [kind](net::Connection c) { fake_server(kind, c); });
    });
    ASSERT_TRUE(listener.ok());
    port_ = listener->port();
    workload_ = std::make_unique<Workload>(spec);
    driver_ = std::make_unique<CoreDriver>(*workload_, pipeline, 1);
    const net::Endpoint server{net::Endpoint::kLoopback, port_};
    auto connected =
        on_core(1, [this, server, connections] { return driver_->connect(server, connections); });
    ASSERT_TRUE(connected.ok());
  }

  CoreSnapshot run(double rate, double seconds, double warmup = 0.05) {
    RunPlan plan;
    plan.run = ++run_;
    plan.start_ns = platform::now_ns() + 5'000'000;
    plan.measure_ns = plan.start_ns + static_cast<uint64_t>(warmup * 1e9);
    plan.end_ns = plan.measure_ns + static_cast<uint64_t>(seconds * 1e9);
    plan.drain_ns = plan.end_ns + 5'000'000'000;
    plan.rate = rate;
    EXPECT_TRUE(on_core(1, [this, plan] { return driver_->run(plan); }).ok());
    return on_core(1, [this] { return driver_->snapshot(); }).value();
  }

  uint16_t port_ = 0;
  uint32_t run_ = 0;
  std::unique_ptr<Workload> workload_;
  std::unique_ptr<CoreDriver> driver_;
};

TEST_F(LoadgenDriverTest, ClosedLoopAnswersEveryRequestItSent) {
  WorkloadSpec spec;
  spec.keys = 100;
  serve(Fake::kMemcached, spec);
  const CoreSnapshot s = run(0.0, 0.2);
  const Counters& c = s.counters;
  EXPECT_GT(c.completed, 0u);
  EXPECT_EQ(c.completed, c.sent);
  EXPECT_EQ(c.completed, c.gets + c.sets);
  EXPECT_EQ(c.gets, c.hits + c.misses);
  EXPECT_EQ(c.sets, c.stored);
  EXPECT_EQ(c.errors + c.dropped + c.lost + c.unfinished, 0u);
  EXPECT_EQ(s.histogram.count(), c.completed);
  EXPECT_EQ(s.failed_connections, 0u);
}

TEST_F(LoadgenDriverTest, OpenLoopSendsAtTheRateAndCountsFromTheIntendedTime) {
  WorkloadSpec spec;
  spec.set_fraction = 0.0;
  serve(Fake::kMemcached, spec);
  const CoreSnapshot s = run(2000.0, 0.5);
  const Counters& c = s.counters;
  // About 1000 requests; Poisson counts vary, and a loaded machine only
  // makes them late (counted from their intended time), never fewer.
  EXPECT_GT(c.completed, 700u);
  EXPECT_LT(c.completed, 1300u);
  EXPECT_EQ(c.completed, c.misses);
  EXPECT_EQ(c.errors + c.dropped + c.lost + c.unfinished, 0u);
  EXPECT_EQ(s.send_lag.count(), c.sent);
  // A second run on the same connections counts only its own requests.
  const CoreSnapshot again = run(2000.0, 0.2);
  EXPECT_LT(again.counters.completed, 700u);
  EXPECT_GT(again.counters.completed, 0u);
}

TEST_F(LoadgenDriverTest, PreloadSetsEveryKeyOnceThenGetsHit) {
  WorkloadSpec spec;
  spec.keys = 500;
  spec.set_fraction = 0.0;
  serve(Fake::kMemcached, spec, 1);  // one connection: the fake's store is per connection
  ASSERT_TRUE(on_core(1, [this] { return driver_->preload(++run_, 0, 1, 500); }).ok());
  const CoreSnapshot loaded = on_core(1, [this] { return driver_->snapshot(); }).value();
  EXPECT_EQ(loaded.counters.stored, 500u);
  EXPECT_EQ(loaded.counters.sets, 500u);
  const CoreSnapshot s = run(0.0, 0.1);
  EXPECT_GT(s.counters.hits, 0u);
  EXPECT_EQ(s.counters.misses, 0u);
}

TEST_F(LoadgenDriverTest, ErrorRepliesAreCountedNotFatal) {
  WorkloadSpec spec;
  spec.set_fraction = 0.0;
  serve(Fake::kServerErrors, spec);
  const CoreSnapshot s = run(0.0, 0.1);
  EXPECT_GT(s.counters.errors, 0u);
  EXPECT_EQ(s.counters.errors, s.counters.gets);
  EXPECT_EQ(s.failed_connections, 0u);
}

TEST_F(LoadgenDriverTest, AConnectionThatDiesMidRunIsReportedAndTheRunEnds) {
  WorkloadSpec spec;
  serve(Fake::kDropAfter100, spec, 2);
  const CoreSnapshot s = run(0.0, 0.3, 0.0);
  EXPECT_EQ(s.failed_connections, 2u);
  EXPECT_FALSE(s.failure.empty());
  EXPECT_GT(s.counters.lost, 0u);
}

TEST_F(LoadgenDriverTest, OpenLoopWithNoConnectionLeftCountsEveryRequestLost) {
  WorkloadSpec spec;
  serve(Fake::kDropAfter100, spec, 1);
  // Closed-loop runs until the server has dropped the connection (after
  // its 100th answer: however long that takes on a loaded machine).
  bool dead = false;
  for (int i = 0; i < 100 && !dead; ++i) dead = run(0.0, 0.1, 0.0).failed_connections == 1;
  ASSERT_TRUE(dead);
  const CoreSnapshot s = run(1000.0, 0.1, 0.0);
  EXPECT_EQ(s.counters.completed, 0u);
  EXPECT_GT(s.counters.lost, 0u);
}

TEST_F(LoadgenDriverTest, ConnectingToNothingIsAnError) {
  WorkloadSpec spec;
  Workload workload(spec);
  CoreDriver driver(workload, 1, 1);
  auto connected = on_core(1, [&driver] {
    // Port 1 on loopback: nothing listens there.
    return driver.connect(net::Endpoint{net::Endpoint::kLoopback, 1}, 1);
  });
  EXPECT_FALSE(connected.ok());
}

}  // namespace
}  // namespace ebb::loadgen
