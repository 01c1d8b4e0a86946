// Hostile and broken input, one class at a time: each frame is dropped and
// counted under its own counter (and no other drop counter moves), and the
// established connection between a and b works on afterwards. Many of the
// bad frames carry something that would hurt if it got through (a reset at
// the exact sequence number, data, an ARP claim on b's address).

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ebbs/net/stack/checksum.h"
#include "ebbs/net/stack/tcp/tcp_connection.h"
#include "tests/support/frames.h"
#include "tests/unit/ebbs/net/stack/intruder.h"
#include "tests/unit/ebbs/net/stack/sim.h"

namespace ebb::net::stack {
namespace {

using namespace testing;

constexpr uint64_t kSecond = 1'000'000'000;

// Every counter of a dropped frame.
struct DropCounter {
  const char* name;
  uint64_t StackCounters::*field;
};
constexpr DropCounter kDropCounters[] = {
    {"runt_frames", &StackCounters::runt_frames},
    {"not_for_us", &StackCounters::not_for_us},
    {"unknown_ethertype", &StackCounters::unknown_ethertype},
    {"arp_malformed", &StackCounters::arp_malformed},
    {"arp_unresolved", &StackCounters::arp_unresolved},
    {"arp_queue_full", &StackCounters::arp_queue_full},
    {"ip_bad_header", &StackCounters::ip_bad_header},
    {"ip_bad_checksum", &StackCounters::ip_bad_checksum},
    {"ip_not_for_us", &StackCounters::ip_not_for_us},
    {"ip_unknown_protocol", &StackCounters::ip_unknown_protocol},
    {"ip_no_route", &StackCounters::ip_no_route},
    {"icmp_malformed", &StackCounters::icmp_malformed},
    {"icmp_bad_checksum", &StackCounters::icmp_bad_checksum},
    {"udp_malformed", &StackCounters::udp_malformed},
    {"udp_bad_checksum", &StackCounters::udp_bad_checksum},
    {"udp_no_port", &StackCounters::udp_no_port},
    {"tcp_malformed", &StackCounters::tcp_malformed},
    {"tcp_bad_checksum", &StackCounters::tcp_bad_checksum},
    {"tcp_bad_options", &StackCounters::tcp_bad_options},
    {"tcp_no_connection", &StackCounters::tcp_no_connection},
    {"tcp_syn_queue_full", &StackCounters::tcp_syn_queue_full},
    {"tcp_too_many", &StackCounters::tcp_too_many},
    {"tcp_out_of_window", &StackCounters::tcp_out_of_window},
    {"tcp_challenge_acks", &StackCounters::tcp_challenge_acks},
    {"tcp_bad_acks", &StackCounters::tcp_bad_acks},
    {"tcp_resets_in", &StackCounters::tcp_resets_in},
    {"fragment_drops", &StackCounters::fragment_drops},
};

// Patches a 16-bit field of a byte string.
void put16(std::string& s, std::size_t at, uint16_t v) {
  store16(reinterpret_cast<uint8_t*>(s.data()) + at, v);
}

// Recomputes an IPv4 header's checksum after a patch.
std::string with_ip_checksum(std::string packet) {
  auto* h = reinterpret_cast<uint8_t*>(packet.data());
  const uint32_t header = (h[ip::kVersionIhl] & 15) * 4u;
  put16(packet, ip::kChecksum, 0);
  Checksum sum;
  sum.add(h, header < packet.size() ? header : packet.size());
  put16(packet, ip::kChecksum, sum.finish());
  return packet;
}

// Recomputes a TCP (or UDP) checksum over the whole segment after a patch.
std::string with_checksum(std::string segment, uint8_t protocol, uint32_t source,
                          uint32_t destination) {
  const std::size_t at = protocol == ip::kProtocolTcp ? tcp::kChecksum : udp::kChecksum;
  put16(segment, at, 0);
  Checksum sum;
  add_pseudo_header(sum, source, destination, protocol, static_cast<uint32_t>(segment.size()));
  sum.add(reinterpret_cast<const uint8_t*>(segment.data()), segment.size());
  put16(segment, at, sum.finish());
  return segment;
}

std::string icmp_echo(uint8_t type, std::string_view payload) {
  std::string m(icmp::kHeaderBytes, '\0');
  m[icmp::kType] = static_cast<char>(type);
  put16(m, 4, 0x1234);
  put16(m, 6, 1);
  m.append(payload);
  Checksum sum;
  sum.add(reinterpret_cast<const uint8_t*>(m.data()), m.size());
  put16(m, icmp::kChecksum, sum.finish());
  return m;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(connect_pair(sim_, client_, server_));
    // a's last segment of the connection says where its sequence spaces are.
    sim_.set_filter(0, [this](IOBuf& f) {
      SentSegment s = parse_tcp_frame(f);
      if (s.valid && s.destination_port == 7000) from_a_.push_back(s);
      return true;
    });
    still_works();
  }

