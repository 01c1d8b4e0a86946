// The own stack below TCP, two engines over drivers/wire on simulated time:
// ICMP echo, ARP (expiry, addresses nobody answers for, bounded queues,
// RFC 826's merge rule), UDP, and IPv4 fragmentation and reassembly within
// the reassembler's limits.

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ebbs/net/stack/checksum.h"
#include "ebbs/net/stack/reassembly.h"
#include "tests/support/frames.h"
#include "tests/unit/ebbs/net/stack/intruder.h"
#include "tests/unit/ebbs/net/stack/sim.h"

namespace ebb::net::stack {
namespace {

using namespace testing;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint32_t kNobody = 0xc6120077;  // 198.18.0.119: on the link, never answers

IOBuf text(std::string_view s) {
  return IOBuf::CopyOf(s).value();
}

std::string pattern(std::size_t n, uint64_t from = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(pattern_byte(from + i));
  return s;
}

// A frame one side sent, as these tests care about it.
struct Sent {
  uint64_t at = 0;
  uint16_t type = 0;         // ethertype
  uint16_t operation = 0;    // ARP
  uint32_t target_ip = 0;    // ARP
  uint8_t protocol = 0;      // IPv4
  uint32_t destination = 0;  // IPv4
  MacAddress to;
};

Sent describe(const IOBuf& frame, uint64_t at) {
  Sent s;
  s.at = at;
  const std::string f = frame.to_string();
  if (f.size() < eth::kHeaderBytes) return s;
  const auto* e = reinterpret_cast<const uint8_t*>(f.data());
  std::memcpy(s.to.bytes, e + eth::kDestination, 6);
  s.type = load16(e + eth::kType);
  const uint8_t* p = e + eth::kHeaderBytes;
  if (s.type == eth::kTypeArp && f.size() >= eth::kHeaderBytes + arp::kBytes) {
    s.operation = load16(p + arp::kOperation);
    s.target_ip = load32(p + arp::kTargetIp);
  } else if (s.type == eth::kTypeIpv4 && f.size() >= eth::kHeaderBytes + ip::kMinHeaderBytes) {
    s.protocol = p[ip::kProtocol];
    s.destination = load32(p + ip::kDestination);
  }
  return s;
}

// Records every frame side `side` sends.
void record(Simulation& sim, int side, std::vector<Sent>& out) {
  sim.set_filter(side, [&sim, &out](IOBuf& f) {
    out.push_back(describe(f, sim.clock().now()));
    return true;
  });
}

// ---- ICMP ------------------------------------------------------------------------

TEST(IpTest, PingGetsAnEchoReply) {
  Simulation sim;
  ASSERT_TRUE(sim.a().ping(kIpB, 7, 1));
  ASSERT_TRUE(sim.run_until([&] { return sim.a().echo_replies() == 1; }));
  EXPECT_EQ(sim.b().counters().icmp_echo_requests, 1u);
  // Larger than the MTU: in fragments both ways.
  ASSERT_TRUE(sim.a().ping(kIpB, 7, 2, 4000));
  ASSERT_TRUE(sim.run_until([&] { return sim.a().echo_replies() == 2; }));
  EXPECT_EQ(sim.b().counters().icmp_echo_requests, 2u);
  EXPECT_EQ(sim.a().counters().ip_fragments_out, 3u);
  EXPECT_EQ(sim.b().counters().ip_fragments_out, 3u);
  EXPECT_EQ(sim.b().counters().reassembled, 1u);
  EXPECT_EQ(sim.a().counters().reassembled, 1u);
  EXPECT_EQ(sim.b().counters().icmp_bad_checksum, 0u);
  EXPECT_EQ(sim.a().counters().icmp_bad_checksum, 0u);
}

TEST(IpTest, AnEchoRequestToABroadcastAddressIsNotAnswered) {
  Simulation sim;
  const uint64_t b_in = sim.b().counters().frames_in, b_out = sim.b().counters().frames_out;
  ASSERT_TRUE(sim.a().ping(ip::kBroadcast, 7, 1));
  ASSERT_TRUE(sim.a().ping(sim.a().interface().subnet_broadcast(), 7, 2));
  sim.run_for(kSecond);
  EXPECT_EQ(sim.b().counters().frames_in, b_in + 2);     // both arrived...
  EXPECT_EQ(sim.b().counters().icmp_echo_requests, 0u);  // ...neither was answered
  EXPECT_EQ(sim.b().counters().frames_out, b_out);
  EXPECT_EQ(sim.a().echo_replies(), 0u);
}

// ---- ARP -------------------------------------------------------------------------

TEST(IpTest, AnArpEntryExpiresAndIsAskedForAgain) {
  StackConfig ca = config_for(kIpA, 1), cb = config_for(kIpB, 2);
  ca.arp.lifetime_ns = cb.arp.lifetime_ns = 5 * kSecond;
  Simulation sim({}, ca, cb);
  std::vector<Sent> sent;
  record(sim, 0, sent);
  const uint64_t t0 = sim.clock().now();
  ASSERT_TRUE(sim.a().ping(kIpB, 7, 1));
  ASSERT_TRUE(sim.run_until([&] { return sim.a().echo_replies() == 1; }));
  EXPECT_EQ(sim.a().counters().arp_requests_out, 1u);

  // Shortly before the lifetime ends the entry is good...
  sim.run_for(ca.arp.lifetime_ns - 500 * kMs);
  ASSERT_TRUE(sim.a().ping(kIpB, 7, 2));
  ASSERT_TRUE(sim.run_until([&] { return sim.a().echo_replies() == 2; }));
  EXPECT_EQ(sim.a().counters().arp_requests_out, 1u);

  // ...shortly after, it is not: a asks again before the next packet goes.
  sim.run_for(600 * kMs);
  ASSERT_GT(sim.clock().now(), t0 + ca.arp.lifetime_ns);
  sent.clear();
  ASSERT_TRUE(sim.a().ping(kIpB, 7, 3));
  ASSERT_TRUE(sim.run_until([&] { return sim.a().echo_replies() == 3; }));
  EXPECT_EQ(sim.a().counters().arp_requests_out, 2u);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].type, eth::kTypeArp);
  EXPECT_EQ(sent[0].operation, arp::kRequest);
  EXPECT_EQ(sent[0].target_ip, kIpB);
  EXPECT_EQ(sent[1].type, eth::kTypeIpv4);
  EXPECT_EQ(sent[1].protocol, ip::kProtocolIcmp);
  EXPECT_EQ(sent[1].to, sim.b().mac());
}

