// The own stack's TCP timers and congestion control over the wire, on
// simulated time: the retransmission timeout (RFC 6298, Karn), the retry
// limits, fast retransmit and NewReno recovery, delayed ACKs, zero-window
// probes, backpressure, keepalive, the FIN-WAIT-2 and TIME-WAIT bounds,
// bulk transfers through a bad wire, and option negotiation.

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "ebbs/net/stack/tcp/segment.h"
#include "ebbs/net/stack/tcp/tcp_connection.h"
#include "tests/support/frames.h"
#include "tests/unit/ebbs/net/stack/intruder.h"
#include "tests/unit/ebbs/net/stack/sim.h"
#include "tests/unit/ebbs/net/stack/tcp_transfer.h"

namespace ebb::net::stack {
namespace {

using namespace testing;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSecond = 1'000'000'000;

IOBuf text(std::string_view s) {
  return IOBuf::CopyOf(s).value();
}

// A frame a filter saw, and when.
struct Seen {
  uint64_t at;
  SentSegment segment;
};

// ---- the retransmission timeout --------------------------------------------------

TEST(TcpTimersTest, RetransmissionTimeoutDoublesAndTheTransferRecovers) {
  drivers::WireOptions w;
  w.delay_ns = 10 * kMs;
  Peer client, server;
  Simulation sim(w);
  ASSERT_TRUE(connect_pair(sim, client, server, 7000, /*keep_bytes=*/false));
  TcpConnection* c = only_connection(sim.a());
  ASSERT_NE(c, nullptr);
  const uint64_t rto = c->rto_ns();
  ASSERT_GT(rto, 0u);

  // The peer becomes unreachable: every frame a sends is lost. The first
  // segment goes out again at RTO, 2 RTO, 4 RTO, ... after the one before.
  bool drop = true;
  std::optional<uint32_t> first_seq;
  std::vector<uint64_t> first_segment_sent;
  sim.set_filter(0, [&](IOBuf& f) {
    SentSegment s = parse_tcp_frame(f);
    if (s.valid && s.payload_length > 0) {
      if (!first_seq) first_seq = s.seq;
      if (s.seq == *first_seq) first_segment_sent.push_back(sim.clock().now());
    }
    return !drop;
  });
  constexpr uint64_t kTotal = 256 << 10;
  PatternReceiver receiver(server.conn);
  PatternSender sender(client.conn, kTotal);
  sender.pump();
  constexpr int kRetransmissions = 6;
  ASSERT_TRUE(sim.run_until([&] { return first_segment_sent.size() == kRetransmissions + 1; }));
  for (int i = 0; i < kRetransmissions; ++i)
    EXPECT_EQ(first_segment_sent[i + 1] - first_segment_sent[i], rto << i)
        << "retransmission " << i + 1;
  EXPECT_EQ(sim.a().counters().tcp_timeouts, uint64_t{kRetransmissions});
  EXPECT_EQ(c->rto_ns(), rto << kRetransmissions);
  EXPECT_EQ(receiver.received(), 0u);

  // The path comes back: the next retransmission gets through and the
  // transfer completes, every byte in place.
  drop = false;
  ASSERT_TRUE(sim.run_until([&] { return receiver.ended(); }));
  EXPECT_EQ(receiver.received(), kTotal);
  EXPECT_EQ(receiver.mismatch_at(), UINT64_MAX);
  EXPECT_FALSE(client.closed);
  EXPECT_EQ(sim.a().counters().tcp_timeouts, uint64_t{kRetransmissions + 1});
  EXPECT_LT(c->rto_ns(), rto << kRetransmissions);  // new acknowledgements ended the backoff
}

TEST(TcpTimersTest, KarnRetransmittedSegmentGivesNoRttSample) {
  drivers::WireOptions w;
  w.delay_ns = 10 * kMs;
  Peer client, server;
  Simulation sim(w);
  ASSERT_TRUE(connect_pair(sim, client, server));
  TcpConnection* c = only_connection(sim.a());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(client.conn.send(text("warm")));
  ASSERT_TRUE(sim.run_until([&] { return server.received == "warm"; }));
  sim.run_for(kSecond);  // its (delayed) ACK came back: a sample
  const uint64_t srtt = c->srtt_ns();
  ASSERT_GT(srtt, 0u);

  // The next segment's first copy is lost; the copy the RTO sends arrives.
  // Its ACK is ambiguous (for which copy?), so it must not be timed: timed
  // from the first copy it would add a whole RTO to the estimate.
  int data_frames = 0;
  sim.set_filter(0, [&](IOBuf& f) {
    SentSegment s = parse_tcp_frame(f);
    return !(s.valid && s.payload_length > 0 && ++data_frames == 1);
  });
  ASSERT_TRUE(client.conn.send(text("again")));
  ASSERT_TRUE(sim.run_until([&] { return server.received == "warmagain"; }));
  sim.run_for(kSecond);
  EXPECT_EQ(data_frames, 2);
  EXPECT_EQ(sim.a().counters().tcp_timeouts, 1u);
  EXPECT_EQ(c->srtt_ns(), srtt);

  // A segment sent once is timed again (the check above could fail).
  ASSERT_TRUE(client.conn.send(text("fresh")));
  ASSERT_TRUE(sim.run_until([&] { return server.received == "warmagainfresh"; }));
  sim.run_for(kSecond);
  EXPECT_EQ(data_frames, 3);
  EXPECT_NE(c->srtt_ns(), srtt);
}

TEST(TcpTimersTest, TooManyRetransmissionsTimeTheConnectionOut) {
  StackConfig ca = config_for(kIpA, 1);
  ca.tcp.max_retransmits = 4;
  Peer client, server;
  Simulation sim({}, ca);
  ASSERT_TRUE(connect_pair(sim, client, server));
  const uint64_t rto = only_connection(sim.a())->rto_ns();
  std::vector<uint64_t> sent;
  sim.set_filter(0, [&](IOBuf& f) {
    SentSegment s = parse_tcp_frame(f);
    if (s.valid && s.payload_length > 0) sent.push_back(sim.clock().now());
    return false;  // b hears nothing any more
  });
  const uint64_t t0 = sim.clock().now();
  ASSERT_TRUE(client.conn.send(text("nobody hears this")));
  ASSERT_TRUE(sim.run_until([&] { return client.closed; }));
  EXPECT_EQ(sent.size(), 1u + 4u);  // the segment and max_retransmits copies
  // Given up one (backed-off) RTO after the last copy: 1 + 2 + 4 + 8 + 16.
  EXPECT_EQ(sim.clock().now() - t0, 31 * rto);
  ASSERT_FALSE(client.why.ok());
  EXPECT_EQ(client.why.error().sys_errno(), ETIMEDOUT);
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
  EXPECT_EQ(sim.a().counters().tcp_timeouts, 5u);
}

TEST(TcpTimersTest, UnansweredSynsFailTheConnectWithTimedOut) {
  StackConfig ca = config_for(kIpA, 1);
  ca.tcp.syn_retries = 3;
  Simulation sim({}, ca);
  std::vector<uint64_t> syns;
  sim.set_filter(0, [&](IOBuf& f) {
    SentSegment s = parse_tcp_frame(f);
    if (!s.valid) return true;  // ARP gets through
    if (s.has(tcp::kSyn)) syns.push_back(sim.clock().now());
    return false;
  });
  std::optional<Result<Connection>> result;
  const uint64_t t0 = sim.clock().now();
  sim.a().connect(Endpoint{kIpB, 7000}).on_result([&](Result<Connection>&& r) {
    result.emplace(std::move(r));
  });
  ASSERT_TRUE(sim.run_until([&] { return result.has_value(); }));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code(), Errc::kTimedOut);
  const uint64_t rto = sim.a().config().tcp.initial_rto_ns;
  ASSERT_EQ(syns.size(), 4u);  // the SYN and syn_retries copies, backing off
  EXPECT_EQ(syns[0], t0);
  EXPECT_EQ(syns[1] - syns[0], rto);
  EXPECT_EQ(syns[2] - syns[1], 2 * rto);
  EXPECT_EQ(syns[3] - syns[2], 4 * rto);
  EXPECT_EQ(sim.clock().now() - syns[3], 8 * rto);
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
  EXPECT_EQ(sim.a().counters().tcp_timeouts, 1u);
}

TEST(TcpTimersTest, AcksAfterAGoBackAreNotTakenForOldSegments) {
  // Both sides send three segments at once; every ACK without data is lost
  // for a second, so both time out and go back to their first unacknowledged
  // byte, though the peer has it all. The ACK each then sends must still
  // read as new to the other (sent at SND.MAX, not at the rewound SND.NXT),
  // or each drops the other's ACKs as old and they time out together.
  Peer client, server;
  Simulation sim;
  ASSERT_TRUE(connect_pair(sim, client, server));
  sim.run_for(kSecond);
  const uint32_t mss = only_connection(sim.a())->send_mss();
  const uint64_t until = sim.clock().now() + kSecond;
  for (int side = 0; side < 2; ++side)
    sim.set_filter(side, [&sim, until](IOBuf& f) {
      SentSegment s = parse_tcp_frame(f);
      return !(s.valid && s.payload_length == 0 && sim.clock().now() < until);
    });
  const std::string from_a(3 * mss, 'a'), from_b(3 * mss, 'b');
  ASSERT_TRUE(server.conn.send(IOBuf::CopyOf(from_b).value()));
  ASSERT_TRUE(client.conn.send(IOBuf::CopyOf(from_a).value()));
  ASSERT_TRUE(
      sim.run_until([&] { return server.received == from_a && client.received == from_b; }));
  ASSERT_TRUE(sim.run_until(
      [&] {
        return only_connection(sim.a())->send_queued() == 0 &&
               only_connection(sim.b())->send_queued() == 0;
      },
      10 * kSecond));
  EXPECT_GT(sim.a().counters().tcp_timeouts, 0u);
  EXPECT_GT(sim.b().counters().tcp_timeouts, 0u);
  EXPECT_FALSE(client.closed);
  EXPECT_FALSE(server.closed);
}

// ---- fast retransmit and NewReno -------------------------------------------------

// A bulk transfer (4 MB, 1 ms each way) whose data segments number `lose`
// (counted from 1) are lost once each.
struct LossyTransfer {
  explicit LossyTransfer(std::vector<int> lose) : lost_numbers(std::move(lose)) {
    drivers::WireOptions w;
    w.delay_ns = kMs;
    sim = std::make_unique<Simulation>(w);
  }
  void run() {
    ASSERT_TRUE(connect_pair(*sim, client, server, 7000, false));
    receiver = std::make_unique<PatternReceiver>(server.conn);
    sender = std::make_unique<PatternSender>(client.conn, kTotal);
    int data = 0;
    sim->set_filter(0, [this, data](IOBuf& f) mutable {
      SentSegment s = parse_tcp_frame(f);
      if (!s.valid || s.payload_length == 0) return true;
      ++data;
      for (int n : lost_numbers)
        if (data == n) {
          lost_seqs.push_back(s.seq);
          return false;
        }
      for (uint32_t seq : lost_seqs)
        if (s.seq == seq) ++resent;
      return true;
    });
    sender->pump();
    ASSERT_TRUE(sim->run_until([&] { return receiver->ended(); }));
    EXPECT_EQ(receiver->received(), kTotal);
    EXPECT_EQ(receiver->mismatch_at(), UINT64_MAX);
    EXPECT_EQ(lost_seqs.size(), lost_numbers.size());
  }
  static constexpr uint64_t kTotal = 4 << 20;
  std::vector<int> lost_numbers;
  Peer client, server;
  std::unique_ptr<PatternReceiver> receiver;
  std::unique_ptr<PatternSender> sender;
  std::vector<uint32_t> lost_seqs;
  int resent = 0;
  std::unique_ptr<Simulation> sim;  // last: its connections end before the rest goes
};

TEST(TcpTimersTest, FastRetransmitRepairsOneLostSegmentWithoutATimeout) {
  LossyTransfer t({40});
  t.run();
  const StackCounters& a = t.sim->a().counters();
  EXPECT_EQ(a.tcp_fast_retransmits, 1u);
  EXPECT_EQ(a.tcp_timeouts, 0u);
  EXPECT_EQ(a.tcp_retransmits, 1u);
  EXPECT_EQ(t.resent, 1);
  EXPECT_GT(t.sim->b().counters().tcp_out_of_order, 0u);
}

TEST(TcpTimersTest, NewRenoPartialAckRepairsASecondLossInOneRecovery) {
  // Two holes in one window: the fast retransmit repairs the first; the
  // ACK that follows is partial (RFC 6582) and repairs the second at once.
  LossyTransfer t({40, 42});
  t.run();
  const StackCounters& a = t.sim->a().counters();
  EXPECT_EQ(a.tcp_fast_retransmits, 1u);
  EXPECT_EQ(a.tcp_timeouts, 0u);
  EXPECT_EQ(a.tcp_retransmits, 2u);
  EXPECT_EQ(t.resent, 2);
}

// ---- delayed ACKs ----------------------------------------------------------------

// A connected pair on a wire without delay, with what each side sends recorded.
struct Recorded {
  Recorded(StackConfig a = config_for(kIpA, 1), StackConfig b = config_for(kIpB, 2))
      : sim({}, a, b) {}
  bool connect() {
    if (!connect_pair(sim, client, server)) return false;
    sim.run_for(kSecond);  // the handshake's last ACK and anything delayed
    for (int side = 0; side < 2; ++side)
      sim.set_filter(side, [this, side](IOBuf& f) {
        SentSegment s = parse_tcp_frame(f);
        if (s.valid) seen[side].push_back({sim.clock().now(), s});
        return !(side == 0 ? drop_a : drop_b);
      });
    return true;
  }
  Peer client, server;
  std::vector<Seen> seen[2];
  bool drop_a = false, drop_b = false;
  Simulation sim;  // last: its connections end before the rest goes
};

TEST(TcpTimersTest, DelayedAckForASingleSmallSegment) {
  Recorded r;
  ASSERT_TRUE(r.connect());
  const uint64_t t0 = r.sim.clock().now();
  ASSERT_TRUE(r.client.conn.send(text("x")));
  ASSERT_TRUE(r.sim.run_until([&] { return r.server.received == "x"; }));
  EXPECT_EQ(r.sim.clock().now(), t0);
  EXPECT_TRUE(r.seen[1].empty());  // not acknowledged yet
  ASSERT_TRUE(r.sim.run_until([&] { return !r.seen[1].empty(); }));
  r.sim.run_for(kSecond);
  ASSERT_EQ(r.seen[0].size(), 1u);
  ASSERT_EQ(r.seen[1].size(), 1u);  // one ACK, and only one
  const Seen& ack = r.seen[1][0];
  EXPECT_EQ(ack.at - t0, r.sim.b().config().tcp.delayed_ack_ns);
  EXPECT_EQ(ack.segment.payload_length, 0u);
  EXPECT_TRUE(ack.segment.has(tcp::kAck));
  EXPECT_EQ(ack.segment.ack, r.seen[0][0].segment.seq + 1);
}

TEST(TcpTimersTest, TwoFullSegmentsAreAcknowledgedAtOnce) {
  Recorded r;
  ASSERT_TRUE(r.connect());
  const uint32_t mss = only_connection(r.sim.a())->send_mss();
  const uint64_t t0 = r.sim.clock().now();
  ASSERT_TRUE(r.client.conn.send(IOBuf::CopyOf(std::string(2 * mss, 'f')).value()));
  ASSERT_TRUE(r.sim.run_until([&] { return r.server.received.size() == 2 * mss; }));
  r.sim.run_for(kSecond);
  ASSERT_EQ(r.seen[0].size(), 2u);
  EXPECT_EQ(r.seen[0][0].segment.payload_length, mss);
  ASSERT_EQ(r.seen[1].size(), 1u);
  const Seen& ack = r.seen[1][0];
  EXPECT_EQ(ack.at, t0);  // no delay
  EXPECT_EQ(ack.segment.payload_length, 0u);
  EXPECT_EQ(ack.segment.ack, r.seen[0][0].segment.seq + 2 * mss);
}

TEST(TcpTimersTest, AReplyFromOnReceiveCarriesTheAck) {
  Recorded r;
  ASSERT_TRUE(r.connect());
  r.server.conn.on_receive([&r](IOBuf data) {
    r.server.received += data.to_string();
    (void)r.server.conn.send(text("pong"));
  });
  const uint64_t t0 = r.sim.clock().now();
  ASSERT_TRUE(r.client.conn.send(text("ping")));
  ASSERT_TRUE(r.sim.run_until([&] { return r.client.received == "pong"; }));
  r.sim.run_for(kSecond);
  ASSERT_EQ(r.seen[0].size(), 2u);  // ping, then a's (delayed) ACK of pong
  ASSERT_EQ(r.seen[1].size(), 1u);  // pong alone: no pure ACK before or after it
  const Seen& pong = r.seen[1][0];
  EXPECT_EQ(pong.at, t0);
  EXPECT_EQ(pong.segment.payload_length, 4u);
  EXPECT_TRUE(pong.segment.has(tcp::kAck));
  EXPECT_EQ(pong.segment.ack, r.seen[0][0].segment.seq + 4);
  EXPECT_EQ(r.seen[0][1].at - t0, r.sim.a().config().tcp.delayed_ack_ns);
}

// ---- the receive window ----------------------------------------------------------

TEST(TcpTimersTest, TheReceiveWindowIsTheBufferWhateverTheSequenceNumbers) {
  // The window a connection accepts data in is its buffer, on both sides,
  // for any initial sequence numbers (each connection has its own).
  Simulation sim;
  std::vector<Connection> accepted;
  ASSERT_TRUE(sim.b().listen(7000, [&accepted](Connection c) { accepted.push_back(c); }));
  constexpr int kConnections = 32;
  int connected = 0;
  for (int i = 0; i < kConnections; ++i)
    sim.a().connect(Endpoint{kIpB, 7000}).on_result([&connected](Result<Connection>&& r) {
      if (r.ok()) {
        ++connected;
        (void)r.value().send(IOBuf::CopyOf("hello").value());
      }
    });
  ASSERT_TRUE(
      sim.run_until([&] { return connected == kConnections && accepted.size() == kConnections; }));
  sim.run_for(kSecond);
  const uint32_t buffer = sim.a().config().tcp.receive_buffer;
  for (int side = 0; side < 2; ++side)
    sim.engine(side).tcp().for_each([&](TcpConnection& c) {
      EXPECT_GT(c.receive_window(), 0u);
      EXPECT_LE(c.receive_window(), buffer)
          << (side == 0 ? "client" : "server") << " port " << c.local().port;
    });
}

TEST(TcpTimersTest, ZeroWindowIsProbedWithBackoffForAsLongAsThePeerAnswers) {
  drivers::WireOptions w;
  w.delay_ns = kMs;
  // Addresses stay learnt for the whole test: a probe that waits for ARP
  // would leave a little late.
  StackConfig ca = config_for(kIpA, 1), cb = config_for(kIpB, 2);
  ca.arp.lifetime_ns = cb.arp.lifetime_ns = 3600 * kSecond;
  Peer client, server;
  Simulation sim(w, ca, cb);
  ASSERT_TRUE(connect_pair(sim, client, server, 7000, false));
  TcpConnection* c = only_connection(sim.a());
  ASSERT_NE(c, nullptr);
  PatternReceiver receiver(server.conn);
  server.conn.pause_receive();
  constexpr uint64_t kTotal = 3 << 20;  // three receive buffers
  PatternSender sender(client.conn, kTotal);
  // b sends nothing but ACKs, so a's segments without data are its probes.
  std::vector<uint64_t> probes;
  sim.set_filter(0, [&](IOBuf& f) {
    SentSegment s = parse_tcp_frame(f);
    if (s.valid && s.payload_length == 0 && !s.has(tcp::kFin)) probes.push_back(sim.clock().now());
    return true;
  });
  sender.pump();
  ASSERT_TRUE(sim.run_until([&] { return sim.a().counters().tcp_window_probes > 0; }));
  // a sent until the window closed: the receive buffer is full.
  EXPECT_EQ(c->peer_window(), 0u);
  EXPECT_EQ(receiver.received(), 0u);
  const uint64_t acked = sender.sent() - client.conn.send_queued();
  const uint32_t buffer = sim.b().config().tcp.receive_buffer;
  // (A scaled window rounds up, never down, so its edge may pass the
  // buffer by a little: by less than 2^shift per ACK.)
  EXPECT_LE(acked, buffer + buffer / 64);
  EXPECT_GE(acked, buffer - 2 * c->send_mss());

  // Closed for half an hour of simulated time: probes, further and further
  // apart up to the largest RTO, each answered; the connection lives.
  sim.run_for(1800 * kSecond);
  EXPECT_FALSE(client.closed);
  EXPECT_EQ(state_of(sim.a()), TcpState::kEstablished);
  EXPECT_EQ(receiver.received(), 0u);
  const uint64_t max_rto = sim.a().config().tcp.max_rto_ns;
  ASSERT_GE(probes.size(), 20u);
  EXPECT_EQ(sim.a().counters().tcp_window_probes, probes.size());
  for (std::size_t i = 2; i < probes.size(); ++i) {
    const uint64_t before = probes[i - 1] - probes[i - 2], now = probes[i] - probes[i - 1];
    EXPECT_EQ(now, std::min(2 * before, max_rto)) << "probe " << i;
  }
  EXPECT_EQ(probes.back() - probes[probes.size() - 2], max_rto);

  // Reading again opens the window: everything arrives.
  server.conn.resume_receive();
  ASSERT_TRUE(sim.run_until([&] { return receiver.ended(); }));
  EXPECT_EQ(receiver.received(), kTotal);
  EXPECT_EQ(receiver.mismatch_at(), UINT64_MAX);
}

TEST(TcpTimersTest, UnansweredZeroWindowProbesTimeTheConnectionOut) {
  StackConfig ca = config_for(kIpA, 1);
  ca.tcp.max_retransmits = 3;
  Peer client, server;
  Simulation sim({}, ca);
  ASSERT_TRUE(connect_pair(sim, client, server, 7000, false));
  server.conn.pause_receive();
  PatternSender sender(client.conn, 3 << 20);
  sender.pump();
  // b goes silent once the window is closed: no probe is answered.
  sim.set_filter(1, [&sim](IOBuf&) { return sim.a().counters().tcp_window_probes == 0; });
  ASSERT_TRUE(sim.run_until([&] { return client.closed; }));
  EXPECT_EQ(client.why.error().sys_errno(), ETIMEDOUT);
  EXPECT_EQ(sim.a().counters().tcp_window_probes, 3u);  // max_retransmits, unanswered
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
}

TEST(TcpTimersTest, SendFullPastTheHighWatermarkAndWritableAfterTheDrain) {
  drivers::WireOptions w;
  w.delay_ns = kMs;
  Peer client, server;
  Simulation sim(w);
  ASSERT_TRUE(connect_pair(sim, client, server, 7000, false));
  PatternReceiver receiver(server.conn);
  const ConnectionOptions options;  // the watermarks connect_pair's connections have
  int writable = 0;
  std::size_t queued_when_writable = 0;
  client.conn.on_writable([&] {
    ++writable;
    queued_when_writable = client.conn.send_queued();
  });
  // Queue 2 MB at once, 64 KB at a time, without letting the wire move.
  constexpr std::size_t kChunk = 64 << 10, kTotal = 2 << 20;
  for (std::size_t sent = 0; sent < kTotal; sent += kChunk) {
    Result<IOBuf> chunk = IOBuf::Create(kChunk, 128);
    ASSERT_TRUE(chunk);
    uint8_t* p = chunk->push_back(kChunk);
    for (std::size_t i = 0; i < kChunk; ++i)
      p[i] = pattern_byte(sent + i);
    EXPECT_EQ(client.conn.send_full(), sent > options.send_high_watermark) << sent;
    ASSERT_TRUE(client.conn.send(std::move(*chunk)));
  }
  EXPECT_TRUE(client.conn.send_full());
  EXPECT_EQ(writable, 0);
  ASSERT_TRUE(sim.run_until([&] { return writable > 0; }));
  EXPECT_EQ(writable, 1);
  EXPECT_LE(queued_when_writable, options.send_low_watermark);
  EXPECT_FALSE(client.conn.send_full());
  ASSERT_TRUE(sim.run_until([&] { return receiver.received() == kTotal; }));
  EXPECT_EQ(receiver.mismatch_at(), UINT64_MAX);
  EXPECT_EQ(writable, 1);
}

// ---- keepalive -------------------------------------------------------------------

StackConfig with_keepalive(uint32_t ip, uint64_t seed) {
  StackConfig c = config_for(ip, seed);
  c.tcp.keepalive = true;
  c.tcp.keepalive_idle_ns = 10 * kSecond;
  c.tcp.keepalive_interval_ns = kSecond;
  c.tcp.keepalive_probes = 3;
  return c;
}

TEST(TcpTimersTest, KeepaliveGivesUpOnASilentPeer) {
  Peer client, server;
  Simulation sim({}, with_keepalive(kIpA, 1));
  ASSERT_TRUE(connect_pair(sim, client, server));
  const uint64_t established = sim.clock().now();
  std::vector<uint64_t> probes;
  sim.set_filter(0, [&](IOBuf& f) {
    if (parse_tcp_frame(f).valid) probes.push_back(sim.clock().now());
    return true;
  });
  sim.set_filter(1, [](IOBuf&) { return false; });  // b is gone without a word
  ASSERT_TRUE(sim.run_until([&] { return client.closed; }));
  ASSERT_FALSE(client.why.ok());
  EXPECT_EQ(client.why.error().sys_errno(), ETIMEDOUT);
  EXPECT_EQ(sim.a().counters().tcp_keepalive_probes, 3u);
  ASSERT_EQ(probes.size(), 3u);
  EXPECT_EQ(probes[0] - established, 10 * kSecond);
  EXPECT_EQ(probes[1] - probes[0], kSecond);
  EXPECT_EQ(probes[2] - probes[1], kSecond);
  EXPECT_EQ(sim.clock().now() - probes[2], kSecond);
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
}

TEST(TcpTimersTest, KeepaliveKeepsAnIdleLivePeer) {
  Peer client, server;
  Simulation sim({}, with_keepalive(kIpA, 1));
  ASSERT_TRUE(connect_pair(sim, client, server));
  sim.run_for(105 * kSecond);  // ten idle periods
  EXPECT_FALSE(client.closed);
  EXPECT_FALSE(server.closed);
  EXPECT_EQ(state_of(sim.a()), TcpState::kEstablished);
  // One probe per idle period, each answered.
  EXPECT_EQ(sim.a().counters().tcp_keepalive_probes, 10u);
  EXPECT_EQ(sim.a().counters().tcp_timeouts, 0u);
  ASSERT_TRUE(client.conn.send(text("still here")));
  ASSERT_TRUE(sim.run_until([&] { return server.received == "still here"; }));
  ASSERT_TRUE(server.conn.send(text("so am I")));
  ASSERT_TRUE(sim.run_until([&] { return client.received == "so am I"; }));
}

// ---- endings ---------------------------------------------------------------------

TEST(TcpTimersTest, AnOrphanInFinWait2TimesOut) {
  StackConfig ca = config_for(kIpA, 1);
  ca.tcp.fin_wait2_ns = 5 * kSecond;
  Peer client, server;
  Simulation sim({}, ca);
  ASSERT_TRUE(connect_pair(sim, client, server));
  client.conn.close();  // b reads the end, but never closes
  ASSERT_TRUE(sim.run_until([&] { return state_of(sim.a()) == TcpState::kFinWait2; }));
  EXPECT_TRUE(server.ended);
  sim.run_for(ca.tcp.fin_wait2_ns - kMs);
  EXPECT_EQ(state_of(sim.a()), TcpState::kFinWait2);
  sim.run_for(2 * kMs);
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
  EXPECT_TRUE(client.closed);
  EXPECT_EQ(state_of(sim.b()), TcpState::kCloseWait);
  EXPECT_FALSE(server.closed);
}

TEST(TcpTimersTest, TimeWaitIsBoundedByRecyclingTheOldest) {
  StackConfig ca = config_for(kIpA, 1);
  ca.tcp.max_time_wait = 4;
  Simulation sim({}, ca);
  // b closes as soon as it hears the end (no on_end handler).
  int accepted = 0;
  ASSERT_TRUE(sim.b().listen(7000, [&accepted](Connection) { ++accepted; }));
  constexpr int kConnections = 10;
  std::size_t most = 0;
  for (int i = 0; i < kConnections; ++i) {
    bool closed = false;
    sim.a().connect(Endpoint{kIpB, 7000}).on_result([&closed](Result<Connection>&& r) {
      ASSERT_TRUE(r.ok());
      Connection c = r.value();
      c.on_close([&closed](const Status&) { closed = true; });
      c.close();
    });
    ASSERT_TRUE(sim.run_until([&] {
      most = std::max(most, sim.a().tcp().time_wait_count());
      return closed;
    }));
    EXPECT_EQ(sim.a().tcp().time_wait_count(), std::min(i + 1, 4));
  }
  EXPECT_EQ(accepted, kConnections);
  EXPECT_EQ(most, 4u);
  EXPECT_EQ(sim.a().counters().tcp_time_wait_recycled, uint64_t{kConnections - 4});
  EXPECT_EQ(sim.a().tcp().connection_count(), 4u);
  sim.a().tcp().for_each([](TcpConnection& c) { EXPECT_EQ(c.state(), TcpState::kTimeWait); });
  EXPECT_EQ(sim.b().tcp().connection_count(), 0u);
}

// ---- bulk ------------------------------------------------------------------------

TEST(TcpTimersTest, HundredMegabytesBothWaysThroughLossReorderingAndDuplication) {
  drivers::WireOptions w;
  w.seed = 7;
  w.loss = 0.05;
  w.duplicate = 0.02;
  w.reorder = 0.05;
  w.delay_ns = 100'000;
  w.reorder_delay_ns = 300'000;
  w.jitter_ns = 20'000;
  Peer client, server;
  Simulation sim(w);
  SCOPED_TRACE("wire seed 7");
  ASSERT_TRUE(connect_pair(sim, client, server, 7000, false));
  constexpr uint64_t kTotal = 100ull << 20;  // each way
  PatternReceiver at_server(server.conn), at_client(client.conn);
  PatternSender from_client(client.conn, kTotal), from_server(server.conn, kTotal);
  from_client.pump();
  from_server.pump();
  ASSERT_TRUE(
      sim.run_until([&] { return at_server.ended() && at_client.ended(); }, 3'600'000'000'000));
  EXPECT_EQ(at_server.received(), kTotal);
  EXPECT_EQ(at_server.mismatch_at(), UINT64_MAX);
  EXPECT_EQ(at_client.received(), kTotal);
  EXPECT_EQ(at_client.mismatch_at(), UINT64_MAX);
  for (int side = 0; side < 2; ++side) {
    EXPECT_GT(sim.engine(side).counters().tcp_retransmits, 0u);
    EXPECT_GT(sim.engine(side).counters().tcp_out_of_order, 0u);
    EXPECT_GT(sim.wire().counters(side).lost, 0u);
    EXPECT_GT(sim.wire().counters(side).duplicated, 0u);
  }
}

TEST(TcpTimersTest, TwoHundredParallelConnections) {
  drivers::WireOptions w;
  w.seed = 3;
  w.loss = 0.01;
  w.delay_ns = 500'000;
  constexpr int kConnections = 200;
  std::vector<std::unique_ptr<PatternReceiver>> receivers;
  std::vector<std::unique_ptr<PatternSender>> senders;
  std::map<uint16_t, uint64_t> size_of;  // by the client's port
  int failed = 0;
  Simulation sim(w);  // after what its connections' handlers point at
  ASSERT_TRUE(sim.b().listen(
      7000, [&](Connection c) { receivers.push_back(std::make_unique<PatternReceiver>(c)); }));
  for (int i = 0; i < kConnections; ++i) {
    sim.a().connect(Endpoint{kIpB, 7000}).on_result([&, i](Result<Connection>&& r) {
      if (!r.ok()) {
        ++failed;
        return;
      }
      const uint64_t n = 1000 + 397 * static_cast<uint64_t>(i);
      size_of[r.value().local().port] = n;
      senders.push_back(std::make_unique<PatternSender>(r.value(), n));
      senders.back()->pump();
    });
  }
  auto all_ended = [&] {
    if (receivers.size() < kConnections) return false;
    for (auto& r : receivers)
      if (!r->ended()) return false;
    return true;
  };
  ASSERT_TRUE(sim.run_until([&] { return all_ended() || failed > 0; }));
  EXPECT_EQ(failed, 0);
  ASSERT_EQ(receivers.size(), std::size_t{kConnections});
  ASSERT_EQ(size_of.size(), std::size_t{kConnections});
  for (auto& r : receivers) {
    const uint16_t port = r->connection().peer().port;
    ASSERT_EQ(size_of.count(port), 1u);
    EXPECT_EQ(r->received(), size_of[port]) << "port " << port;
    EXPECT_EQ(r->mismatch_at(), UINT64_MAX) << "port " << port;
  }
  EXPECT_EQ(sim.a().counters().tcp_connected, uint64_t{kConnections});
  EXPECT_EQ(sim.b().counters().tcp_accepted, uint64_t{kConnections});
}

// ---- options ---------------------------------------------------------------------

TcpSegment options_of(const SentSegment& s) {
  TcpSegment seg;
  EXPECT_TRUE(
      parse_tcp_options(reinterpret_cast<const uint8_t*>(s.options.data()), s.options.size(), seg));
  return seg;
}

TEST(TcpTimersTest, APeerWithoutOptionsGetsTheDefaultMssAndNoScaling) {
  Simulation sim;
  Intruder peer(sim);
  Connection accepted;
  ASSERT_TRUE(sim.a().listen(80, [&](Connection c) { accepted = c; }));
  peer.send({.source_port = 4000,
             .destination_port = 80,
             .seq = 1000,
             .flags = tcp::kSyn,
             .window = 8192});
  ASSERT_EQ(peer.sent.size(), 1u);
  const SentSegment synack = peer.sent[0];
  ASSERT_TRUE(synack.has(tcp::kSyn) && synack.has(tcp::kAck));
  const TcpSegment offered = options_of(synack);
  EXPECT_EQ(offered.mss, 1460u);        // ours, always
  EXPECT_EQ(offered.window_scale, -1);  // scaling only answers an offer
  peer.send({.source_port = 4000,
             .destination_port = 80,
             .seq = 1001,
             .ack = synack.seq + 1,
             .flags = tcp::kAck,
             .window = 8192});
  ASSERT_TRUE(accepted);
  TcpConnection* c = only_connection(sim.a());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state(), TcpState::kEstablished);
  EXPECT_EQ(c->send_mss(), 536u);  // RFC 9293 3.7.1
  EXPECT_EQ(c->send_window_scale(), 0);
  EXPECT_EQ(c->receive_window_scale(), 0);
  EXPECT_EQ(c->peer_window(), 8192u);
  ASSERT_TRUE(accepted.send(IOBuf::CopyOf(std::string(3000, 'd')).value()));
  sim.step();
  ASSERT_GE(peer.sent.size(), 2u);
  EXPECT_EQ(peer.sent[1].payload_length, 536u);
  for (std::size_t i = 1; i < peer.sent.size(); ++i) {
    EXPECT_LE(peer.sent[i].payload_length, 536u);
    EXPECT_EQ(peer.sent[i].window, 65535u);  // unscaled: as much as fits
  }
}

