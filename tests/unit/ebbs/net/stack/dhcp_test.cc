// The DHCP client (ebbs/net/stack/dhcp.h): engine a, unconfigured, runs the
// client; engine b (198.18.0.2) runs TestDhcpServer; simulated time.

#include "ebbs/net/stack/dhcp.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/support/frames.h"
#include "tests/unit/ebbs/net/stack/dhcp_server.h"
#include "tests/unit/ebbs/net/stack/sim.h"

namespace ebb::net::stack {
namespace {

using testing::kIpB;
using testing::Peer;
using testing::Simulation;
using testing::TestDhcpServer;
namespace w = testing::dhcp_wire;

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint32_t kLeased = 0xc6120064;  // the server's one address, 198.18.0.100

// A DHCP datagram (UDP port 67 or 68) one side put on the wire.
struct DhcpFrame {
  uint32_t source_ip = 0, destination_ip = 0;
  bool broadcast_mac = false;
  uint8_t type = 0;
  uint16_t flags = 0;
  uint32_t ciaddr = 0;
  uint64_t at_ns = 0;
};

std::optional<DhcpFrame> parse_dhcp_frame(const IOBuf& frame, uint64_t now) {
  const std::string f = frame.to_string();
  const auto* e = reinterpret_cast<const uint8_t*>(f.data());
  if (f.size() < eth::kHeaderBytes + ip::kMinHeaderBytes + udp::kHeaderBytes ||
      load16(e + eth::kType) != eth::kTypeIpv4)
    return std::nullopt;
  const uint8_t* h = e + eth::kHeaderBytes;
  const uint32_t ihl = (h[0] & 15) * 4u;
  if (h[ip::kProtocol] != ip::kProtocolUdp) return std::nullopt;
  const uint8_t* u = h + ihl;
  const uint16_t to_port = load16(u + udp::kDestinationPort);
  if (to_port != 67 && to_port != 68) return std::nullopt;
  DhcpFrame d;
  d.source_ip = load32(h + ip::kSource);
  d.destination_ip = load32(h + ip::kDestination);
  d.broadcast_mac = MacAddress::Broadcast() == *reinterpret_cast<const MacAddress*>(e);
  d.at_ns = now;
  const std::size_t start = eth::kHeaderBytes + ihl + udp::kHeaderBytes;
  if (f.size() >= start + w::kOptions + 3) {
    const uint8_t* m = e + start;
    d.flags = load16(m + w::kFlags);
    d.ciaddr = load32(m + w::kCiaddr);
    if (m[w::kOptions] == 53) d.type = m[w::kOptions + 2];  // ours and the server's come first
  }
  return d;
}

class DhcpTest : public ::testing::Test {
 protected:
  DhcpTest()
      : sim_({}, testing::config_for(0, 1), testing::config_for(kIpB, 2)), server_(sim_.b()) {
    for (int side = 0; side < 2; ++side) {
      sim_.set_filter(side, [this, side](IOBuf& f) {
        std::optional<DhcpFrame> d = parse_dhcp_frame(f, sim_.clock().now());
        if (!d) return true;
        frames_[side].push_back(*d);
        return !(drop_[side] && drop_[side](*d));
      });
    }
  }

  // Runs the simulation and the client's timers (Simulation::run_until
  // knows only the engines') until done() or `limit_ns` has passed.
  template <class Done>
  bool run_until(DhcpClient& client, Done&& done, uint64_t limit_ns = 600 * kSecond) {
    ManualClock& clock = sim_.clock();
    const uint64_t end = clock.now() + limit_ns;
    uint64_t busy_steps = 0;
    while (!done()) {
      bool moved = sim_.step();
      const uint64_t due = client.next_deadline();
      if (due != 0 && due <= clock.now()) {
        client.run_timers();
        moved = true;
      }
      if (moved) {
        if (++busy_steps > 1'000'000) {
          ADD_FAILURE() << "no progress in simulated time";
          return false;
        }
        continue;
      }
      busy_steps = 0;
      uint64_t next = 0;
      for (uint64_t d : {client.next_deadline(), sim_.a().next_deadline(), sim_.b().next_deadline(),
                         sim_.wire().next_due(0), sim_.wire().next_due(1)})
        if (d != 0 && (next == 0 || d < next)) next = d;
      if (next == 0 || next > end) {
        clock.set(end);
        return done();
      }
      if (next > clock.now()) clock.set(next);
    }
    return true;
  }

