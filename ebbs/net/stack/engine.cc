#include "ebbs/net/stack/engine.h"

#include <algorithm>
#include <cstring>

#include "ebbs/net/device.h"
#include "ebbs/net/stack/checksum.h"
#include "ebbs/net/stack/tcp/tcp_connection.h"
#include "ebbs/net/stack/wire_format.h"

namespace ebb::net::stack {

StackCounters& StackCounters::operator+=(const StackCounters& other) {
  static_assert(sizeof(StackCounters) % sizeof(uint64_t) == 0);
  auto* to = reinterpret_cast<uint64_t*>(this);
  const auto* from = reinterpret_cast<const uint64_t*>(&other);
  for (std::size_t i = 0; i < sizeof(StackCounters) / sizeof(uint64_t); ++i) to[i] += from[i];
  return *this;
}

Engine::Engine(const StackConfig& config, MacAddress mac, uint32_t mtu, Clock clock,
               CoreId core_index, uint32_t cores)
    : config_(config),
      mac_(mac),
      mtu_(mtu),
      clock_(clock),
      core_index_(core_index),
      cores_(cores == 0 ? 1 : cores),
      arp_(config.arp),
      udp_(*this),
      tcp_(*this) {
  tx_.reserve(64);
}

Engine::~Engine() {
  // Connections die with the engine; their apps hear of it now.
  tcp_.abort_all();
  run_deferred();
}

void Engine::configure(const InterfaceConfig& interface) {
  const uint32_t old = config_.interface.ip;
  config_.interface = interface;
  last_hop_expires_ = 0;
  if (interface.ip != 0 && interface.ip != old && core_index_ == 0) {
    send_arp(arp::kRequest, MacAddress{}, interface.ip);  // sender and target: the new address
  }
}

// ---- frames in -------------------------------------------------------------------

[[gnu::flatten]] void Engine::receive(IOBuf&& frame) {
  Busy busy(*this);
  ++counters_.frames_in;
  counters_.bytes_in += frame.length();
  Result<const uint8_t*> header = frame.gather(eth::kHeaderBytes);
  if (!header) {
    ++counters_.runt_frames;
    return;
  }
  const uint8_t* h = *header;
  if (!MacAddress::Same(h + eth::kDestination, mac_.bytes) &&
      !MacAddress::Same(h + eth::kDestination, MacAddress::Broadcast().bytes)) {
    ++counters_.not_for_us;
    return;
  }
  const uint16_t type = load16(h + eth::kType);
  frame.trim_front(eth::kHeaderBytes);
  if (type == eth::kTypeIpv4) ip_input(std::move(frame));
  else if (type == eth::kTypeArp) arp_input(std::move(frame));
  else ++counters_.unknown_ethertype;
}

void Engine::arp_input(IOBuf&& packet) {
  Result<const uint8_t*> bytes = packet.gather(arp::kBytes);
  if (!bytes) {
    ++counters_.arp_malformed;
    return;
  }
  const uint8_t* a = *bytes;
  const uint16_t operation = load16(a + arp::kOperation);
  if (load16(a + arp::kHardwareType) != 1 || load16(a + arp::kProtocolType) != eth::kTypeIpv4 ||
      a[arp::kHardwareLength] != 6 || a[arp::kProtocolLength] != 4 ||
      (operation != arp::kRequest && operation != arp::kReply)) {
    ++counters_.arp_malformed;
    return;
  }
  MacAddress sender_mac;
  std::memcpy(sender_mac.bytes, a + arp::kSenderMac, 6);
  const uint32_t sender_ip = load32(a + arp::kSenderIp);
  const uint32_t target_ip = load32(a + arp::kTargetIp);
  if (operation == arp::kRequest) ++counters_.arp_requests_in;
  else ++counters_.arp_replies_in;
  if (sender_mac.is_multicast() || sender_mac.is_zero()) {
    ++counters_.arp_malformed;  // nobody may claim a group address
    return;
  }
  const bool for_us = ip() != 0 && target_ip == ip();
  if (sender_ip != 0 && sender_ip != ip()) {  // a probe (sender 0) teaches nothing
    std::vector<IOBuf> waiting = arp_.learn(sender_ip, sender_mac, now(), for_us);
    if (sender_ip == last_hop_ip_) last_hop_expires_ = 0;  // look it up again
    for (IOBuf& p : waiting) send_frame(sender_mac, eth::kTypeIpv4, std::move(p));
  }
  // Every core hears ARP (a frame is copied to each); the first answers.
  if (operation == arp::kRequest && for_us && core_index_ == 0) {
    send_arp(arp::kReply, sender_mac, sender_ip);
  }
}

void Engine::ip_input(IOBuf&& packet) {
  const std::size_t length = packet.length();
  Result<const uint8_t*> fixed = packet.gather(ip::kMinHeaderBytes);
  if (!fixed) {
    ++counters_.ip_bad_header;
    return;
  }
  const uint32_t header_bytes = ((*fixed)[ip::kVersionIhl] & 0x0f) * 4u;
  const uint32_t total = load16(*fixed + ip::kTotalLength);
  if (((*fixed)[ip::kVersionIhl] >> 4) != 4 || header_bytes < ip::kMinHeaderBytes ||
      total < header_bytes || total > length) {
    ++counters_.ip_bad_header;
    return;
  }
  Result<const uint8_t*> whole = packet.gather(header_bytes);
  if (!whole) {
    ++counters_.ip_bad_header;
    return;
  }
  const uint8_t* h = *whole;
  Checksum sum;
  if (header_bytes == ip::kMinHeaderBytes) sum.add_ipv4_header(h);
  else sum.add(h, header_bytes);
  if (!sum.verifies()) {
    ++counters_.ip_bad_checksum;
    return;
  }
  const uint32_t source = load32(h + ip::kSource);
  const uint32_t destination = load32(h + ip::kDestination);
  const InterfaceConfig& i = config_.interface;
  // Unconfigured (before DHCP), anything addressed to this MAC is ours.
  if (destination != i.ip && destination != ip::kBroadcast && i.ip != 0 &&
      destination != i.subnet_broadcast()) {
    ++counters_.ip_not_for_us;
    return;
  }
  const uint16_t fragment = load16(h + ip::kFragment);
  const uint8_t protocol = h[ip::kProtocol];
  const uint16_t id = load16(h + ip::kId);
  if (length > total) packet.trim_back(length - total);  // Ethernet padding
  packet.trim_front(header_bytes);
  if ((fragment & (ip::kMoreFragments | ip::kOffsetMask)) != 0) {
    ++counters_.fragments_in;
    std::optional<IOBuf> datagram = reassembler_.add(
        FragmentKey{source, destination, id, protocol}, (fragment & ip::kOffsetMask) * 8u,
        (fragment & ip::kMoreFragments) != 0, std::move(packet), now());
    count_fragment_drops();
    if (!datagram) return;
    ++counters_.reassembled;
    packet = std::move(*datagram);
  }
  switch (protocol) {
    case ip::kProtocolTcp: tcp_.input(std::move(packet), source, destination); break;
    case ip::kProtocolUdp: udp_.input(std::move(packet), source, destination); break;
    case ip::kProtocolIcmp: icmp_input(std::move(packet), source, destination); break;
    default: ++counters_.ip_unknown_protocol;
  }
}

void Engine::icmp_input(IOBuf&& packet, uint32_t source, uint32_t destination) {
  if (packet.length() < icmp::kHeaderBytes) {
    ++counters_.icmp_malformed;
    return;
  }
  Checksum sum;
  sum.add(packet);
  if (!sum.verifies()) {
    ++counters_.icmp_bad_checksum;
    return;
  }
  Result<const uint8_t*> h = packet.gather(icmp::kHeaderBytes);
  if (!h) return;
  const uint8_t type = (*h)[icmp::kType];
  if (type == icmp::kEchoReply) {
    ++echo_replies_;
    return;
  }
  // Echo requests to a broadcast address go unanswered (no smurf amplifier).
  if (type != icmp::kEchoRequest || destination != ip()) return;
  ++counters_.icmp_echo_requests;
  // The reply is the request with another type: in place when the buffer
  // is ours alone, else a copy.
  IOBuf reply;
  if (!packet.is_shared() && packet.link_count() == 1) {
    reply = std::move(packet);
  } else {
    Result<IOBuf> copy = IOBuf::Create(packet.length(), kHeadroom);
    if (!copy) return;
    reply = std::move(*copy);
    uint8_t* to = reply.push_back(packet.length());
    packet.copy_out(0, to, packet.length());
  }
  uint8_t* r = reply.push_front(0);
  if (r == nullptr) return;
  r[icmp::kType] = icmp::kEchoReply;
  store16(r + icmp::kChecksum, 0);
  Checksum out;
  out.add(reply);
  store16(r + icmp::kChecksum, out.finish());
  send_ip(source, ip::kProtocolIcmp, std::move(reply));
}

Status Engine::ping(uint32_t destination, uint16_t id, uint16_t sequence, std::size_t payload_bytes) {
  Busy busy(*this);
  Result<IOBuf> packet = IOBuf::Create(icmp::kHeaderBytes + payload_bytes, kHeadroom);
  if (!packet) return packet.error();
  uint8_t* p = packet->push_back(icmp::kHeaderBytes + payload_bytes);
  p[icmp::kType] = icmp::kEchoRequest;
  p[icmp::kCode] = 0;
  store16(p + icmp::kChecksum, 0);
  store16(p + 4, id);
  store16(p + 6, sequence);
  for (std::size_t i = 0; i < payload_bytes; ++i) p[icmp::kHeaderBytes + i] = static_cast<uint8_t>(i);
  Checksum sum;
  sum.add(*packet);
  store16(p + icmp::kChecksum, sum.finish());
  send_ip(destination, ip::kProtocolIcmp, std::move(*packet));
  return {};
}

// ---- frames out ------------------------------------------------------------------

// (Flattened: the IPv4 header, the next hop and the Ethernet header are
// written in one body, not four calls deep.)
[[gnu::flatten]] void Engine::send_ip(uint32_t destination, uint8_t protocol, IOBuf&& packet,
                                      bool dont_fragment) {
  if (packet.length() + ip::kMinHeaderBytes > mtu_) {
    if (dont_fragment) return;
    send_fragments(destination, protocol, std::move(packet));
    return;
  }
  send_packet(destination, protocol, ip_id_++, dont_fragment ? ip::kDontFragment : 0,
              std::move(packet));
}

void Engine::send_fragments(uint32_t destination, uint8_t protocol, IOBuf&& payload) {
  // RFC 791: every fragment but the last carries a multiple of 8 bytes.
  const uint32_t piece = (mtu_ - ip::kMinHeaderBytes) & ~7u;
  if (payload.length() > 65535 - ip::kMinHeaderBytes) return;
  const uint16_t id = ip_id_++;
  uint32_t offset = 0;
  while (!payload.empty()) {
    const uint32_t n = payload.length() > piece ? piece : static_cast<uint32_t>(payload.length());
    Result<IOBuf> data = payload.split_front(n);
    if (!data) return;
    const uint16_t more = payload.empty() ? 0 : ip::kMoreFragments;
    ++counters_.ip_fragments_out;
    send_packet(destination, protocol, id, static_cast<uint16_t>(more | (offset / 8)),
                std::move(*data));
    offset += n;
  }
}

// An IPv4 header in front of `payload` (in its headroom, or a buffer of its
// own), then to the next hop: the destination on the link, else the gateway.
void Engine::send_packet(uint32_t destination, uint8_t protocol, uint16_t id, uint16_t fragment,
                         IOBuf&& payload) {
  const InterfaceConfig& i = config_.interface;
  uint32_t next_hop = destination;
  if (destination != ip::kBroadcast && !i.on_link(destination)) {
    if (i.gateway == 0) {
      ++counters_.ip_no_route;
      return;
    }
    next_hop = i.gateway;
  }
  if (payload.headroom() < ip::kMinHeaderBytes + eth::kHeaderBytes) {
    Result<IOBuf> header = IOBuf::Create(0, kHeadroom);
    if (!header) return;
    header->append(std::move(payload));
    payload = std::move(*header);
  }
  const uint32_t total = static_cast<uint32_t>(payload.length()) + ip::kMinHeaderBytes;
  uint8_t* h = payload.push_front(ip::kMinHeaderBytes);
  if (h == nullptr) return;  // (there is room: made above)
  h[ip::kVersionIhl] = 0x45;
  h[ip::kTos] = 0;
  store16(h + ip::kTotalLength, static_cast<uint16_t>(total));
  store16(h + ip::kId, id);
  store16(h + ip::kFragment, fragment);
  h[ip::kTtl] = ip::kDefaultTtl;
  h[ip::kProtocol] = protocol;
  store16(h + ip::kChecksum, 0);
  store32(h + ip::kSource, ip());
  store32(h + ip::kDestination, destination);
  Checksum sum;
  sum.add_ipv4_header(h);
  store16(h + ip::kChecksum, sum.finish());
  send_to_next_hop(next_hop, std::move(payload));
}

void Engine::send_to_next_hop(uint32_t next_hop, IOBuf&& packet) {
  if (next_hop == ip::kBroadcast || next_hop == config_.interface.subnet_broadcast()) {
    send_frame(MacAddress::Broadcast(), eth::kTypeIpv4, std::move(packet));
    return;
  }
  const uint64_t t = now();
  if (next_hop == last_hop_ip_ && t < last_hop_expires_) {
    send_frame(last_hop_mac_, eth::kTypeIpv4, std::move(packet));
    return;
  }
  uint64_t expires = 0;
  if (const MacAddress* mac = arp_.find(next_hop, t, &expires)) {
    last_hop_ip_ = next_hop;
    last_hop_mac_ = *mac;
    // Trusted for a second at most (so that a change in the table shows),
    // and never past the entry's own expiry.
    last_hop_expires_ = std::min(t + 1'000'000'000, expires);
    send_frame(*mac, eth::kTypeIpv4, std::move(packet));
    return;
  }
  switch (arp_.wait(next_hop, std::move(packet), t)) {
    case ArpTable::Wait::kSendRequest: send_arp(arp::kRequest, MacAddress{}, next_hop); break;
    case ArpTable::Wait::kQueued: break;
    case ArpTable::Wait::kFull: ++counters_.arp_queue_full; break;
  }
}

void Engine::send_arp(uint16_t operation, const MacAddress& target_mac, uint32_t target_ip) {
  Result<IOBuf> packet = IOBuf::Create(arp::kBytes, kHeadroom);
  if (!packet) return;
  uint8_t* a = packet->push_back(arp::kBytes);
  store16(a + arp::kHardwareType, 1);
  store16(a + arp::kProtocolType, eth::kTypeIpv4);
  a[arp::kHardwareLength] = 6;
  a[arp::kProtocolLength] = 4;
  store16(a + arp::kOperation, operation);
  std::memcpy(a + arp::kSenderMac, mac_.bytes, 6);
  store32(a + arp::kSenderIp, ip());
  std::memcpy(a + arp::kTargetMac, target_mac.bytes, 6);
  store32(a + arp::kTargetIp, target_ip);
  if (operation == arp::kRequest) ++counters_.arp_requests_out;
  else ++counters_.arp_replies_out;
  send_frame(operation == arp::kRequest ? MacAddress::Broadcast() : target_mac, eth::kTypeArp,
             std::move(*packet));
}

void Engine::send_frame(const MacAddress& destination, uint16_t type, IOBuf&& payload) {
  if (payload.headroom() < eth::kHeaderBytes) {
    Result<IOBuf> header = IOBuf::Create(0, kHeadroom);
    if (!header) return;
    header->append(std::move(payload));
    payload = std::move(*header);
  }
  uint8_t* h = payload.push_front(eth::kHeaderBytes);
  if (h == nullptr) return;  // (there is room: checked above)
  std::memcpy(h + eth::kDestination, destination.bytes, 6);
  std::memcpy(h + eth::kSource, mac_.bytes, 6);
  store16(h + eth::kType, type);
  ++counters_.frames_out;
  counters_.bytes_out += payload.length();
  tx_.push_back(std::move(payload));
  if (busy_ == 0) wake();
}

// ---- timers and deferred work ----------------------------------------------------

void Engine::run_timers() {
  Busy busy(*this);
  const uint64_t t = now();
  tcp_.run_timers(t);
  counters_.arp_unresolved += arp_.tick(t, [this](uint32_t address) {
    send_arp(arp::kRequest, MacAddress{}, address);
  });
  reassembler_.expire(t);
  count_fragment_drops();
}

void Engine::count_fragment_drops() {
  const ReassemblyCounters& r = reassembler_.counters();
  counters_.fragment_drops = r.malformed + r.over_limit + r.overlaps + r.timeouts;
}

uint64_t Engine::next_deadline() const {
  uint64_t next = 0;
  for (uint64_t d : {tcp_.next_deadline(), arp_.next_deadline(), reassembler_.next_deadline()})
    if (d != 0 && (next == 0 || d < next)) next = d;
  return next;
}

void Engine::defer(Function<void()> fn) {
  deferred_.push_back(std::move(fn));
  if (busy_ == 0) wake();
}

void Engine::run_deferred() {
  Busy busy(*this);
  // Work may defer more work: take the list first.
  std::vector<Function<void()>> now_due;
  now_due.swap(deferred_);
  for (Function<void()>& fn : now_due) fn();
}

void Engine::wake() {
  if (wakeup_pending_ || !wakeup_) return;
  wakeup_pending_ = true;
  wakeup_();
}

}  // namespace ebb::net::stack
