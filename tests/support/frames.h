#pragma once
// Hand-made Ethernet frames for tests, fuzz seeds and benchmarks of the own
// stack: whatever a peer could send, including what no honest peer would
// (lying lengths, bad checksums, hostile options), plus a parser for the
// frames the stack sends back.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/mac_address.h"
#include "ebbs/net/stack/checksum.h"
#include "ebbs/net/stack/wire_format.h"

namespace ebb::net::stack::testing {

struct TcpFields {
  uint16_t source_port = 0, destination_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 65535;
  std::string options;  // raw option bytes (padded to 4 with zeros)
  std::string payload;
};

struct IpFields {
  uint32_t source = 0, destination = 0;
  uint8_t protocol = ip::kProtocolTcp;
  uint16_t id = 1;
  uint16_t fragment = 0;  // flags and offset (in 8-byte units)
  uint8_t ttl = 64;
};

inline std::string ethernet(const MacAddress& to, const MacAddress& from, uint16_t type,
                            std::string_view payload) {
  std::string f(eth::kHeaderBytes, '\0');
  auto* h = reinterpret_cast<uint8_t*>(f.data());
  std::memcpy(h + eth::kDestination, to.bytes, 6);
  std::memcpy(h + eth::kSource, from.bytes, 6);
  store16(h + eth::kType, type);
  f.append(payload);
  return f;
}

// An IPv4 packet around `payload` with a correct header checksum.
inline std::string ipv4(const IpFields& f, std::string_view payload) {
  std::string p(ip::kMinHeaderBytes, '\0');
  auto* h = reinterpret_cast<uint8_t*>(p.data());
  h[ip::kVersionIhl] = 0x45;
  store16(h + ip::kTotalLength, static_cast<uint16_t>(ip::kMinHeaderBytes + payload.size()));
  store16(h + ip::kId, f.id);
  store16(h + ip::kFragment, f.fragment);
  h[ip::kTtl] = f.ttl;
  h[ip::kProtocol] = f.protocol;
  store32(h + ip::kSource, f.source);
  store32(h + ip::kDestination, f.destination);
  Checksum sum;
  sum.add(h, ip::kMinHeaderBytes);
  store16(h + ip::kChecksum, sum.finish());
  p.append(payload);
  return p;
}

// A TCP segment (header, options, payload) with a correct checksum.
inline std::string tcp_segment(uint32_t source_ip, uint32_t destination_ip, const TcpFields& t) {
  std::string options = t.options;
  while (options.size() % 4 != 0) options.push_back('\0');
  const uint32_t header = tcp::kMinHeaderBytes + static_cast<uint32_t>(options.size());
  std::string s(tcp::kMinHeaderBytes, '\0');
  auto* h = reinterpret_cast<uint8_t*>(s.data());
  store16(h + tcp::kSourcePort, t.source_port);
  store16(h + tcp::kDestinationPort, t.destination_port);
  store32(h + tcp::kSeq, t.seq);
  store32(h + tcp::kAckNumber, t.ack);
  h[tcp::kDataOffset] = static_cast<uint8_t>((header / 4) << 4);
  h[tcp::kFlags] = t.flags;
  store16(h + tcp::kWindow, t.window);
  s += options;
  s += t.payload;
  Checksum sum;
  add_pseudo_header(sum, source_ip, destination_ip, ip::kProtocolTcp, static_cast<uint32_t>(s.size()));
  sum.add(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  store16(reinterpret_cast<uint8_t*>(s.data()) + tcp::kChecksum, sum.finish());
  return s;
}

inline std::string udp_datagram(uint32_t source_ip, uint32_t destination_ip, uint16_t source_port,
                                uint16_t destination_port, std::string_view payload) {
  std::string d(udp::kHeaderBytes, '\0');
  auto* h = reinterpret_cast<uint8_t*>(d.data());
  store16(h + udp::kSourcePort, source_port);
  store16(h + udp::kDestinationPort, destination_port);
  store16(h + udp::kLength, static_cast<uint16_t>(udp::kHeaderBytes + payload.size()));
  d.append(payload);
  Checksum sum;
  add_pseudo_header(sum, source_ip, destination_ip, ip::kProtocolUdp, static_cast<uint32_t>(d.size()));
  sum.add(reinterpret_cast<const uint8_t*>(d.data()), d.size());
  store16(reinterpret_cast<uint8_t*>(d.data()) + udp::kChecksum, sum.finish());
  return d;
}

inline std::string arp_packet(uint16_t operation, const MacAddress& sender_mac, uint32_t sender_ip,
                              const MacAddress& target_mac, uint32_t target_ip) {
  std::string a(arp::kBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(a.data());
  store16(p + arp::kHardwareType, 1);
  store16(p + arp::kProtocolType, eth::kTypeIpv4);
  p[arp::kHardwareLength] = 6;
  p[arp::kProtocolLength] = 4;
  store16(p + arp::kOperation, operation);
  std::memcpy(p + arp::kSenderMac, sender_mac.bytes, 6);
  store32(p + arp::kSenderIp, sender_ip);
  std::memcpy(p + arp::kTargetMac, target_mac.bytes, 6);
  store32(p + arp::kTargetIp, target_ip);
  return a;
}

inline IOBuf frame_of(std::string_view bytes) { return IOBuf::CopyOf(bytes).value(); }

// What a test wants to know of a TCP frame the stack sent.
struct SentSegment {
  bool valid = false;
  uint32_t source_ip = 0, destination_ip = 0;
  uint16_t source_port = 0, destination_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  std::string options;
  std::size_t payload_length = 0;
  bool has(uint8_t flag) const { return (flags & flag) != 0; }
};

inline SentSegment parse_tcp_frame(const IOBuf& frame) {
  SentSegment s;
  const std::string f = frame.to_string();
  if (f.size() < eth::kHeaderBytes + ip::kMinHeaderBytes + tcp::kMinHeaderBytes) return s;
  const auto* e = reinterpret_cast<const uint8_t*>(f.data());
  if (load16(e + eth::kType) != eth::kTypeIpv4) return s;
  const uint8_t* h = e + eth::kHeaderBytes;
  if (h[ip::kProtocol] != ip::kProtocolTcp) return s;
  const uint32_t ihl = (h[0] & 15) * 4u;
  const uint8_t* t = h + ihl;
  const uint32_t total = load16(h + ip::kTotalLength);
  const uint32_t header = (t[tcp::kDataOffset] >> 4) * 4u;
  s.source_ip = load32(h + ip::kSource);
  s.destination_ip = load32(h + ip::kDestination);
  s.source_port = load16(t + tcp::kSourcePort);
  s.destination_port = load16(t + tcp::kDestinationPort);
  s.seq = load32(t + tcp::kSeq);
  s.ack = load32(t + tcp::kAckNumber);
  s.flags = t[tcp::kFlags];
  s.window = load16(t + tcp::kWindow);
  s.options.assign(reinterpret_cast<const char*>(t) + tcp::kMinHeaderBytes, header - tcp::kMinHeaderBytes);
  s.payload_length = total - ihl - header;
  s.valid = true;
  return s;
}

}  // namespace ebb::net::stack::testing