  // Starts the client and runs until start()'s Future completes.
  Result<DhcpLease> obtain(DhcpClient& client, uint64_t limit_ns = 600 * kSecond) {
    std::optional<Result<DhcpLease>> outcome;
    client.start().on_result([&outcome](Result<DhcpLease>&& r) { outcome.emplace(std::move(r)); });
    if (!run_until(
            client, [&] { return outcome.has_value(); }, limit_ns))
      return Error(Errc::kBrokenPromise, "start() never completed");
    return std::move(*outcome);
  }

  // What the client (side 0) or the server (side 1) sent, by type.
  std::vector<DhcpFrame> sent(int side, uint8_t type) const {
    std::vector<DhcpFrame> out;
    for (const DhcpFrame& d : frames_[side])
      if (d.type == type) out.push_back(d);
    return out;
  }

  // TCP ends outlive the engines: an engine's destructor tells them it aborted.
  Peer tcp_client_, tcp_server_;
  Simulation sim_;
  TestDhcpServer server_;
  std::vector<DhcpFrame> frames_[2];
  std::function<bool(const DhcpFrame&)> drop_[2];  // true: the frame is lost
};

// Every datagram the client received lands in exactly one class.
void expect_each_reply_classified(const DhcpCounters& c) {
  EXPECT_EQ(c.received,
            c.offers + c.acks + c.naks + c.malformed + c.wrong_xid + c.wrong_chaddr + c.unexpected);
}

TEST_F(DhcpTest, ObtainsLeaseAndAppliesIt) {
  DhcpClient client(sim_.a(), {.hostname = "ebb-test"});
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const DhcpLease& lease = r.value();
  EXPECT_EQ(lease.ip, kLeased);
  EXPECT_EQ(lease.prefix, 24);
  EXPECT_EQ(lease.netmask, 0xffffff00u);
  EXPECT_EQ(lease.gateway, kIpB);
  EXPECT_EQ(lease.server, kIpB);
  EXPECT_EQ(lease.dns, 0xc6120035u);
  EXPECT_EQ(lease.lease_ns, 3600 * kSecond);
  EXPECT_EQ(lease.renew_ns, 1800 * kSecond);  // defaults: 1/2 and 7/8
  EXPECT_EQ(lease.rebind_ns, 3150 * kSecond);
  EXPECT_EQ(client.state(), DhcpClient::State::kBound);
  ASSERT_NE(client.lease(), nullptr);
  EXPECT_EQ(client.next_deadline(), lease.bound_at_ns + lease.renew_ns);

  // Applied to the engine.
  EXPECT_EQ(sim_.a().interface().ip, kLeased);
  EXPECT_EQ(sim_.a().interface().prefix, 24);
  EXPECT_EQ(sim_.a().interface().gateway, kIpB);

  // DISCOVER and REQUEST as RFC 2131 wants them.
  ASSERT_EQ(server_.seen.size(), 2u);
  const testing::SeenMessage& discover = server_.seen[0];
  const testing::SeenMessage& request = server_.seen[1];
  EXPECT_EQ(discover.type, w::kDiscover);
  EXPECT_EQ(discover.flags, 0x8000);  // broadcast replies, please
  EXPECT_EQ(discover.ciaddr, 0u);
  EXPECT_EQ(discover.chaddr, sim_.a().mac());
  EXPECT_EQ(discover.hostname, "ebb-test");
  EXPECT_EQ(
      discover.client_id,
      std::string(1, '\1') + std::string(reinterpret_cast<const char*>(sim_.a().mac().bytes), 6));
  EXPECT_NE(discover.parameters.find('\1'), std::string::npos);  // subnet mask
  EXPECT_NE(discover.parameters.find('\3'), std::string::npos);  // router
  EXPECT_EQ(request.type, w::kRequest);
  EXPECT_EQ(request.xid, discover.xid);
  EXPECT_EQ(request.requested_ip, kLeased);
  EXPECT_EQ(request.server_id, kIpB);
  EXPECT_EQ(request.ciaddr, 0u);
  EXPECT_EQ(request.flags, 0x8000);
  EXPECT_EQ(lease.bound_at_ns, request.at_ns);
  // From 0.0.0.0 to the broadcast address, on the broadcast MAC.
  std::vector<DhcpFrame> discovers = sent(0, w::kDiscover);
  ASSERT_EQ(discovers.size(), 1u);
  EXPECT_EQ(discovers[0].source_ip, 0u);
  EXPECT_EQ(discovers[0].destination_ip, ip::kBroadcast);
  EXPECT_TRUE(discovers[0].broadcast_mac);

  const DhcpCounters& c = client.counters();
  EXPECT_EQ(c.discovers, 1u);
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(c.offers, 1u);
  EXPECT_EQ(c.acks, 1u);
  EXPECT_EQ(c.malformed, 0u);
  expect_each_reply_classified(c);

  // The address works: UDP both ways, then TCP.
  std::string echoed;
  uint32_t seen_from = 0;
  ASSERT_TRUE(sim_.b().bind_udp(7, [&seen_from](DatagramSocket& s, Endpoint from, IOBuf data) {
    seen_from = from.ip;
    (void)s.send_to(from, std::move(data));
  }));
  Result<DatagramSocket*> socket = sim_.a().bind_udp(
      0, [&echoed](DatagramSocket&, Endpoint, IOBuf data) { echoed = data.to_string(); });
  ASSERT_TRUE(socket);
  ASSERT_TRUE((*socket)->send_to(Endpoint{kIpB, 7}, IOBuf::CopyOf("hello").value()));
  ASSERT_TRUE(run_until(
      client, [&] { return echoed == "hello"; }, 10 * kSecond));
  EXPECT_EQ(seen_from, kLeased);

  ASSERT_TRUE(testing::connect_pair(sim_, tcp_client_, tcp_server_));
  EXPECT_EQ(tcp_server_.conn.peer().ip, kLeased);
}

TEST_F(DhcpTest, LostOffersAreRetransmittedWithBackoff) {
  int offers_lost = 0;
  drop_[1] = [&offers_lost](const DhcpFrame& d) {
    return d.type == w::kOffer && offers_lost++ < 2;
  };
  DhcpClient client(sim_.a());  // RFC timing: 4 s, 8 s, each ±1 s
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->ip, kLeased);

