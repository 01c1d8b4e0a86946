#pragma once
// The bytes of Ethernet, ARP, IPv4, ICMP, UDP and TCP headers: offsets and
// constants. Headers are read and written in place through runtime/bytes.h's
// big-endian loads and stores (no packed structs: every access says its
// width).

#include <cstdint>
#include <cstring>

#include "runtime/bytes.h"

namespace ebb::net::stack {

// ---- Ethernet II ----
namespace eth {
inline constexpr uint32_t kHeaderBytes = 14;
inline constexpr uint32_t kMinFrameBytes = 60;  // without the FCS; shorter frames are padded
inline constexpr uint16_t kTypeIpv4 = 0x0800;
inline constexpr uint16_t kTypeArp = 0x0806;
inline constexpr uint32_t kDestination = 0, kSource = 6, kType = 12;
}  // namespace eth

// ---- ARP over Ethernet for IPv4 (RFC 826) ----
namespace arp {
inline constexpr uint32_t kBytes = 28;
inline constexpr uint16_t kRequest = 1, kReply = 2;
inline constexpr uint32_t kHardwareType = 0, kProtocolType = 2, kHardwareLength = 4,
                          kProtocolLength = 5, kOperation = 6, kSenderMac = 8, kSenderIp = 14,
                          kTargetMac = 18, kTargetIp = 24;
}  // namespace arp

// ---- IPv4 (RFC 791) ----
namespace ip {
inline constexpr uint32_t kMinHeaderBytes = 20;
inline constexpr uint8_t kProtocolIcmp = 1, kProtocolTcp = 6, kProtocolUdp = 17;
inline constexpr uint32_t kVersionIhl = 0, kTos = 1, kTotalLength = 2, kId = 4, kFragment = 6,
                          kTtl = 8, kProtocol = 9, kChecksum = 10, kSource = 12,
                          kDestination = 16;
inline constexpr uint16_t kDontFragment = 0x4000, kMoreFragments = 0x2000,
                          kOffsetMask = 0x1fff;
inline constexpr uint8_t kDefaultTtl = 64;
inline constexpr uint32_t kBroadcast = 0xffffffff;
}  // namespace ip

// ---- ICMP (RFC 792) ----
namespace icmp {
inline constexpr uint32_t kHeaderBytes = 8;
inline constexpr uint8_t kEchoReply = 0, kEchoRequest = 8;
inline constexpr uint32_t kType = 0, kCode = 1, kChecksum = 2;
}  // namespace icmp

// ---- UDP (RFC 768) ----
namespace udp {
inline constexpr uint32_t kHeaderBytes = 8;
inline constexpr uint32_t kSourcePort = 0, kDestinationPort = 2, kLength = 4, kChecksum = 6;
}  // namespace udp

// ---- TCP (RFC 9293) ----
namespace tcp {
inline constexpr uint32_t kMinHeaderBytes = 20;
inline constexpr uint32_t kMaxHeaderBytes = 60;
inline constexpr uint32_t kSourcePort = 0, kDestinationPort = 2, kSeq = 4, kAckNumber = 8,
                          kDataOffset = 12, kFlags = 13, kWindow = 14, kChecksum = 16,
                          kUrgent = 18;
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                         kUrg = 0x20;
// Options (RFC 9293 3.2, RFC 7323).
inline constexpr uint8_t kOptionEnd = 0, kOptionNop = 1, kOptionMss = 2, kOptionWindowScale = 3;
inline constexpr uint8_t kMaxWindowScale = 14;
}  // namespace tcp

// Room an outgoing packet reserves in front of its payload for every header
// the layers below push (Ethernet + IPv4 + TCP with options), rounded up.
inline constexpr uint32_t kHeadroom = 128;

}  // namespace ebb::net::stack