  Engine& a() { return sim_.a(); }
  uint16_t port_a() { return client_.conn.local().port; }
  // a's RCV.NXT and SND.NXT (after still_works() everything is acknowledged).
  uint32_t rcv_nxt() { return from_a_.back().ack; }
  uint32_t snd_nxt() {
    const SentSegment& s = from_a_.back();
    return s.seq + static_cast<uint32_t>(s.payload_length);
  }
  // The next segment b would send on the connection, for editing.
  TcpFields from_b(uint8_t flags, std::string payload = {}) {
    return {.source_port = 7000,
            .destination_port = port_a(),
            .seq = rcv_nxt(),
            .ack = snd_nxt(),
            .flags = flags,
            .window = 1024,
            .payload = std::move(payload)};
  }
  // A reset that a would take: at its RCV.NXT exactly.
  std::string exact_reset() { return tcp_segment(kIpB, kIpA, from_b(tcp::kRst)); }

  // Frames to a, as if from b.
  std::string ethernet_to_a(uint16_t type, std::string_view payload) {
    return ethernet(a().mac(), sim_.b().mac(), type, payload);
  }
  std::string ip_to_a(std::string_view payload, uint8_t protocol = ip::kProtocolTcp) {
    return ethernet_to_a(
        eth::kTypeIpv4, ipv4({.source = kIpB, .destination = kIpA, .protocol = protocol}, payload));
  }
  void to_a(std::string_view frame) { inject(sim_, a(), frame); }

  // Sends the frames to a; then `which` went up by one per frame, no other
  // drop counter moved, and a's connection still works.
  void expect_dropped(const std::vector<std::string>& frames, uint64_t StackCounters::*which) {
    const StackCounters before = a().counters();
    for (const std::string& f : frames)
      to_a(f);
    sim_.run_for(kSecond);
    const StackCounters& after = a().counters();
    for (const DropCounter& c : kDropCounters) {
      const uint64_t want = before.*c.field + (c.field == which ? frames.size() : 0);
      EXPECT_EQ(after.*c.field, want) << c.name;
    }
    still_works();
  }

  // Both directions carry fresh data, every byte as sent.
  void still_works() {
    ++round_;
    const std::string ping = "ping " + std::to_string(round_),
                      pong = "pong " + std::to_string(round_);
    const std::size_t at_server = server_.received.size(), at_client = client_.received.size();
    ASSERT_TRUE(client_.conn.send(IOBuf::CopyOf(ping).value()));
    ASSERT_TRUE(sim_.run_until([&] { return server_.received.size() >= at_server + ping.size(); }));
    EXPECT_EQ(server_.received.substr(at_server), ping);
    ASSERT_TRUE(server_.conn.send(IOBuf::CopyOf(pong).value()));
    ASSERT_TRUE(sim_.run_until([&] { return client_.received.size() >= at_client + pong.size(); }));
    EXPECT_EQ(client_.received.substr(at_client), pong);
    sim_.run_for(kSecond);  // the delayed ACKs
    EXPECT_FALSE(client_.closed);
    EXPECT_FALSE(server_.closed);
    EXPECT_EQ(state_of(a()), TcpState::kEstablished);
  }