  std::vector<DhcpFrame> discovers = sent(0, w::kDiscover);
  ASSERT_EQ(discovers.size(), 3u);
  const uint64_t first = discovers[1].at_ns - discovers[0].at_ns;
  const uint64_t second = discovers[2].at_ns - discovers[1].at_ns;
  EXPECT_GE(first, 3 * kSecond);
  EXPECT_LE(first, 5 * kSecond);
  EXPECT_GE(second, 7 * kSecond);
  EXPECT_LE(second, 9 * kSecond);
  // Retransmissions keep the xid.
  ASSERT_EQ(server_.count(w::kDiscover), 3u);
  EXPECT_EQ(server_.seen[0].xid, server_.seen[2].xid);
  EXPECT_EQ(client.counters().discovers, 3u);
  EXPECT_EQ(client.counters().offers, 1u);
}

TEST_F(DhcpTest, LostAckIsRetransmitted) {
  int acks_lost = 0;
  drop_[1] = [&acks_lost](const DhcpFrame& d) { return d.type == w::kAck && acks_lost++ < 1; };
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(client.counters().discovers, 1u);
  EXPECT_EQ(client.counters().requests, 2u);
  // The lease counts from the first REQUEST, the conservative end.
  EXPECT_EQ(r->bound_at_ns, sent(0, w::kRequest)[0].at_ns);
}

TEST_F(DhcpTest, NakRestartsDiscovery) {
  server_.naks_to_send = 1;
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->ip, kLeased);
  EXPECT_EQ(server_.count(w::kDiscover), 2u);
  EXPECT_EQ(server_.count(w::kRequest), 2u);
  EXPECT_EQ(client.counters().naks, 1u);
  EXPECT_EQ(client.counters().restarts, 1u);
  // A new transaction after the NAK.
  ASSERT_EQ(server_.seen.size(), 4u);
  EXPECT_NE(server_.seen[0].xid, server_.seen[2].xid);
}

TEST_F(DhcpTest, ServerThatAlwaysNaksFailsStart) {
  server_.naks_to_send = 1000;
  DhcpClient client(sim_.a(), {.max_attempts = 3});
  Result<DhcpLease> r = obtain(client);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimedOut);
  EXPECT_EQ(client.counters().naks, 4u);  // the first, then 3 restarts
  EXPECT_EQ(client.state(), DhcpClient::State::kFailed);
  EXPECT_EQ(sim_.a().ip(), 0u);
}