TEST(IpTest, PacketsForAnAddressNobodyAnswersAreQueuedThenDropped) {
  Simulation sim;
  const ArpConfig& arp = sim.a().config().arp;
  std::vector<Sent> sent;
  record(sim, 0, sent);
  const uint64_t t0 = sim.clock().now();
  for (uint16_t i = 0; i < 20; ++i)
    ASSERT_TRUE(sim.a().ping(kNobody, 7, i));
  sim.step();
  // Queued up to the bound per address; one request so far.
  EXPECT_EQ(sim.a().arp().waiting(), arp.max_waiting_per_address);
  EXPECT_EQ(sim.a().counters().arp_queue_full, 20 - arp.max_waiting_per_address);
  sim.run_for(10 * kSecond);
  // `requests` requests, retry_ns apart; then the packets are dropped.
  ASSERT_EQ(sent.size(), arp.requests);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].type, eth::kTypeArp);
    EXPECT_EQ(sent[i].operation, arp::kRequest);
    EXPECT_EQ(sent[i].target_ip, kNobody);
    EXPECT_EQ(sent[i].to, MacAddress::Broadcast());
    EXPECT_EQ(sent[i].at, t0 + i * arp.retry_ns);
  }
  EXPECT_EQ(sim.a().counters().arp_unresolved, arp.max_waiting_per_address);
  EXPECT_EQ(sim.a().arp().waiting(), 0u);
  EXPECT_EQ(sim.a().arp().entries(), 0u);
  EXPECT_EQ(sim.a().echo_replies(), 0u);
}

