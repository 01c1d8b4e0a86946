#pragma once
// TestDhcpServer: a one-address DHCP server (RFC 2131) on an Engine's UDP
// port 67, for the client's tests. It writes its messages byte by byte
// from the RFC, apart from the client's code, and lets a test silence it,
// make it refuse (NAK), or rewrite each reply into any number of datagrams
// (lies included) before they are sent.

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "ebbs/net/datagram.h"
#include "ebbs/net/stack/engine.h"
#include "ebbs/net/stack/wire_format.h"

namespace ebb::net::stack::testing {

namespace dhcp_wire {
inline constexpr uint8_t kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5, kNak = 6, kRelease = 7;
inline constexpr std::size_t kXid = 4, kFlags = 10, kCiaddr = 12, kYiaddr = 16, kChaddr = 28,
                             kCookie = 236, kOptions = 240;
}  // namespace dhcp_wire

// A client message as the server saw it.
struct SeenMessage {
  uint8_t type = 0;
  uint32_t xid = 0;
  uint16_t flags = 0;
  uint32_t ciaddr = 0;
  MacAddress chaddr;
  uint32_t requested_ip = 0;  // option 50
  uint32_t server_id = 0;     // option 54
  std::string hostname;       // option 12
  std::string client_id;      // option 61
  std::string parameters;     // option 55
  uint64_t at_ns = 0;
};

class TestDhcpServer {
 public:
  // Turns one reply into the datagrams actually sent (none: lost).
  using Rewrite = std::function<std::vector<std::string>(uint8_t type, const std::string& reply)>;

  explicit TestDhcpServer(Engine& engine) : engine_(engine) {
    socket_ = engine
                  .bind_udp(67, [this](DatagramSocket&, Endpoint,
                                       IOBuf data) { input(data.to_string()); })
                  .value();
  }
  ~TestDhcpServer() { socket_->close(); }

  // ---- what it hands out ----
  uint32_t pool_ip = 0xc6120064;  // 198.18.0.100
  uint32_t netmask = 0xffffff00;
  uint32_t router = 0xc6120002;  // 198.18.0.2, the server's engine
  uint32_t dns = 0xc6120035;     // 198.18.0.53
  uint32_t lease_s = 3600;
  uint32_t t1_s = 0, t2_s = 0;  // 0: options 58/59 left out

  // ---- behaviour ----
  bool silent = false;        // answers nothing (still records)
  uint32_t naks_to_send = 0;  // the next this many REQUESTs get a NAK
  Rewrite rewrite;

  std::vector<SeenMessage> seen;
  std::vector<uint8_t> sent;  // the types of the replies made

  uint32_t count(uint8_t type) const {
    uint32_t n = 0;
    for (const SeenMessage& m : seen)
      n += m.type == type;
    return n;
  }
  const SeenMessage* last(uint8_t type) const {
    for (auto it = seen.rbegin(); it != seen.rend(); ++it)
      if (it->type == type) return &*it;
    return nullptr;
  }

  // A reply in the server's words (options: message type, server id, then
  // what `type` carries), for tests that inject their own.
  std::string reply(uint8_t type, uint32_t xid, const MacAddress& chaddr, uint32_t yiaddr) const {
    using namespace dhcp_wire;
    std::string r(kOptions, '\0');
    auto* b = reinterpret_cast<uint8_t*>(r.data());
    b[0] = 2;  // BOOTREPLY
    b[1] = 1;
    b[2] = 6;
    store32(b + kXid, xid);
    store32(b + kYiaddr, type == kNak ? 0 : yiaddr);
    std::memcpy(b + kChaddr, chaddr.bytes, 6);
    store32(b + kCookie, 0x63825363);
    auto option32 = [&r](uint8_t code, uint32_t v) {
      r.push_back(static_cast<char>(code));
      r.push_back(4);
      for (int shift = 24; shift >= 0; shift -= 8)
        r.push_back(static_cast<char>(v >> shift));
    };
    r += std::string{53, 1, static_cast<char>(type)};
    option32(54, engine_.ip());
    if (type != kNak) {
      option32(51, lease_s);
      if (t1_s != 0) option32(58, t1_s);
      if (t2_s != 0) option32(59, t2_s);
      option32(1, netmask);
      if (router != 0) option32(3, router);
      if (dns != 0) option32(6, dns);
    }
    r.push_back(static_cast<char>(255));
    return r;
  }

 private:
  void input(const std::string& d) {
    using namespace dhcp_wire;
    if (d.size() < kOptions) return;
    const auto* b = reinterpret_cast<const uint8_t*>(d.data());
    if (b[0] != 1 || load32(b + kCookie) != 0x63825363) return;
    SeenMessage m;
    m.xid = load32(b + kXid);
    m.flags = load16(b + kFlags);
    m.ciaddr = load32(b + kCiaddr);
    std::memcpy(m.chaddr.bytes, b + kChaddr, 6);
    m.at_ns = engine_.now();
    for (std::size_t i = kOptions; i < d.size();) {
      const uint8_t code = b[i++];
      if (code == 0) continue;
      if (code == 255 || i >= d.size()) break;
      const uint8_t n = b[i++];
      if (i + n > d.size()) return;
      const std::string value(d, i, n);
      if (code == 53 && n == 1) m.type = b[i];
      if (code == 50 && n == 4) m.requested_ip = load32(b + i);
      if (code == 54 && n == 4) m.server_id = load32(b + i);
      if (code == 12) m.hostname = value;
      if (code == 61) m.client_id = value;
      if (code == 55) m.parameters = value;
      i += n;
    }
    seen.push_back(m);
    if (silent) return;
    if (m.type == kDiscover) {
      respond(kOffer, m);
    } else if (m.type == kRequest) {
      if (m.server_id != 0 && m.server_id != engine_.ip()) return;  // another server chosen
      const uint32_t wanted = m.server_id != 0 ? m.requested_ip : m.ciaddr;
      if (naks_to_send > 0) {
        --naks_to_send;
        respond(kNak, m);
      } else {
        respond(wanted == pool_ip ? kAck : kNak, m);
      }
    }
  }

  void respond(uint8_t type, const SeenMessage& m) {
    sent.push_back(type);
    std::vector<std::string> out{reply(type, m.xid, m.chaddr, pool_ip)};
    if (rewrite) out = rewrite(type, out[0]);
    // RFC 2131 4.1: to ciaddr when the client has one; else broadcast (the
    // client cannot answer ARP yet). NAKs go broadcast.
    const uint32_t to = m.ciaddr != 0 && type != dhcp_wire::kNak ? m.ciaddr : ip::kBroadcast;
    for (const std::string& d : out)
      (void)socket_->send_to(Endpoint{to, 68}, IOBuf::CopyOf(d).value());
  }

  Engine& engine_;
  DatagramSocket* socket_ = nullptr;
};

}  // namespace ebb::net::stack::testing