TEST_F(DhcpTest, SilentServerFailsWithTimedOut) {
  server_.silent = true;
  DhcpClient client(sim_.a(), {.max_attempts = 4});
  const uint64_t began = sim_.clock().now();
  Result<DhcpLease> r = obtain(client);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimedOut);
  EXPECT_NE(std::string(r.error().message()).find("DHCP"), std::string::npos);
  EXPECT_EQ(server_.count(w::kDiscover), 4u);
  // 4 + 8 + 16 + 32 s, each ±1 s.
  const uint64_t took = sim_.clock().now() - began;
  EXPECT_GE(took, 56 * kSecond);
  EXPECT_LE(took, 64 * kSecond);
  EXPECT_EQ(client.state(), DhcpClient::State::kFailed);
  EXPECT_EQ(client.next_deadline(), 0u);
  EXPECT_EQ(client.lease(), nullptr);
  EXPECT_EQ(sim_.a().ip(), 0u);

  // It may be started again, and succeeds once the server speaks.
  server_.silent = false;
  Result<DhcpLease> again = obtain(client);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(sim_.a().ip(), kLeased);
}

TEST_F(DhcpTest, BackoffIsCappedAndShrinkable) {
  server_.silent = true;
  DhcpClient client(sim_.a(), {.initial_timeout_ns = 100'000'000,
                               .max_timeout_ns = 400'000'000,
                               .jitter_ns = 0,
                               .max_attempts = 6});
  Result<DhcpLease> r = obtain(client);
  ASSERT_FALSE(r.ok());
  std::vector<DhcpFrame> discovers = sent(0, w::kDiscover);
  ASSERT_EQ(discovers.size(), 6u);
  const uint64_t expected_ms[] = {100, 200, 400, 400, 400};
  for (std::size_t i = 0; i + 1 < discovers.size(); ++i)
    EXPECT_EQ(discovers[i + 1].at_ns - discovers[i].at_ns, expected_ms[i] * 1'000'000) << i;
}

TEST_F(DhcpTest, RenewsAtT1ByUnicastAndExtendsTheLease) {
  server_.lease_s = 1000;
  server_.t1_s = 500;
  server_.t2_s = 875;
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const uint64_t bound_at = r->bound_at_ns;
  EXPECT_EQ(r->renew_ns, 500 * kSecond);
  EXPECT_EQ(r->rebind_ns, 875 * kSecond);
  std::vector<const DhcpLease*> changes;
  client.on_change([&changes](const DhcpLease* l) { changes.push_back(l); });

  ASSERT_TRUE(run_until(
      client, [&] { return client.counters().renewals == 1; }, 600 * kSecond));
  const testing::SeenMessage* renew = server_.last(w::kRequest);
  ASSERT_NE(renew, nullptr);
  EXPECT_EQ(renew->at_ns, bound_at + 500 * kSecond);
  EXPECT_EQ(renew->ciaddr, kLeased);  // RENEWING: ciaddr, no options 50/54,
  EXPECT_EQ(renew->requested_ip, 0u);
  EXPECT_EQ(renew->server_id, 0u);
  EXPECT_EQ(renew->flags, 0);  // and no broadcast flag
  std::vector<DhcpFrame> requests = sent(0, w::kRequest);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].source_ip, kLeased);
  EXPECT_EQ(requests[1].destination_ip, kIpB);  // unicast to the server
  EXPECT_FALSE(requests[1].broadcast_mac);
  std::vector<DhcpFrame> acks = sent(1, w::kAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1].destination_ip, kLeased);  // and back to the address

  // Extended from the renewal.
  ASSERT_NE(client.lease(), nullptr);
  EXPECT_EQ(client.lease()->bound_at_ns, renew->at_ns);
  EXPECT_EQ(client.next_deadline(), renew->at_ns + 500 * kSecond);
  EXPECT_EQ(client.state(), DhcpClient::State::kBound);
  EXPECT_EQ(sim_.a().ip(), kLeased);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0], nullptr);
  EXPECT_EQ(client.counters().discovers, 1u);
  expect_each_reply_classified(client.counters());
}