TEST(IpTest, TheArpQueueIsBoundedInAll) {
  Simulation sim;
  const ArpConfig& arp = sim.a().config().arp;
  const uint32_t addresses = arp.max_waiting / arp.max_waiting_per_address + 4;
  for (uint32_t a = 0; a < addresses; ++a)
    for (uint16_t i = 0; i < arp.max_waiting_per_address; ++i)
      ASSERT_TRUE(sim.a().ping(0xc6120038 + a, 7, i));  // 198.18.0.56 on: nobody
  sim.step();
  EXPECT_EQ(sim.a().arp().waiting(), arp.max_waiting);
  EXPECT_EQ(sim.a().counters().arp_queue_full,
            uint64_t{addresses} * arp.max_waiting_per_address - arp.max_waiting);
  // Only the addresses that got a packet in asked.
  EXPECT_EQ(sim.a().counters().arp_requests_out, arp.max_waiting / arp.max_waiting_per_address);
  sim.run_for(10 * kSecond);
  EXPECT_EQ(sim.a().arp().waiting(), 0u);
  EXPECT_EQ(sim.a().counters().arp_unresolved, arp.max_waiting);
  // And the table works after it.
  ASSERT_TRUE(sim.a().ping(kIpB, 7, 1));
  ASSERT_TRUE(sim.run_until([&] { return sim.a().echo_replies() == 1; }));
}

TEST(IpTest, AConnectToAnAddressNobodyAnswersFails) {
  StackConfig ca = config_for(kIpA, 1);
  ca.tcp.syn_retries = 2;
  Simulation sim({}, ca);
  std::optional<Result<Connection>> result;
  sim.a().connect(Endpoint{kNobody, 80}).on_result([&](Result<Connection>&& r) {
    result.emplace(std::move(r));
  });
  ASSERT_TRUE(sim.run_until([&] { return result.has_value(); }));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code(), Errc::kTimedOut);
  EXPECT_GE(sim.a().counters().arp_unresolved, 2u);  // the SYNs, dropped unsent
  EXPECT_EQ(sim.a().counters().tcp_segments_out, 3u);
  EXPECT_EQ(sim.a().tcp().connection_count(), 0u);
  sim.run_for(10 * kSecond);
  EXPECT_EQ(sim.a().arp().waiting(), 0u);
}

TEST(IpTest, OnlyArpForUsOrForAKnownAddressTeachesAnEntry) {
  Simulation sim;
  std::vector<Sent> sent;
  record(sim, 0, sent);
  const MacAddress stranger = MacAddress::Local(0x77), moved = MacAddress::Local(0x78);
  const uint32_t kStranger = 0xc6120032;  // 198.18.0.50
  auto arp_frame = [&](uint16_t op, const MacAddress& from, uint32_t from_ip, uint32_t target) {
    return ethernet(MacAddress::Broadcast(), from, eth::kTypeArp,
                    arp_packet(op, from, from_ip, MacAddress{}, target));
  };
  // RFC 826: an unknown sender is learnt only from a packet for us.
  // A gratuitous reply (the sender announcing itself to everyone):
  inject(sim, sim.a(), arp_frame(arp::kReply, stranger, kStranger, kStranger));
  // a reply to another host, heard on the broadcast:
  inject(sim, sim.a(), arp_frame(arp::kReply, stranger, kStranger, kNobody));
  // a gratuitous request, and a request for another host:
  inject(sim, sim.a(), arp_frame(arp::kRequest, stranger, kStranger, kStranger));
  inject(sim, sim.a(), arp_frame(arp::kRequest, stranger, kStranger, kNobody));
  EXPECT_EQ(sim.a().arp().find(kStranger, sim.clock().now()), nullptr);
  EXPECT_EQ(sim.a().arp().entries(), 0u);
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(sim.a().counters().arp_malformed, 0u);

  // A request for a's address: a learns the asker and answers it.
  inject(sim, sim.a(), arp_frame(arp::kRequest, stranger, kStranger, kIpA));
  const MacAddress* learnt = sim.a().arp().find(kStranger, sim.clock().now());
  ASSERT_NE(learnt, nullptr);
  EXPECT_EQ(*learnt, stranger);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].operation, arp::kReply);
  EXPECT_EQ(sent[0].to, stranger);
  EXPECT_EQ(sim.a().counters().arp_replies_out, 1u);

  // Known now, so the merge rule updates it from any packet (the host moved).
  inject(sim, sim.a(), arp_frame(arp::kReply, moved, kStranger, kStranger));
  learnt = sim.a().arp().find(kStranger, sim.clock().now());
  ASSERT_NE(learnt, nullptr);
  EXPECT_EQ(*learnt, moved);
  EXPECT_EQ(sim.a().arp().entries(), 1u);
}