  Peer client_, server_;
  std::vector<SentSegment> from_a_;
  int round_ = 0;
  Simulation sim_;  // last: it goes first, while the peers still hear of it
};

// ---- Ethernet --------------------------------------------------------------------

TEST_F(BadInputTest, RuntFrames) {
  const std::string frame = ip_to_a(exact_reset());
  expect_dropped({std::string(), frame.substr(0, 1), frame.substr(0, 13)},
                 &StackCounters::runt_frames);
}

TEST_F(BadInputTest, FramesForAnotherStation) {
  const std::string packet = ipv4({.source = kIpB, .destination = kIpA}, exact_reset());
  const MacAddress multicast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
  expect_dropped({ethernet(MacAddress::Local(0x4242), sim_.b().mac(), eth::kTypeIpv4, packet),
                  ethernet(multicast, sim_.b().mac(), eth::kTypeIpv4, packet)},
                 &StackCounters::not_for_us);
}

TEST_F(BadInputTest, UnknownEthertype) {
  expect_dropped({ethernet_to_a(0x86dd, std::string(40, '\0')), ethernet_to_a(0x0801, "x")},
                 &StackCounters::unknown_ethertype);
}

// ---- ARP: each claims b's address for another MAC; believed, it would cut a off.

std::string arp_claiming_b() {
  return arp_packet(arp::kReply, MacAddress::Local(0x6666), kIpB, MacAddress{}, kIpA);
}

TEST_F(BadInputTest, TruncatedArp) {
  const std::string claim = arp_claiming_b();
  expect_dropped({ethernet_to_a(eth::kTypeArp, claim.substr(0, 20)),
                  ethernet_to_a(eth::kTypeArp, claim.substr(0, arp::kBytes - 1))},
                 &StackCounters::arp_malformed);
  ASSERT_NE(a().arp().find(kIpB, sim_.clock().now()), nullptr);
  EXPECT_EQ(*a().arp().find(kIpB, sim_.clock().now()), sim_.b().mac());
}

TEST_F(BadInputTest, ArpWithWrongLengthsOrTypes) {
  std::vector<std::string> frames;
  for (auto [at, value] : {std::pair<uint32_t, uint8_t>{arp::kHardwareLength, 8},
                           {arp::kProtocolLength, 16},
                           {arp::kHardwareType + 1, 6},
                           {arp::kProtocolType, 0x86},
                           {arp::kOperation + 1, 3}}) {
    std::string claim = arp_claiming_b();
    claim[at] = static_cast<char>(value);
    frames.push_back(ethernet_to_a(eth::kTypeArp, claim));
  }
  // A sender claiming a group address.
  frames.push_back(ethernet_to_a(
      eth::kTypeArp, arp_packet(arp::kReply, MacAddress::Broadcast(), kIpB, MacAddress{}, kIpA)));
  expect_dropped(frames, &StackCounters::arp_malformed);
  ASSERT_NE(a().arp().find(kIpB, sim_.clock().now()), nullptr);
  EXPECT_EQ(*a().arp().find(kIpB, sim_.clock().now()), sim_.b().mac());
}

// ---- IPv4: each carries a reset that a would take.

TEST_F(BadInputTest, IpTruncatedHeader) {
  const std::string packet = ipv4({.source = kIpB, .destination = kIpA}, exact_reset());
  expect_dropped({ethernet_to_a(eth::kTypeIpv4, packet.substr(0, 19)),
                  ethernet_to_a(eth::kTypeIpv4, packet.substr(0, 1))},
                 &StackCounters::ip_bad_header);
}

TEST_F(BadInputTest, IpVersionOtherThanFour) {
  std::string packet = ipv4({.source = kIpB, .destination = kIpA}, exact_reset());
  packet[ip::kVersionIhl] = 0x65;
  expect_dropped({ethernet_to_a(eth::kTypeIpv4, with_ip_checksum(packet))},
                 &StackCounters::ip_bad_header);
}

TEST_F(BadInputTest, IpHeaderLengthUnderFive) {
  std::vector<std::string> frames;
  for (uint8_t ihl : {0, 1, 4}) {
    std::string packet = ipv4({.source = kIpB, .destination = kIpA}, exact_reset());
    packet[ip::kVersionIhl] = static_cast<char>(0x40 | ihl);
    frames.push_back(ethernet_to_a(eth::kTypeIpv4, with_ip_checksum(packet)));
  }
  expect_dropped(frames, &StackCounters::ip_bad_header);
}

TEST_F(BadInputTest, IpTotalLengthLies) {
  std::vector<std::string> frames;
  const std::string good = ipv4({.source = kIpB, .destination = kIpA}, exact_reset());
  // Longer than the frame; shorter than the header; a header (with options)
  // longer than the frame.
  for (uint16_t total :
       {static_cast<uint16_t>(good.size() + 1), uint16_t{1500}, uint16_t{19}, uint16_t{0}}) {
    std::string packet = good;
    put16(packet, ip::kTotalLength, total);
    frames.push_back(ethernet_to_a(eth::kTypeIpv4, with_ip_checksum(packet)));
  }
  std::string long_header = good;
  long_header[ip::kVersionIhl] = 0x4f;  // 60 bytes of header in a 40-byte packet
  frames.push_back(ethernet_to_a(eth::kTypeIpv4, with_ip_checksum(long_header)));
  expect_dropped(frames, &StackCounters::ip_bad_header);
}

TEST_F(BadInputTest, IpBadChecksum) {
  std::string packet = ipv4({.source = kIpB, .destination = kIpA}, exact_reset());
  packet[ip::kChecksum] = static_cast<char>(packet[ip::kChecksum] ^ 0x40);
  expect_dropped({ethernet_to_a(eth::kTypeIpv4, packet)}, &StackCounters::ip_bad_checksum);
}

TEST_F(BadInputTest, IpNotForUs) {
  const uint32_t elsewhere = 0xc6120077;
  expect_dropped(
      {ethernet_to_a(eth::kTypeIpv4, ipv4({.source = kIpB, .destination = elsewhere},
                                          tcp_segment(kIpB, elsewhere, from_b(tcp::kRst)))),
       ethernet_to_a(eth::kTypeIpv4,
                     ipv4({.source = kIpB, .destination = 0x0a000001}, exact_reset()))},
      &StackCounters::ip_not_for_us);
}

TEST_F(BadInputTest, IpUnknownProtocol) {
  expect_dropped({ip_to_a(exact_reset(), 47), ip_to_a(exact_reset(), 255)},
                 &StackCounters::ip_unknown_protocol);
}

// ---- TCP -------------------------------------------------------------------------

TEST_F(BadInputTest, TcpTruncatedOrLyingDataOffset) {
  std::vector<std::string> frames;
  const std::string reset = exact_reset();
  frames.push_back(ip_to_a(reset.substr(0, 19)));  // shorter than a header
  for (uint8_t offset : {0, 4, 6, 15}) {           // under 5; past the segment's end
    std::string s = reset;
    s[tcp::kDataOffset] = static_cast<char>(offset << 4);
    frames.push_back(ip_to_a(with_checksum(s, ip::kProtocolTcp, kIpB, kIpA)));
  }
  // Port 0, and a segment to the broadcast address.
  TcpFields zero_port = from_b(tcp::kRst);
  zero_port.source_port = 0;
  frames.push_back(ip_to_a(tcp_segment(kIpB, kIpA, zero_port)));
  frames.push_back(
      ethernet_to_a(eth::kTypeIpv4, ipv4({.source = kIpB, .destination = ip::kBroadcast},
                                         tcp_segment(kIpB, ip::kBroadcast, from_b(tcp::kRst)))));
  expect_dropped(frames, &StackCounters::tcp_malformed);
}

TEST_F(BadInputTest, TcpBadChecksum) {
  std::string reset = exact_reset();
  reset[tcp::kChecksum + 1] = static_cast<char>(reset[tcp::kChecksum + 1] ^ 1);
  std::string data = tcp_segment(kIpB, kIpA, from_b(tcp::kAck, "EVIL"));
  data.back() = 'L' ^ 0x20;
  expect_dropped({ip_to_a(reset), ip_to_a(data)}, &StackCounters::tcp_bad_checksum);
  EXPECT_EQ(client_.received.find("EVIL"), std::string::npos);
}

TEST_F(BadInputTest, TcpHostileOptionLengths) {
  std::vector<std::string> frames;
  for (std::string options : {std::string("\x08\x00", 2),          // length 0
                              std::string("\x08\x01", 2),          // length 1
                              std::string("\x08\x0a\x00\x00", 4),  // past the header's end
                              std::string("\x01\x01\x01\x08", 4),  // a kind with no length
                              std::string("\x02\x03\x05", 3),      // MSS of length 3
                              std::string("\x03\x04\x07\x00", 4),  // window scale of length 4
                              std::string("\x02\x04\x05\xb4\x08\xff", 6)}) {  // one good, then bad
    TcpFields t = from_b(tcp::kAck | tcp::kPsh, "EVIL");
    t.options = options;
    frames.push_back(ip_to_a(tcp_segment(kIpB, kIpA, t)));
  }
  expect_dropped(frames, &StackCounters::tcp_bad_options);
  EXPECT_EQ(client_.received.find("EVIL"), std::string::npos);
}

TEST_F(BadInputTest, TcpSegmentsOutsideTheWindowAreAnsweredWithAnAck) {
  const TcpConnection* c = only_connection(a());
  ASSERT_NE(c, nullptr);
  const uint32_t window = c->receive_window();
  const uint32_t expected = rcv_nxt();
  std::vector<std::string> frames;
  // Beyond the window's right edge, near and far. (Wholly before RCV.NXT
  // is an old duplicate, counted as such: not here.)
  for (uint32_t seq : {expected + window, expected + window + 1000, expected + 0x40000000u}) {
    TcpFields t = from_b(tcp::kAck | tcp::kPsh, "EVIL");
    t.seq = seq;
    frames.push_back(ip_to_a(tcp_segment(kIpB, kIpA, t)));
  }
  const std::size_t before = from_a_.size();
  expect_dropped(frames, &StackCounters::tcp_out_of_window);
  EXPECT_EQ(client_.received.find("EVIL"), std::string::npos);
  // Each was answered at once by an ACK of what a really expects (RFC 9293
  // 3.10.7.4); still_works()'s segments come after those.
  ASSERT_GE(from_a_.size(), before + frames.size());
  for (std::size_t i = before; i < before + frames.size(); ++i) {
    EXPECT_EQ(from_a_[i].payload_length, 0u);
    EXPECT_EQ(from_a_[i].flags, tcp::kAck);
    EXPECT_EQ(from_a_[i].ack, expected);
  }
}

TEST_F(BadInputTest, TcpAckForDataNeverSent) {
  std::vector<std::string> frames;
  for (uint32_t ack : {snd_nxt() + 100000, snd_nxt() + 1, snd_nxt() - 0x40000000u}) {
    TcpFields t = from_b(tcp::kAck | tcp::kPsh, "EVIL");
    t.ack = ack;
    frames.push_back(ip_to_a(tcp_segment(kIpB, kIpA, t)));
  }
  expect_dropped(frames, &StackCounters::tcp_bad_acks);
  EXPECT_EQ(client_.received.find("EVIL"), std::string::npos);
  EXPECT_EQ(only_connection(a())->send_queued(), 0u);
}

TEST_F(BadInputTest, SynFloodStaysBoundedAndTimesOut) {
  Engine& b = sim_.b();
  const TcpConfig& tcp = b.config().tcp;
  int accepted = 0;
  ASSERT_TRUE(b.listen(8000, [&accepted](Connection) { ++accepted; }));
  // SYNs from random addresses, on the link (each needs ARP, which nobody
  // answers) and off it (no route back), each from its own port.
  constexpr int kSyns = 3000;
  uint64_t random = 0x2545f4914f6cdd1dULL;
  auto next = [&random] {
    random ^= random << 13;
    random ^= random >> 7;
    random ^= random << 17;
    return static_cast<uint32_t>(random);
  };
  std::size_t most_half_open = 0, most_connections = 0, most_waiting = 0;
  for (int i = 0; i < kSyns; ++i) {
    const uint32_t r = next();
    const uint32_t source = i % 2 == 0 ? 0xc6120000 | (16 + r % 200) : 0x0a000000 | (r & 0xffffff);
    const TcpFields syn{.source_port = static_cast<uint16_t>(1024 + i),
                        .destination_port = 8000,
                        .seq = next(),
                        .flags = tcp::kSyn};
    b.receive(frame_of(
        ethernet(b.mac(), MacAddress::Local(0x5000 + i), eth::kTypeIpv4,
                 ipv4({.source = source, .destination = kIpB}, tcp_segment(source, kIpB, syn)))));
    if (i % 64 == 63) sim_.step();
    most_half_open = std::max(most_half_open, b.tcp().half_open(8000));
    most_connections = std::max(most_connections, b.tcp().connection_count());
    most_waiting = std::max(most_waiting, b.arp().waiting());
  }
  sim_.step();
  EXPECT_EQ(most_half_open, tcp.max_half_open);
  EXPECT_LE(most_connections, tcp.max_half_open + 1u);  // and the one established
  EXPECT_LE(most_waiting, b.config().arp.max_waiting);
  EXPECT_EQ(b.counters().tcp_syn_queue_full, kSyns - tcp.max_half_open);
  // The connection that was there goes on.
  still_works();

  // Every SYN-ACK retry unanswered: the half-open connections give up.
  sim_.run_for(300 * kSecond);
  EXPECT_EQ(b.tcp().half_open(8000), 0u);
  EXPECT_EQ(b.tcp().connection_count(), 1u);
  EXPECT_EQ(b.counters().tcp_timeouts, tcp.max_half_open);
  EXPECT_EQ(accepted, 0);

  // Then a real client gets in.
  std::optional<Result<Connection>> result;
  a().connect(Endpoint{kIpB, 8000}).on_result([&](Result<Connection>&& r) {
    result.emplace(std::move(r));
  });
  ASSERT_TRUE(sim_.run_until([&] { return result.has_value(); }));
  ASSERT_TRUE(result->ok());
  EXPECT_EQ(accepted, 1);
  still_works();
}

// ---- UDP and ICMP ----------------------------------------------------------------

TEST_F(BadInputTest, UdpBadLength) {
  int delivered = 0;
  ASSERT_TRUE(a().bind_udp(5353, [&delivered](DatagramSocket&, Endpoint, IOBuf) { ++delivered; }));
  const std::string good = udp_datagram(kIpB, kIpA, 4000, 5353, "twelve bytes");
  std::vector<std::string> frames;
  frames.push_back(ip_to_a(good.substr(0, 7), ip::kProtocolUdp));  // shorter than a header
  for (uint16_t length : {static_cast<uint16_t>(good.size() + 1), uint16_t{7}, uint16_t{0}}) {
    std::string d = good;
    put16(d, udp::kLength, length);
    frames.push_back(ip_to_a(with_checksum(d, ip::kProtocolUdp, kIpB, kIpA), ip::kProtocolUdp));
  }
  expect_dropped(frames, &StackCounters::udp_malformed);
  EXPECT_EQ(delivered, 0);
  // The same datagram, intact, is delivered (the socket was listening).
  to_a(ip_to_a(good, ip::kProtocolUdp));
  EXPECT_EQ(delivered, 1);
}

TEST_F(BadInputTest, UdpBadChecksum) {
  int delivered = 0;
  ASSERT_TRUE(a().bind_udp(5353, [&delivered](DatagramSocket&, Endpoint, IOBuf) { ++delivered; }));
  std::string d = udp_datagram(kIpB, kIpA, 4000, 5353, "twelve bytes");
  d.back() = static_cast<char>(d.back() ^ 0x10);
  expect_dropped({ip_to_a(d, ip::kProtocolUdp)}, &StackCounters::udp_bad_checksum);
  EXPECT_EQ(delivered, 0);
}

TEST_F(BadInputTest, IcmpBadChecksum) {
  std::string echo = icmp_echo(icmp::kEchoRequest, "are you there");
  echo[icmp::kChecksum] = static_cast<char>(echo[icmp::kChecksum] ^ 0x01);
  expect_dropped({ip_to_a(echo, ip::kProtocolIcmp)}, &StackCounters::icmp_bad_checksum);
  EXPECT_EQ(a().counters().icmp_echo_requests, 0u);
  // Intact, it is answered.
  to_a(ip_to_a(icmp_echo(icmp::kEchoRequest, "are you there"), ip::kProtocolIcmp));
  EXPECT_EQ(a().counters().icmp_echo_requests, 1u);
}

TEST_F(BadInputTest, IcmpTruncated) {
  const std::string echo = icmp_echo(icmp::kEchoRequest, "");
  expect_dropped({ip_to_a(echo.substr(0, 4), ip::kProtocolIcmp), ip_to_a("", ip::kProtocolIcmp)},
                 &StackCounters::icmp_malformed);
  EXPECT_EQ(a().counters().icmp_echo_requests, 0u);
}

}  // namespace
}  // namespace ebb::net::stack
