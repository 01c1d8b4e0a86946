// The own stack's TCP, two engines over drivers/wire on simulated time.

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

#include "ebbs/net/stack/tcp/tcp_connection.h"
#include "tests/unit/ebbs/net/stack/sim.h"
#include "tests/unit/ebbs/net/stack/tcp_transfer.h"

namespace ebb::net::stack {
namespace {

using testing::connect_pair;
using testing::kIpA;
using testing::kIpB;
using testing::PatternReceiver;
using testing::PatternSender;
using testing::Peer;
using testing::Simulation;

// The one connection of an engine's TCP layer (null when none).
TcpConnection* only_connection(Engine& e) {
  TcpConnection* found = nullptr;
  e.tcp().for_each([&found](TcpConnection& c) { found = &c; });
  return found;
}

TEST(TcpTest, HandshakeEstablishesBothEnds) {
  Simulation sim;
  Peer client, server;
  ASSERT_TRUE(connect_pair(sim, client, server));
  EXPECT_EQ(client.conn.peer(), (Endpoint{kIpB, 7000}));
  EXPECT_EQ(server.conn.peer().ip, kIpA);
  EXPECT_EQ(server.conn.peer().port, client.conn.local().port);
  EXPECT_EQ(sim.a().counters().tcp_connected, 1u);
  EXPECT_EQ(sim.b().counters().tcp_accepted, 1u);
  ASSERT_NE(only_connection(sim.a()), nullptr);
  EXPECT_EQ(only_connection(sim.a())->state(), TcpState::kEstablished);
  EXPECT_EQ(only_connection(sim.b())->state(), TcpState::kEstablished);
  // Both offered scaling; the MSS is the wire's MTU less 40.
  EXPECT_EQ(only_connection(sim.a())->send_mss(), 1460u);
  EXPECT_EQ(only_connection(sim.a())->send_window_scale(), only_connection(sim.b())->receive_window_scale());
  EXPECT_GT(only_connection(sim.b())->receive_window_scale(), 0);
  // ARP ran once each way (one request, one reply).
  EXPECT_EQ(sim.a().counters().arp_requests_out, 1u);
  EXPECT_EQ(sim.b().counters().arp_replies_out, 1u);
}

TEST(TcpTest, DataFlowsBothWaysAndCloseEndsInTimeWait) {
  Simulation sim;
  Peer client, server;
  ASSERT_TRUE(connect_pair(sim, client, server));
  ASSERT_TRUE(client.conn.send(IOBuf::CopyOf("hello, server").value()));
  ASSERT_TRUE(sim.run_until([&] { return server.received == "hello, server"; }));
  ASSERT_TRUE(server.conn.send(IOBuf::CopyOf("hello, client").value()));
  ASSERT_TRUE(sim.run_until([&] { return client.received == "hello, client"; }));

  client.conn.close();  // the active closer ends in TIME-WAIT
  ASSERT_TRUE(sim.run_until([&] { return server.ended; }));
  EXPECT_EQ(only_connection(sim.b())->state(), TcpState::kCloseWait);
  server.conn.close();
  ASSERT_TRUE(sim.run_until([&] { return client.closed && server.closed; }));
  EXPECT_TRUE(client.why.ok());
  EXPECT_TRUE(server.why.ok());
  EXPECT_EQ(sim.b().tcp().connection_count(), 0u);
  ASSERT_EQ(sim.a().tcp().connection_count(), 1u);
  EXPECT_EQ(only_connection(sim.a())->state(), TcpState::kTimeWait);
  EXPECT_EQ(sim.a().tcp().time_wait_count(), 1u);
  // 2 MSL later it is gone.
  sim.run_for(sim.a().config().tcp.time_wait_ns + 1);
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
  EXPECT_EQ(sim.a().tcp().time_wait_count(), 0u);
}

TEST(TcpTest, ConnectToClosedPortIsRefused) {
  Simulation sim;
  std::optional<Result<Connection>> result;
  sim.a().connect(Endpoint{kIpB, 9}).on_result([&](Result<Connection>&& r) { result.emplace(std::move(r)); });
  ASSERT_TRUE(sim.run_until([&] { return result.has_value(); }));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().sys_errno(), ECONNREFUSED);
  EXPECT_EQ(sim.b().counters().tcp_no_connection, 1u);
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
}

// 100 MB one way through 5% loss, reordering and duplication, every byte checked.
TEST(TcpTest, HundredMegabytesThroughLossReorderingAndDuplication) {
  drivers::WireOptions w;
  w.seed = 42;
  w.loss = 0.05;
  w.duplicate = 0.02;
  w.reorder = 0.05;
  w.delay_ns = 100'000;
  w.reorder_delay_ns = 300'000;
  w.jitter_ns = 20'000;
  Simulation sim(w);
  SCOPED_TRACE("wire seed 42");
  Peer client, server;
  ASSERT_TRUE(connect_pair(sim, client, server, 7000, /*keep_bytes=*/false));
  constexpr uint64_t kTotal = 100ull << 20;
  PatternReceiver receiver(server.conn);
  PatternSender sender(client.conn, kTotal);
  sender.pump();
  ASSERT_TRUE(sim.run_until([&] { return receiver.ended(); }, 3'600'000'000'000));
  EXPECT_EQ(receiver.received(), kTotal);
  EXPECT_EQ(receiver.mismatch_at(), UINT64_MAX);
  const StackCounters& a = sim.a().counters();
  EXPECT_GT(a.tcp_retransmits, 0u);
  EXPECT_GT(a.tcp_fast_retransmits, 0u);
  EXPECT_GT(sim.b().counters().tcp_out_of_order, 0u);
  EXPECT_GT(sim.b().counters().tcp_duplicates, 0u);
  EXPECT_GT(sim.wire().counters(0).lost, 0u);
}

}  // namespace
}  // namespace ebb::net::stack
