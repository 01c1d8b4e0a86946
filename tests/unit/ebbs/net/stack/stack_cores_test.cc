// Stack<Device> on a running runtime: an engine per core, flows steered in
// software from a one-queue device to the core their 4-tuple hash picks,
// and the connection API on top, over drivers/wire in real time.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "drivers/wire/wire.h"
#include "ebbs/net/stack/flow.h"
#include "ebbs/net/stack/stack.h"
#include "runtime/spin_lock.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::net::stack {
namespace {

constexpr uint32_t kIpA = 0xc6120001;
constexpr uint32_t kIpB = 0xc6120002;
constexpr uint16_t kPort = 7000;

// A Wire end is owned by its Wire; the stack takes this handle to it.
struct WireHandle {
  drivers::WireEnd* end;
  MacAddress mac() const { return end->mac(); }
  uint32_t mtu() const { return end->mtu(); }
  uint32_t queue_count() const { return end->queue_count(); }
  Status transmit(uint32_t queue, IOBuf frame) { return end->transmit(queue, std::move(frame)); }
  template <class Sink>
  std::size_t receive(uint32_t queue, Sink&& sink, std::size_t max) {
    return end->receive(queue, sink, max);
  }
};
static_assert(NetDevice<WireHandle>);
using WireStack = Stack<WireHandle>;

StackConfig config_for(uint32_t ip, uint64_t seed) {
  StackConfig c;
  c.interface.ip = ip;
  c.seed = seed;
  return c;
}

struct Accepted {
  CoreId core;
  Endpoint peer;
};

class StackCoresTest : public testing::CoresFixture {};

// Connections from every core of a client stack to a server stack, each
// with one queue: every connection lives on the core its hash picks, on
// both sides, and echoes come back whole.
TEST_P(StackCoresTest, FlowsLandOnTheCoreTheirHashPicks) {
  const uint32_t n = cores();
  constexpr uint32_t kPerCore = 8;
  drivers::Wire wire(drivers::WireOptions{});
  std::vector<Accepted> accepted;
  SpinLock accepted_lock;
  auto result = on_core(0, [&]() -> Status {
    Result<WireStack*> server = WireStack::Start(WireHandle{&wire.end(1)}, config_for(kIpB, 11)).block();
    if (!server) return server.error();
    Result<WireStack*> client = WireStack::Start(WireHandle{&wire.end(0)}, config_for(kIpA, 12)).block();
    if (!client) return client.error();
    Status listening = (*server)
                           ->listen(kPort,
                                    [&accepted, &accepted_lock](Connection c) {
                                      {
                                        SpinLockGuard guard(accepted_lock);
                                        accepted.push_back({this_core(), c.peer()});
                                      }
                                      EXPECT_EQ(c.core(), this_core());
                                      c.on_receive([c](IOBuf data) mutable { (void)c.send(std::move(data)); });
                                    })
                           .block();
    if (!listening) return listening.error();
    // Each client core opens its connections and checks its echoes.
    WireStack* c = *client;
    auto echoed = submit_to_all([c, n]() -> Future<uint32_t> {
      auto ok = std::make_shared<std::atomic<uint32_t>>(0);
      std::vector<Future<void>> done;
      for (uint32_t i = 0; i < kPerCore; ++i) {
        auto promise = std::make_shared<Promise<void>>();
        done.push_back(promise->get_future());
        c->connect(Endpoint{kIpB, kPort}).on_result([ok, promise, i, n](Result<Connection>&& r) {
          if (!r) {
            promise->set_error(r.error());
            return;
          }
          Connection conn = r.value();
          EXPECT_EQ(conn.core(), this_core());
          // The local port was picked so that replies come to this core.
          EXPECT_EQ(flow_core(kIpB, kPort, conn.local().port, n), this_core());
          const std::string text = "hello " + std::to_string(this_core()) + "/" + std::to_string(i);
          auto got = std::make_shared<std::string>();
          conn.on_receive([conn, ok, promise, text, got](IOBuf data) mutable {
            *got += data.to_string();
            if (got->size() < text.size()) return;
            if (*got == text) ok->fetch_add(1);
            conn.close();
            if (promise->pending()) promise->set_value();
          });
          (void)conn.send(IOBuf::CopyOf(text).value());
        });
      }
      return when_all(std::move(done)).then([ok](std::vector<Result<void>>) { return ok->load(); });
    }).block();
    if (!echoed) return echoed.error();
    for (const Result<uint32_t>& per_core : *echoed) {
      EXPECT_TRUE(per_core.ok());
      if (per_core.ok()) {
        EXPECT_EQ(per_core.value(), kPerCore);
      }
    }
    Result<StackCounters> counters = (*server)->counters().block();
    EXPECT_TRUE(counters.ok());
    if (counters) {
      EXPECT_EQ(counters->tcp_accepted, n * kPerCore);
    }
    (void)(*client)->stop().block();
    (void)(*server)->stop().block();
    delete *client;
    delete *server;
    return {};
  });
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(accepted.size(), n * kPerCore);
  std::vector<uint32_t> per_core(n, 0);
  for (const Accepted& a : accepted) {
    EXPECT_EQ(a.core, flow_core(a.peer.ip, a.peer.port, kPort, n));
    ++per_core[a.core];
  }
  for (uint32_t core = 0; core < n; ++core) EXPECT_GT(per_core[core], 0u) << "core " << core;
}

INSTANTIATE_TEST_SUITE_P(Cores, StackCoresTest, ::testing::Values(1u, 2u, 4u), testing::CoresName);

}  // namespace
}  // namespace ebb::net::stack