// ---- UDP -------------------------------------------------------------------------

struct Datagram {
  Endpoint from;
  std::string data;
};

TEST(IpTest, UdpDatagramsBothWays) {
  Simulation sim;
  std::vector<Datagram> at_a, at_b;
  Result<DatagramSocket*> sa =
      sim.a().bind_udp(5000, [&at_a](DatagramSocket&, Endpoint from, IOBuf d) {
        at_a.push_back({from, d.to_string()});
      });
  ASSERT_TRUE(sa);
  // Port 0: b's stack picks one; the socket answers whoever wrote.
  Result<DatagramSocket*> sb =
      sim.b().bind_udp(0, [&at_b](DatagramSocket& s, Endpoint from, IOBuf d) {
        at_b.push_back({from, d.to_string()});
        (void)s.send_to(from, IOBuf::CopyOf("re: " + at_b.back().data).value());
      });
  ASSERT_TRUE(sb);
  const uint16_t port_b = (*sb)->local().port;
  EXPECT_NE(port_b, 0u);
  EXPECT_EQ((*sb)->local().ip, kIpB);
  int strays = 0;
  Result<DatagramSocket*> again =
      sim.b().bind_udp(port_b, [&strays](DatagramSocket&, Endpoint, IOBuf) { ++strays; });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);

  ASSERT_TRUE((*sa)->send_to(Endpoint{kIpB, port_b}, text("hello b")));
  ASSERT_TRUE((*sa)->send_to(Endpoint{kIpB, port_b}, text("and again")));
  ASSERT_TRUE(sim.run_until([&] { return at_a.size() == 2; }));
  ASSERT_EQ(at_b.size(), 2u);
  EXPECT_EQ(at_b[0].from, (Endpoint{kIpA, 5000}));
  EXPECT_EQ(at_b[0].data, "hello b");
  EXPECT_EQ(at_b[1].data, "and again");
  EXPECT_EQ(at_a[0].from, (Endpoint{kIpB, port_b}));
  EXPECT_EQ(at_a[0].data, "re: hello b");
  EXPECT_EQ(at_a[1].data, "re: and again");
  EXPECT_EQ(sim.a().counters().udp_out, 2u);
  EXPECT_EQ(sim.b().counters().udp_in, 2u);
  EXPECT_EQ(sim.b().counters().udp_out, 2u);
  EXPECT_EQ(sim.a().counters().udp_in, 2u);

  // To a port nobody bound: counted, dropped.
  ASSERT_TRUE((*sa)->send_to(Endpoint{kIpB, 9}, text("anyone?")));
  sim.run_for(kSecond);
  EXPECT_EQ(sim.b().counters().udp_no_port, 1u);
  EXPECT_EQ(at_b.size(), 2u);
  EXPECT_EQ(strays, 0);
}