TEST_F(DhcpTest, RebindsAtT2ThenDropsTheAddressAtExpiryAndRediscovers) {
  server_.lease_s = 1000;
  server_.t1_s = 500;
  server_.t2_s = 875;
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const uint64_t bound_at = r->bound_at_ns;
  std::vector<bool> changes;  // true: a lease, false: dropped
  client.on_change([&changes](const DhcpLease* l) { changes.push_back(l != nullptr); });
  server_.silent = true;
  frames_[0].clear();

  ASSERT_TRUE(run_until(
      client, [&] { return sim_.a().ip() == 0; }, 1100 * kSecond));
  EXPECT_EQ(sim_.clock().now(), bound_at + 1000 * kSecond);
  EXPECT_EQ(client.counters().expirations, 1u);
  EXPECT_EQ(client.lease(), nullptr);
  // RENEWING: unicast at T1, then after half the time left to T2 (at least
  // 60 s); REBINDING: broadcast at T2, then after half the time left.
  std::vector<uint64_t> unicast, broadcast;
  for (const DhcpFrame& d : sent(0, w::kRequest)) {
    EXPECT_EQ(d.ciaddr, kLeased);
    EXPECT_EQ(d.flags, 0);
    (d.destination_ip == ip::kBroadcast ? broadcast : unicast)
        .push_back((d.at_ns - bound_at) / 1'000'000);
  }
  EXPECT_EQ(unicast, (std::vector<uint64_t>{500'000, 687'500, 781'250, 841'250}));
  EXPECT_EQ(broadcast, (std::vector<uint64_t>{875'000, 937'500, 997'500}));

  // Discovery starts over at once, and never gives up.
  ASSERT_TRUE(run_until(
      client, [&] { return !sent(0, w::kDiscover).empty(); }, 1));
  ASSERT_EQ(sent(0, w::kDiscover).size(), 1u);
  EXPECT_EQ(sent(0, w::kDiscover)[0].at_ns, bound_at + 1000 * kSecond);
  EXPECT_EQ(client.state(), DhcpClient::State::kSelecting);
  run_until(
      client, [] { return false; }, 1000 * kSecond);
  EXPECT_GT(sent(0, w::kDiscover).size(), 10u);
  EXPECT_EQ(client.state(), DhcpClient::State::kSelecting);

  server_.silent = false;
  ASSERT_TRUE(run_until(client, [&] { return client.state() == DhcpClient::State::kBound; }));
  EXPECT_EQ(sim_.a().ip(), kLeased);
  EXPECT_EQ(changes, (std::vector<bool>{false, true}));
}

TEST_F(DhcpTest, NakWhileRenewingDropsTheAddress) {
  DhcpClient client(sim_.a());
  ASSERT_TRUE(obtain(client).ok());
  std::vector<bool> changes;
  client.on_change([&changes](const DhcpLease* l) { changes.push_back(l != nullptr); });
  server_.naks_to_send = 1;
  ASSERT_TRUE(run_until(
      client, [&] { return client.counters().naks == 1; }, 3600 * kSecond));
  EXPECT_EQ(changes, (std::vector<bool>{false}));
  ASSERT_TRUE(run_until(client, [&] { return client.state() == DhcpClient::State::kBound; }));
  EXPECT_EQ(changes, (std::vector<bool>{false, true}));
  EXPECT_EQ(sim_.a().ip(), kLeased);
  EXPECT_EQ(client.counters().discovers, 2u);
}

TEST_F(DhcpTest, IgnoresRepliesWithWrongXidOrChaddr) {
  server_.rewrite = [](uint8_t, const std::string& good) {
    std::string other_xid = good, other_client = good;
    other_xid[w::kXid] = static_cast<char>(other_xid[w::kXid] ^ 1);
    other_client[w::kChaddr + 5] = static_cast<char>(other_client[w::kChaddr + 5] ^ 1);
    return std::vector<std::string>{other_xid, other_client, good};
  };
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const DhcpCounters& c = client.counters();
  EXPECT_EQ(c.wrong_xid, 2u);  // one of each per OFFER and ACK
  EXPECT_EQ(c.wrong_chaddr, 2u);
  EXPECT_EQ(c.offers, 1u);
  EXPECT_EQ(c.acks, 1u);
  EXPECT_EQ(c.discovers, 1u);  // no retransmission was needed
  EXPECT_EQ(c.requests, 1u);
  expect_each_reply_classified(c);
}

TEST_F(DhcpTest, DropsAndCountsMalformedReplies) {
  std::vector<std::string> bad_offers;
  server_.rewrite = [&bad_offers](uint8_t type, const std::string& good) {
    const std::string body = good.substr(0, good.size() - 1);  // without the end option
    std::vector<std::string> out;
    if (type == w::kOffer) {
      out.push_back(body + std::string("\x0c\xc8xx", 4));  // length past the end
      out.push_back(body + "\x03");                        // no room for the length
      out.push_back(good.substr(0, 200));                  // truncated in the header
      out.push_back(good.substr(0, w::kOptions - 1));      // one byte short of the options
      std::string no_cookie = good;
      no_cookie[w::kCookie] = 0;
      out.push_back(no_cookie);
      std::string no_type = good;  // option 53 turned into padding
      no_type[w::kOptions] = no_type[w::kOptions + 1] = no_type[w::kOptions + 2] = 0;
      out.push_back(no_type);
      std::string no_server = good;  // option 54 (after 53) turned into padding
      for (std::size_t i = 0; i < 6; ++i)
        no_server[w::kOptions + 3 + i] = 0;
      out.push_back(no_server);
      out.push_back(body + std::string("\x01\x03\xff\xff\xff\xff", 6));      // mask of 3 bytes
      out.push_back(body + std::string("\x01\x04\xff\x00\xff\x00\xff", 7));  // holes in the mask
      out.push_back(body + std::string("\x35\x02\x02\x02\xff", 5));          // type of 2 bytes
      out.push_back(body + std::string("\x03\x03\x01\x02\x03\xff", 6));      // router of 3 bytes
      std::string broadcast_address = good;
      for (std::size_t i = 0; i < 4; ++i)
        broadcast_address[w::kYiaddr + i] = '\xff';
      out.push_back(broadcast_address);
      std::string hops = good;  // hlen that is not Ethernet's
      hops[2] = 16;
      out.push_back(hops);
      bad_offers = out;
    } else if (type == w::kAck) {
      std::string no_lease = good;  // option 51 (after 53, 54) turned into padding
      for (std::size_t i = 0; i < 6; ++i)
        no_lease[w::kOptions + 9 + i] = 0;
      out.push_back(no_lease);
    }
    out.push_back(good);
    return out;
  };
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const DhcpCounters& c = client.counters();
  EXPECT_EQ(c.malformed, bad_offers.size() + 1);
  EXPECT_EQ(c.offers, 1u);
  EXPECT_EQ(c.acks, 1u);
  EXPECT_EQ(c.discovers, 1u);
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(r->prefix, 24);
  expect_each_reply_classified(c);
}

TEST_F(DhcpTest, SurvivesRandomlyMangledOffers) {
  // Thousands of mutations of a good OFFER: bytes flipped, lengths lied,
  // packets cut. None may crash the client (run this under ASan), each is
  // classified once, and a good server gets it bound in the end.
  std::mt19937_64 random(7);
  bool mangled = false;
  server_.rewrite = [&](uint8_t type, const std::string& good) {
    if (type != w::kOffer || mangled) return std::vector<std::string>{good};
    mangled = true;
    std::vector<std::string> out;
    for (int n = 0; n < 3000; ++n) {
      std::string m = good;
      const int edits = 1 + static_cast<int>(random() % 4);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = random() % 3 == 0
                                   ? random() % m.size()
                                   : w::kOptions + random() % (m.size() - w::kOptions);
        m[at] = static_cast<char>(random());
      }
      if (random() % 4 == 0) m.resize(random() % (m.size() + 1));
      if (random() % 4 == 0) m.append(random() % 40, static_cast<char>(random()));
      out.push_back(m);
    }
    return out;
  };
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client, 3600 * kSecond);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(sim_.a().ip(), r->ip);
  EXPECT_GE(client.counters().received, 3000u);
  EXPECT_GT(client.counters().malformed, 100u);
  expect_each_reply_classified(client.counters());
}

TEST_F(DhcpTest, ServerTimesAreSanitized) {
  server_.lease_s = 1000;
  server_.t1_s = 900;  // after T2: not taken
  server_.t2_s = 800;
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rebind_ns, 800 * kSecond);
  EXPECT_EQ(r->renew_ns, 500 * kSecond);

  server_.lease_s = 0;  // a zero lease would have the client ask at wire speed
  server_.t1_s = server_.t2_s = 0;
  client.stop();
  Result<DhcpLease> again = obtain(client);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->lease_ns, 10 * kSecond);
}