TEST(TcpTimersTest, HostileButValidOptionsAreClamped) {
  Simulation sim;
  Intruder peer(sim);
  Connection accepted;
  ASSERT_TRUE(sim.a().listen(80, [&](Connection c) { accepted = c; }));
  // MSS 1 and a window-scale shift of 15 (RFC 7323 2.3: use 14).
  const std::string options = std::string("\x02\x04\x00\x01", 4) + "\x01\x03\x03\x0f";
  peer.send({.source_port = 4000,
             .destination_port = 80,
             .seq = 1000,
             .flags = tcp::kSyn,
             .window = 8192,
             .options = options});
  ASSERT_EQ(peer.sent.size(), 1u);
  const SentSegment synack = peer.sent[0];
  ASSERT_TRUE(synack.has(tcp::kSyn) && synack.has(tcp::kAck));
  const TcpSegment offered = options_of(synack);
  EXPECT_EQ(offered.mss, 1460u);
  peer.send({.source_port = 4000,
             .destination_port = 80,
             .seq = 1001,
             .ack = synack.seq + 1,
             .flags = tcp::kAck,
             .window = 1});
  ASSERT_TRUE(accepted);
  TcpConnection* c = only_connection(sim.a());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(offered.window_scale, c->receive_window_scale());
  EXPECT_GT(c->receive_window_scale(), 0);
  EXPECT_EQ(c->send_window_scale(), tcp::kMaxWindowScale);
  EXPECT_EQ(c->peer_window(), 1u << tcp::kMaxWindowScale);
  EXPECT_EQ(c->send_mss(), 64u);  // a floor, not one byte a segment
  ASSERT_TRUE(accepted.send(IOBuf::CopyOf(std::string(300, 'd')).value()));
  sim.step();
  ASSERT_GE(peer.sent.size(), 2u);
  EXPECT_EQ(peer.sent[1].payload_length, 64u);
}

}  // namespace
}  // namespace ebb::net::stack