TEST(IpTest, ALargeDatagramIsFragmentedAndReassembled) {
  Simulation sim;
  std::vector<Datagram> at_a, at_b;
  Result<DatagramSocket*> sa =
      sim.a().bind_udp(5000, [&at_a](DatagramSocket&, Endpoint from, IOBuf d) {
        at_a.push_back({from, d.to_string()});
      });
  Result<DatagramSocket*> sb =
      sim.b().bind_udp(6000, [&at_b](DatagramSocket& s, Endpoint from, IOBuf d) {
        at_b.push_back({from, d.to_string()});
        (void)s.send_to(from, std::move(d));  // back the same way
      });
  ASSERT_TRUE(sa && sb);
  const std::string payload = pattern(5000);
  ASSERT_TRUE((*sa)->send_to(Endpoint{kIpB, 6000}, IOBuf::CopyOf(payload).value()));
  ASSERT_TRUE(sim.run_until([&] { return at_a.size() == 1; }));
  // 5008 bytes of UDP in 1480-byte pieces: four fragments each way.
  EXPECT_EQ(sim.a().counters().ip_fragments_out, 4u);
  EXPECT_EQ(sim.b().counters().fragments_in, 4u);
  EXPECT_EQ(sim.b().counters().reassembled, 1u);
  EXPECT_EQ(sim.b().counters().ip_fragments_out, 4u);
  EXPECT_EQ(sim.a().counters().reassembled, 1u);
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_b[0].data, payload);
  EXPECT_EQ(at_a[0].data, payload);
  EXPECT_EQ(sim.b().reassembler().bytes_held(), 0u);
}

// Checksum offload (a device with checksum_offload(), virtio-net's CSUM):
// a's TCP segments and whole UDP datagrams carry only the pseudo-header's
// sum, which the filter, playing the device, finishes over the segment; a
// datagram sent in fragments keeps its whole checksum (no device sums
// across fragments). Unfinished, b refuses them as bad.
namespace {
// Finishes the TCP or UDP checksum of an unfragmented IPv4 frame, as a
// device does (from csum_start to the end, the complement at csum_offset).
bool finish_checksum(IOBuf& frame) {
  std::string f = frame.to_string();
  if (f.size() < 34 || f[12] != 0x08 || f[13] != 0x00) return false;
  if (((static_cast<uint8_t>(f[20]) << 8 | static_cast<uint8_t>(f[21])) & 0x3fff) != 0) return false;
  const std::size_t start = 14 + (static_cast<uint8_t>(f[14]) & 0x0f) * 4u;
  const uint8_t protocol = static_cast<uint8_t>(f[23]);
  const std::size_t at = start + (protocol == ip::kProtocolTcp ? 16 : protocol == ip::kProtocolUdp ? 6 : 0);
  if (at == start) return false;
  Checksum sum;
  sum.add(reinterpret_cast<const uint8_t*>(f.data()) + start, f.size() - start);
  const uint16_t c = sum.finish();
  f[at] = static_cast<char>(c >> 8);
  f[at + 1] = static_cast<char>(c);
  frame = IOBuf::CopyOf(f).value();
  return true;
}
}  // namespace

TEST(IpTest, WithChecksumOffloadTheDeviceFinishesWhatTheStackLeaves) {
  StackConfig offloading = config_for(kIpA, 1);
  offloading.checksum_offload = true;
  for (const bool device_finishes : {true, false}) {
    Simulation sim({}, offloading);
    int finished = 0;
    sim.set_filter(0, [&](IOBuf& frame) {
      if (device_finishes && finish_checksum(frame)) ++finished;
      return true;
    });
    std::vector<Datagram> at_b;
    int at_a = 0;
    Result<DatagramSocket*> sa = sim.a().bind_udp(5000, [&at_a](DatagramSocket&, Endpoint, IOBuf) { ++at_a; });
    Result<DatagramSocket*> sb = sim.b().bind_udp(6000, [&at_b](DatagramSocket&, Endpoint from, IOBuf d) {
      at_b.push_back({from, d.to_string()});
    });
    ASSERT_TRUE(sa && sb);
    const std::string large = pattern(5000);
    ASSERT_TRUE((*sa)->send_to(Endpoint{kIpB, 6000}, text("small")));
    ASSERT_TRUE((*sa)->send_to(Endpoint{kIpB, 6000}, IOBuf::CopyOf(large).value()));
    std::optional<Result<Connection>> refused;
    sim.a().connect(Endpoint{kIpB, 9}).on_result([&](Result<Connection>&& r) { refused.emplace(std::move(r)); });
    sim.run_for(kSecond);
    if (device_finishes) {
      ASSERT_EQ(at_b.size(), 2u);
      EXPECT_EQ(at_b[0].data, "small");
      EXPECT_EQ(at_b[1].data, large);  // fragments: summed whole by the stack
      ASSERT_TRUE(refused.has_value());
      EXPECT_EQ(refused->error().sys_errno(), ECONNREFUSED);  // the SYN's checksum held
      EXPECT_EQ(finished, 2);  // the small datagram and the SYN
      EXPECT_EQ(sim.b().counters().udp_bad_checksum + sim.b().counters().tcp_bad_checksum, 0u);
      EXPECT_EQ(at_a, 0);
    } else {
      // Only the fragmented datagram arrives: the others carry partial sums.
      ASSERT_EQ(at_b.size(), 1u);
      EXPECT_EQ(at_b[0].data, large);
      EXPECT_EQ(sim.b().counters().udp_bad_checksum, 1u);
      EXPECT_GE(sim.b().counters().tcp_bad_checksum, 1u);
    }
  }
}