TEST_F(DhcpTest, InfiniteLeaseIsNeverRenewed) {
  server_.lease_s = 0xffffffff;
  DhcpClient client(sim_.a());
  Result<DhcpLease> r = obtain(client);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lease_ns, DhcpLease::kInfinite);
  EXPECT_EQ(client.next_deadline(), 0u);
  run_until(
      client, [] { return false; }, 100'000 * kSecond);
  EXPECT_EQ(client.counters().requests, 1u);
  EXPECT_EQ(sim_.a().ip(), kLeased);
}

TEST_F(DhcpTest, StopReleasesTheLeaseAndDropsTheAddress) {
  DhcpClient client(sim_.a());
  ASSERT_TRUE(obtain(client).ok());
  std::vector<bool> changes;
  client.on_change([&changes](const DhcpLease* l) { changes.push_back(l != nullptr); });
  client.stop();
  EXPECT_EQ(sim_.a().ip(), 0u);
  EXPECT_EQ(client.state(), DhcpClient::State::kStopped);
  EXPECT_EQ(client.next_deadline(), 0u);
  EXPECT_EQ(client.lease(), nullptr);
  EXPECT_EQ(changes, (std::vector<bool>{false}));
  // The RELEASE was built before the address went; it still goes out.
  ASSERT_TRUE(run_until(
      client, [&] { return server_.count(w::kRelease) == 1; }, 10 * kSecond));
  const testing::SeenMessage* release = server_.last(w::kRelease);
  EXPECT_EQ(release->ciaddr, kLeased);
  EXPECT_EQ(release->server_id, kIpB);
  EXPECT_EQ(sent(0, w::kRelease)[0].destination_ip, kIpB);
  EXPECT_EQ(client.counters().releases, 1u);

  // And it may start again.
  ASSERT_TRUE(obtain(client).ok());
  EXPECT_EQ(sim_.a().ip(), kLeased);
}

