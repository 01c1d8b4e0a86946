#include "ebbs/net/stack/dhcp.h"

#include <cstring>

#include "ebbs/net/datagram.h"
#include "ebbs/net/stack/engine.h"
#include "ebbs/net/stack/wire_format.h"
#include "runtime/platform.h"

namespace ebb::net::stack {

namespace {

// The BOOTP message (RFC 951) as RFC 2131 section 2 lays it out.
constexpr uint32_t kOp = 0, kHtype = 1, kHlen = 2, kXid = 4, kSecs = 8, kFlags = 10, kCiaddr = 12,
                   kYiaddr = 16, kChaddr = 28, kCookie = 236, kOptionsStart = 240;
constexpr uint32_t kMagicCookie = 0x63825363;  // 99.130.83.99
// Sent messages are padded to BOOTP's 300 bytes (some relays drop shorter
// ones) and fit the 576 bytes every host must take.
constexpr uint32_t kMinSendBytes = 300, kMaxSendBytes = 576;
constexpr uint8_t kBootRequest = 1, kBootReply = 2, kEthernet = 1, kMacBytes = 6;
constexpr uint16_t kBroadcastFlag = 0x8000;
constexpr uint16_t kClientPort = 68, kServerPort = 67;

// Message types (option 53, RFC 2132 9.6).
constexpr uint8_t kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5, kNak = 6, kRelease = 7;
// Options (RFC 2132).
constexpr uint8_t kPad = 0, kSubnetMask = 1, kRouter = 3, kDns = 6, kHostname = 12,
                  kRequestedIp = 50, kLeaseTime = 51, kMessageType = 53, kServerId = 54,
                  kParameterList = 55, kMaxMessageSize = 57, kRenewalTime = 58, kRebindingTime = 59,
                  kClientId = 61, kEnd = 255;

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint32_t kInfiniteSeconds = 0xffffffff;
// A shorter lease is taken as this long: a server granting 0 s would
// otherwise have the client ask again at wire speed.
constexpr uint32_t kMinLeaseSeconds = 10;

uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// An address a host may hold: not 0.x, loopback, multicast or broadcast.
bool usable_address(uint32_t a) {
  const uint32_t first = a >> 24;
  return first != 0 && first != 127 && first < 224;
}

uint8_t classful_prefix(uint32_t a) {
  const uint32_t first = a >> 24;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

}  // namespace

// What the client uses of a reply, once every length in it was checked.
struct DhcpClient::Message {
  uint8_t type = 0;
  uint32_t yiaddr = 0;
  uint32_t server_id = 0;
  bool has_netmask = false;
  uint32_t netmask = 0;
  uint32_t router = 0, dns = 0;
  bool has_lease = false, has_t1 = false, has_t2 = false;
  uint32_t lease_s = 0, t1_s = 0, t2_s = 0;
};

DhcpClient::DhcpClient(Engine& engine, DhcpOptions options)
    : engine_(engine), options_(std::move(options)) {
  uint64_t seed = options_.seed != 0 ? options_.seed : platform::now_ns();
  for (uint8_t b : engine_.mac().bytes)
    seed = (seed << 8 | seed >> 56) ^ b;
  rng_ = mix(seed);
}

DhcpClient::~DhcpClient() {
  if (promise_) {
    Promise<DhcpLease> p = std::move(*promise_);
    promise_.reset();
    p.set_error(Error(Errc::kCancelled, "DHCP client destroyed"));
  }
  // Nobody renews the address any more: it goes (no RELEASE, no on_change).
  if (has_lease_) engine_.configure(InterfaceConfig{});
  if (socket_ != nullptr) socket_->close();
}

Future<DhcpLease> DhcpClient::start() {
  if (state_ != State::kIdle && state_ != State::kStopped && state_ != State::kFailed)
    return make_failed_future<DhcpLease>(
        Error(Errc::kAlreadyExists, "DHCP client already started"));
  if (socket_ == nullptr) {
    Result<DatagramSocket*> socket =
        engine_.bind_udp(kClientPort, [this](DatagramSocket&, Endpoint, IOBuf data) {
          const std::size_t n = data.length();
          if (n < kOptionsStart) {
            input(nullptr, n);
            return;
          }
          Result<const uint8_t*> bytes = data.gather(n);
          if (bytes) input(*bytes, n);
        });
    if (!socket) return make_failed_future<DhcpLease>(socket.error());
    socket_ = *socket;
  }
  promise_.emplace();
  Future<DhcpLease> future = promise_->get_future();
  restarts_ = 0;
  begin_discovery();
  return future;
}

void DhcpClient::stop() {
  if (has_lease_) {
    send_release();
    drop_address();
  }
  state_ = State::kStopped;
  deadline_ = 0;
  if (promise_) {
    Promise<DhcpLease> p = std::move(*promise_);
    promise_.reset();
    p.set_error(Error(Errc::kCancelled, "DHCP client stopped"));
  }
}

// ---- replies ---------------------------------------------------------------------

void DhcpClient::input(const uint8_t* p, std::size_t n) {
  ++counters_.received;
  if (n < kOptionsStart) {
    ++counters_.malformed;
    return;
  }
  if (p[kOp] != kBootReply) {
    ++counters_.unexpected;
    return;
  }
  if (p[kHtype] != kEthernet || p[kHlen] != kMacBytes) {
    ++counters_.malformed;
    return;
  }
  if (load32(p + kXid) != xid_) {
    ++counters_.wrong_xid;
    return;
  }
  if (std::memcmp(p + kChaddr, engine_.mac().bytes, kMacBytes) != 0) {
    ++counters_.wrong_chaddr;
    return;
  }
  if (load32(p + kCookie) != kMagicCookie) {
    ++counters_.malformed;
    return;
  }
  Message m;
  m.yiaddr = load32(p + kYiaddr);
  bool ok = true;
  std::size_t i = kOptionsStart;
  while (ok && i < n) {
    const uint8_t code = p[i++];
    if (code == kPad) continue;
    if (code == kEnd) break;
    // Every other option has a length byte and that many bytes, all inside.
    if (i >= n || p[i] > n - i - 1) {
      ok = false;
      break;
    }
    const uint8_t length = p[i];
    const uint8_t* v = p + i + 1;
    i += 1 + length;
    switch (code) {
      case kMessageType:
        ok = length == 1;
        if (ok) m.type = v[0];
        break;
      case kSubnetMask:
        ok = length == 4;
        if (ok) {
          m.netmask = load32(v);
          m.has_netmask = true;
          const uint32_t host = ~m.netmask;
          ok = (host & (host + 1)) == 0;  // contiguous ones, then zeros
        }
        break;
      case kRouter:
      case kDns:
        ok = length >= 4 && length % 4 == 0;
        if (ok) (code == kRouter ? m.router : m.dns) = load32(v);
        break;
      case kServerId:
        ok = length == 4;
        if (ok) m.server_id = load32(v);
        break;
      case kLeaseTime:
      case kRenewalTime:
      case kRebindingTime:
        ok = length == 4;
        if (!ok) break;
        if (code == kLeaseTime) {
          m.has_lease = true;
          m.lease_s = load32(v);
        } else if (code == kRenewalTime) {
          m.has_t1 = true;
          m.t1_s = load32(v);
        } else {
          m.has_t2 = true;
          m.t2_s = load32(v);
        }
        break;
      default:
        break;  // not used: skipped by its length (option overload 52 included)
    }
  }
  if (!ok || m.type == 0) {
    ++counters_.malformed;
    return;
  }
  handle(m);
}

void DhcpClient::handle(const Message& m) {
  switch (state_) {
    case State::kSelecting:
      if (m.type != kOffer) break;
      // RFC 2131 table 3: an offer names its server.
      if (!usable_address(m.yiaddr) || m.server_id == 0) {
        ++counters_.malformed;
        return;
      }
      ++counters_.offers;
      // The first offer is taken (RFC 2131 4.4.1 leaves waiting for more open).
      offered_ip_ = m.yiaddr;
      offered_server_ = m.server_id;
      state_ = State::kRequesting;
      attempts_ = 0;
      round_started_ = engine_.now();  // the lease counts from the REQUEST (same xid)
      send_request(ip::kBroadcast, true);
      deadline_ = engine_.now() + retransmit_delay();
      return;
    case State::kRequesting:
      if (m.type != kAck && m.type != kNak) break;
      if (m.server_id != 0 && m.server_id != offered_server_) break;  // a server not chosen
      if (m.type == kNak) {
        ++counters_.naks;
        // Straight back to discovery; a server that keeps refusing is
        // asked no faster than the first retransmission.
        restart(restarts_ == 0 ? 0 : options_.initial_timeout_ns);
        return;
      }
      if (m.yiaddr != offered_ip_ || !m.has_lease) {
        ++counters_.malformed;
        return;
      }
      ++counters_.acks;
      bind_lease(m);
      return;
    case State::kRenewing:
    case State::kRebinding:
      if (m.type == kNak) {
        ++counters_.naks;
        drop_address();
        restart(0);
        return;
      }
      if (m.type != kAck) break;
      if (!usable_address(m.yiaddr) || !m.has_lease) {
        ++counters_.malformed;
        return;
      }
      ++counters_.acks;
      ++counters_.renewals;
      bind_lease(m);
      return;
    default:
      break;
  }
  ++counters_.unexpected;
}

void DhcpClient::bind_lease(const Message& m) {
  DhcpLease l;
  l.ip = m.yiaddr;
  l.prefix = m.has_netmask ? static_cast<uint8_t>(__builtin_popcount(m.netmask))
                           : classful_prefix(m.yiaddr);
  l.netmask = l.prefix == 0 ? 0 : ~uint32_t{0} << (32 - l.prefix);
  l.gateway = m.router;
  l.dns = m.dns;
  l.server = m.server_id != 0               ? m.server_id
             : state_ == State::kRequesting ? offered_server_
                                            : lease_.server;
  l.bound_at_ns = round_started_;
  if (m.lease_s == kInfiniteSeconds) {
    l.lease_ns = l.renew_ns = l.rebind_ns = DhcpLease::kInfinite;
    t1_at_ = t2_at_ = expires_at_ = 0;
  } else {
    const uint64_t lease_s = m.lease_s < kMinLeaseSeconds ? kMinLeaseSeconds : m.lease_s;
    l.lease_ns = lease_s * kSecond;
    // RFC 2131 4.4.5: defaults 0.5 and 0.875 of the lease; a server's
    // values are taken when 0 < T1 <= T2 <= lease.
    uint64_t t2 = m.has_t2 ? uint64_t{m.t2_s} * kSecond : l.lease_ns / 8 * 7;
    if (t2 == 0 || t2 > l.lease_ns) t2 = l.lease_ns / 8 * 7;
    uint64_t t1 = m.has_t1 ? uint64_t{m.t1_s} * kSecond : l.lease_ns / 2;
    if (t1 == 0 || t1 > t2) t1 = l.lease_ns / 2 < t2 ? l.lease_ns / 2 : t2;
    l.renew_ns = t1;
    l.rebind_ns = t2;
    t1_at_ = l.bound_at_ns + t1;
    t2_at_ = l.bound_at_ns + t2;
    expires_at_ = l.bound_at_ns + l.lease_ns;
  }
  lease_ = l;
  has_lease_ = true;
  InterfaceConfig interface;
  interface.ip = l.ip;
  interface.prefix = l.prefix;
  interface.gateway = l.gateway;
  engine_.configure(interface);
  state_ = State::kBound;
  deadline_ = t1_at_;
  restarts_ = 0;
  if (on_change_) on_change_(&lease_);
  if (promise_) {
    Promise<DhcpLease> p = std::move(*promise_);
    promise_.reset();
    p.set_value(DhcpLease(lease_));  // last: the continuation may do anything
  }
}

// ---- timers ----------------------------------------------------------------------

void DhcpClient::run_timers() {
  const uint64_t now = engine_.now();
  if (deadline_ == 0 || now < deadline_) return;
  switch (state_) {
    case State::kInit:
      begin_discovery();
      return;
    case State::kSelecting:
      if (attempts_ >= options_.max_attempts) {
        if (promise_) {
          fail("DHCP: no offer after max_attempts DISCOVERs");
          return;
        }
        ++counters_.restarts;
        begin_discovery();  // bound before: keep trying, with a fresh xid
        return;
      }
      send_discover();
      deadline_ = now + retransmit_delay();
      return;
    case State::kRequesting:
      if (attempts_ >= options_.max_attempts) {
        restart(0);  // RFC 2131 3.1.5: no answer, back to INIT
        return;
      }
      send_request(ip::kBroadcast, true);
      deadline_ = now + retransmit_delay();
      return;
    case State::kBound:
      state_ = State::kRenewing;
      new_round();
      [[fallthrough]];
    case State::kRenewing:
      if (now < t2_at_) {
        send_request(lease_.server, false);
        deadline_ = now + renew_delay(t2_at_);
        if (deadline_ > t2_at_) deadline_ = t2_at_;
        return;
      }
      state_ = State::kRebinding;
      new_round();
      [[fallthrough]];
    case State::kRebinding:
      if (now < expires_at_) {
        send_request(ip::kBroadcast, false);
        deadline_ = now + renew_delay(expires_at_);
        if (deadline_ > expires_at_) deadline_ = expires_at_;
        return;
      }
      ++counters_.expirations;
      drop_address();
      restart(0);
      return;
    default:
      deadline_ = 0;
      return;
  }
}

void DhcpClient::begin_discovery() {
  state_ = State::kSelecting;
  new_round();
  offered_ip_ = offered_server_ = 0;
  send_discover();
  deadline_ = engine_.now() + retransmit_delay();
}

void DhcpClient::restart(uint64_t delay_ns) {
  ++counters_.restarts;
  ++restarts_;
  if (promise_ && restarts_ > options_.max_attempts) {
    fail("DHCP: no lease after max_attempts restarts (NAKs or unanswered REQUESTs)");
    return;
  }
  if (delay_ns == 0) {
    begin_discovery();
    return;
  }
  state_ = State::kInit;
  deadline_ = engine_.now() + delay_ns;
}

void DhcpClient::drop_address() {
  if (!has_lease_) return;
  has_lease_ = false;
  t1_at_ = t2_at_ = expires_at_ = 0;
  engine_.configure(InterfaceConfig{});  // ip 0: unconfigured, as before DHCP
  if (on_change_) on_change_(nullptr);
}

void DhcpClient::fail(const char* why) {
  state_ = State::kFailed;
  deadline_ = 0;
  Promise<DhcpLease> p = std::move(*promise_);
  promise_.reset();
  p.set_error(Error(Errc::kTimedOut, why, options_.max_attempts));
}

uint64_t DhcpClient::retransmit_delay() {
  // RFC 2131 4.1: 4 s, 8 s, ... up to 64 s, each ±1 s.
  uint64_t base = options_.initial_timeout_ns;
  for (uint32_t k = 1; k < attempts_ && base < options_.max_timeout_ns; ++k)
    base *= 2;
  if (base > options_.max_timeout_ns) base = options_.max_timeout_ns;
  if (options_.jitter_ns == 0) return base == 0 ? 1 : base;
  const uint64_t span = 2 * options_.jitter_ns + 1;
  const uint64_t delay = base + random() % span;  // base + jitter, shifted by +jitter
  const uint64_t shifted = delay > options_.jitter_ns ? delay - options_.jitter_ns : 0;
  const uint64_t floor = base / 2 == 0 ? 1 : base / 2;
  return shifted < floor ? floor : shifted;
}

uint64_t DhcpClient::renew_delay(uint64_t until) const {
  const uint64_t now = engine_.now();
  const uint64_t half = until > now ? (until - now) / 2 : 0;
  const uint64_t d = half < options_.min_renew_retry_ns ? options_.min_renew_retry_ns : half;
  return d == 0 ? 1 : d;
}

uint64_t DhcpClient::random() {
  rng_ += 0x9e3779b97f4a7c15ULL;
  return mix(rng_);
}

void DhcpClient::new_round() {
  xid_ = static_cast<uint32_t>(random());
  attempts_ = 0;
  round_started_ = engine_.now();
}

// ---- messages out ----------------------------------------------------------------

void DhcpClient::send_discover() {
  ++attempts_;
  ++counters_.discovers;
  send(kDiscover, ip::kBroadcast, 0, true, 0, 0);
}

void DhcpClient::send_request(uint32_t destination, bool broadcast_flag) {
  ++attempts_;
  ++counters_.requests;
  if (state_ == State::kRequesting) {
    // SELECTING: names the address and the server chosen (RFC 2131 4.3.2).
    send(kRequest, destination, 0, broadcast_flag, offered_ip_, offered_server_);
  } else {
    // RENEWING / REBINDING: ciaddr holds the address; neither option.
    send(kRequest, destination, lease_.ip, broadcast_flag, 0, 0);
  }
}

void DhcpClient::send_release() {
  ++counters_.releases;
  xid_ = static_cast<uint32_t>(random());
  send(kRelease, lease_.server, lease_.ip, false, 0, lease_.server);
}

void DhcpClient::send(uint8_t type, uint32_t destination, uint32_t ciaddr, bool broadcast_flag,
                      uint32_t requested_ip, uint32_t server_id) {
  if (socket_ == nullptr) return;
  uint8_t b[kMaxSendBytes] = {};
  b[kOp] = kBootRequest;
  b[kHtype] = kEthernet;
  b[kHlen] = kMacBytes;
  store32(b + kXid, xid_);
  const uint64_t elapsed = (engine_.now() - round_started_) / kSecond;
  store16(b + kSecs, static_cast<uint16_t>(elapsed > 0xffff ? 0xffff : elapsed));
  store16(b + kFlags, broadcast_flag ? kBroadcastFlag : 0);
  store32(b + kCiaddr, ciaddr);
  std::memcpy(b + kChaddr, engine_.mac().bytes, kMacBytes);
  store32(b + kCookie, kMagicCookie);
  uint8_t* o = b + kOptionsStart;
  *o++ = kMessageType;
  *o++ = 1;
  *o++ = type;
  *o++ = kClientId;  // RFC 2132 9.14: hardware type, then the MAC
  *o++ = 1 + kMacBytes;
  *o++ = kEthernet;
  std::memcpy(o, engine_.mac().bytes, kMacBytes);
  o += kMacBytes;
  if (requested_ip != 0) {
    *o++ = kRequestedIp;
    *o++ = 4;
    store32(o, requested_ip);
    o += 4;
  }
  if (server_id != 0) {
    *o++ = kServerId;
    *o++ = 4;
    store32(o, server_id);
    o += 4;
  }
  if (type != kRelease) {
    if (!options_.hostname.empty()) {
      const std::size_t n = options_.hostname.size() > 255 ? 255 : options_.hostname.size();
      *o++ = kHostname;
      *o++ = static_cast<uint8_t>(n);
      std::memcpy(o, options_.hostname.data(), n);
      o += n;
    }
    static constexpr uint8_t kWanted[] = {kSubnetMask, kRouter,      kDns,
                                          kLeaseTime,  kRenewalTime, kRebindingTime};
    *o++ = kParameterList;
    *o++ = sizeof(kWanted);
    std::memcpy(o, kWanted, sizeof(kWanted));
    o += sizeof(kWanted);
    // The largest reply we take whole (RFC 2132 9.10: at least 576).
    const uint32_t mtu = engine_.mtu() > 0xffff ? 0xffff : engine_.mtu();
    if (mtu >= kMaxSendBytes) {
      *o++ = kMaxMessageSize;
      *o++ = 2;
      store16(o, static_cast<uint16_t>(mtu));
      o += 2;
    }
  }
  *o++ = kEnd;
  std::size_t size = static_cast<std::size_t>(o - b);
  if (size < kMinSendBytes) size = kMinSendBytes;
  Result<IOBuf> packet = IOBuf::CopyOf(b, size, kHeadroom);
  if (!packet) return;  // out of memory: the retransmission tries again
  (void)socket_->send_to(Endpoint{destination, kServerPort}, std::move(*packet));
}

}  // namespace ebb::net::stack