// A fragment of a UDP datagram from a to b, made by hand.
std::string fragment_to_b(Simulation& sim, uint16_t id, const std::string& datagram,
                          uint32_t offset, uint32_t length, bool more) {
  IpFields f{.source = kIpA,
             .destination = kIpB,
             .protocol = ip::kProtocolUdp,
             .id = id,
             .fragment = static_cast<uint16_t>((more ? ip::kMoreFragments : 0) | offset / 8)};
  return ethernet(sim.b().mac(), sim.a().mac(), eth::kTypeIpv4,
                  ipv4(f, std::string_view(datagram).substr(offset, length)));
}

TEST(IpTest, OverlappingFragmentsAreDiscardedAndACleanRetryPasses) {
  Simulation sim;
  std::vector<Datagram> at_b;
  ASSERT_TRUE(sim.b().bind_udp(6000, [&at_b](DatagramSocket&, Endpoint from, IOBuf d) {
    at_b.push_back({from, d.to_string()});
  }));
  const std::string payload = pattern(2000);
  const std::string datagram = udp_datagram(kIpA, kIpB, 4000, 6000, payload);  // 2008 bytes
  const ReassemblyCounters& rc = sim.b().reassembler().counters();
  // The second fragment rewrites bytes 496..999 of the first.
  inject(sim, sim.b(), fragment_to_b(sim, 77, datagram, 0, 1000, true));
  inject(sim, sim.b(), fragment_to_b(sim, 77, datagram, 496, 2008 - 496, false));
  EXPECT_EQ(rc.overlaps, 1u);
  EXPECT_EQ(sim.b().counters().fragment_drops, 1u);
  EXPECT_TRUE(at_b.empty());
  EXPECT_EQ(sim.b().reassembler().datagrams_in_progress(), 0u);
  EXPECT_EQ(sim.b().reassembler().bytes_held(), 0u);
  EXPECT_EQ(sim.b().counters().reassembled, 0u);
  // The same datagram again, cleanly (last piece first): delivered whole.
  inject(sim, sim.b(), fragment_to_b(sim, 77, datagram, 1000, 1008, false));
  inject(sim, sim.b(), fragment_to_b(sim, 77, datagram, 0, 1000, true));
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_b[0].data, payload);
  EXPECT_EQ(at_b[0].from, (Endpoint{kIpA, 4000}));
  EXPECT_EQ(sim.b().counters().reassembled, 1u);
  EXPECT_EQ(rc.overlaps, 1u);
  EXPECT_EQ(sim.b().counters().udp_bad_checksum, 0u);
}