TEST_F(DhcpTest, StopWhileSelectingCancelsStartAndStartTwiceIsRefused) {
  server_.silent = true;
  DhcpClient client(sim_.a());
  std::optional<Result<DhcpLease>> first;
  client.start().on_result([&first](Result<DhcpLease>&& r) { first.emplace(std::move(r)); });
  std::optional<Result<DhcpLease>> second;
  client.start().on_result([&second](Result<DhcpLease>&& r) { second.emplace(std::move(r)); });
  ASSERT_TRUE(second.has_value());
  ASSERT_FALSE(second->ok());
  EXPECT_EQ(second->error().code(), Errc::kAlreadyExists);
  EXPECT_FALSE(first.has_value());
  client.stop();
  ASSERT_TRUE(first.has_value());
  ASSERT_FALSE(first->ok());
  EXPECT_EQ(first->error().code(), Errc::kCancelled);
  EXPECT_EQ(client.counters().releases, 0u);  // nothing to release
}

TEST_F(DhcpTest, RepliesAfterStopAreIgnored) {
  DhcpClient client(sim_.a());
  ASSERT_TRUE(obtain(client).ok());
  client.stop();
  const uint32_t xid = client.xid();
  sim_.a().receive(
      IOBuf::CopyOf(
          testing::ethernet(
              MacAddress::Broadcast(), sim_.b().mac(), eth::kTypeIpv4,
              testing::ipv4(
                  {.source = kIpB, .destination = ip::kBroadcast, .protocol = ip::kProtocolUdp},
                  testing::udp_datagram(kIpB, ip::kBroadcast, 67, 68,
                                        server_.reply(w::kAck, xid, sim_.a().mac(), kLeased)))))
          .value());
  EXPECT_EQ(client.counters().unexpected, 1u);
  EXPECT_EQ(sim_.a().ip(), 0u);
}

TEST_F(DhcpTest, DestroyingTheClientFreesPort68) {
  {
    DhcpClient client(sim_.a());
    ASSERT_TRUE(obtain(client).ok());
  }
  sim_.run_for(1);  // the unbind is deferred work
  DhcpClient another(sim_.a());
  EXPECT_TRUE(obtain(another).ok());
}

}  // namespace
}  // namespace ebb::net::stack