TEST(IpTest, AFloodOfFragmentsHoldsBoundedMemory) {
  Simulation sim;
  const ReassemblyLimits limits;  // what the engine's reassembler has
  const Reassembler& r = sim.b().reassembler();
  // 200 datagrams of 44 fragments (1480 bytes each, 65120 in all: as large
  // as IPv4 allows), none ever complete: 12 MB if all were kept.
  constexpr uint16_t kDatagrams = 200;
  constexpr uint32_t kFragments = 44;
  const std::string junk(kFragments * 1480, 'j');
  std::size_t most_bytes = 0, most_datagrams = 0;
  for (uint16_t id = 0; id < kDatagrams; ++id) {
    for (uint32_t k = 0; k < kFragments; ++k)
      sim.b().receive(frame_of(fragment_to_b(sim, id, junk, k * 1480, 1480, true)));
    sim.step();
    most_bytes = std::max(most_bytes, r.bytes_held());
    most_datagrams = std::max(most_datagrams, r.datagrams_in_progress());
  }
  EXPECT_LE(most_bytes, limits.max_bytes);
  EXPECT_EQ(most_datagrams, limits.max_datagrams);
  // Datagrams past the table's bound were refused, fragment by fragment.
  EXPECT_EQ(r.counters().over_limit, (kDatagrams - limits.max_datagrams) * kFragments);
  EXPECT_EQ(r.counters().malformed, 0u);
  EXPECT_EQ(sim.b().counters().fragment_drops, r.counters().over_limit);
  EXPECT_EQ(sim.b().counters().reassembled, 0u);
  EXPECT_EQ(sim.b().counters().fragments_in, uint64_t{kDatagrams} * kFragments);

  // At the timeout everything held is let go; datagrams pass again.
  sim.run_for(limits.timeout_ns);
  EXPECT_EQ(r.bytes_held(), 0u);
  EXPECT_EQ(r.datagrams_in_progress(), 0u);
  EXPECT_EQ(r.counters().timeouts, limits.max_datagrams);
  EXPECT_EQ(sim.b().counters().fragment_drops, r.counters().over_limit + limits.max_datagrams);
  std::vector<Datagram> at_b;
  ASSERT_TRUE(sim.b().bind_udp(6000, [&at_b](DatagramSocket&, Endpoint from, IOBuf d) {
    at_b.push_back({from, d.to_string()});
  }));
  int at_a = 0;
  Result<DatagramSocket*> sa =
      sim.a().bind_udp(5000, [&at_a](DatagramSocket&, Endpoint, IOBuf) { ++at_a; });
  ASSERT_TRUE(sa);
  const std::string payload = pattern(5000, 11);
  ASSERT_TRUE((*sa)->send_to(Endpoint{kIpB, 6000}, IOBuf::CopyOf(payload).value()));
  ASSERT_TRUE(sim.run_until([&] { return at_b.size() == 1; }));
  EXPECT_EQ(at_b[0].data, payload);
}


// A new address is announced (RFC 5227 2.3): a broadcast ARP request whose
// sender and target are the new address, so that a neighbour whose entry
// for it failed (a DHCP server's probe before the lease) learns it now.
TEST(IpTest, ANewAddressIsAnnouncedByGratuitousArp) {
  Simulation sim;
  std::vector<std::string> arp_frames;
  sim.set_filter(0, [&](IOBuf& f) {
    const std::string bytes = f.to_string();
    if (bytes.size() >= 14 + arp::kBytes && load16(reinterpret_cast<const uint8_t*>(bytes.data()) + eth::kType) == eth::kTypeArp)
      arp_frames.push_back(bytes);
    return true;
  });
  InterfaceConfig moved = sim.a().interface();
  moved.ip = 0xc6120031;  // 198.18.0.49
  sim.a().configure(moved);
  sim.step();
  ASSERT_EQ(arp_frames.size(), 1u);
  const auto* f = reinterpret_cast<const uint8_t*>(arp_frames[0].data());
  EXPECT_TRUE(std::memcmp(f + eth::kDestination, MacAddress::Broadcast().bytes, 6) == 0);
  const uint8_t* a = f + eth::kHeaderBytes;
  EXPECT_EQ(load16(a + arp::kOperation), arp::kRequest);
  EXPECT_EQ(load32(a + arp::kSenderIp), 0xc6120031u);
  EXPECT_EQ(load32(a + arp::kTargetIp), 0xc6120031u);
  // The same address again, or none: nothing to announce.
  sim.a().configure(moved);
  moved.ip = 0;
  sim.a().configure(moved);
  sim.step();
  EXPECT_EQ(arp_frames.size(), 1u);
}

}  // namespace
}  // namespace ebb::net::stack
