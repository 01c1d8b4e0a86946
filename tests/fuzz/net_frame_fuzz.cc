// libFuzzer harness: the own TCP/IP stack (ebbs/net/stack) as a host on an
// Ethernet whose every frame the input writes. One Engine, 198.18.0.1/24,
// with small limits so that the bounds are reached by short inputs; a TCP
// listener on port 7000 whose app echoes (or closes, aborts, pauses: the
// setup byte says), a UDP echo on port 7, and an active connect() to
// 198.18.0.2:9000 from port 40000 made at the start (SYN-SENT).
//
// The input (tests/fuzz/make_net_seeds.py writes the seeds):
//
//   byte 0     setup, bits: 0x01 the peer 198.18.0.2 (02:00:00:00:00:02) is
//              in the ARP table from the start; 0x02 keepalive on (10 s idle,
//              1 s apart, 3 probes); 0x0c the app: 0 echo, 1 echo then close,
//              2 abort on data, 3 echo but start paused; 0x10 also connect
//              to 198.18.0.99, which nobody answers; 0x20 a small host: MTU
//              576 (not 1500) and a 2 KiB receive buffer (not 64 KiB, which
//              no 4 KiB input fills); 0x40 the app handles end-of-stream
//              (stays half-open; else the connection closes); 0x80 small send
//              watermarks (4 KiB / 1 KiB) and the relay pattern (pause on
//              send_full, resume in on_writable)
//   then records, until the input ends:
//   0x00-0x7f  a frame: this byte (the fix-ups below), a 2-byte big-endian
//              length L, then L bytes (fewer if the input ends; the frame is
//              cut at 1514 bytes, the most an Ethernet NIC hands up).
//              Fix-ups, applied in this order:
//                0x08 retarget: a TCP segment's addresses and ports become
//                     those of the flow the engine last sent on (from the
//                     peer to us);
//                0x02 relative seq: a TCP segment's seq field is added to
//                     the flow's next peer sequence number (what the engine
//                     last acknowledged, or the end of the last segment the
//                     input sent on that flow, whichever came last; a RST
//                     teaches nothing);
//                0x04 relative ack: its ack field is added to the flow's
//                     next engine sequence number (the end of the most the
//                     engine sent, its SYN and FIN counted);
//                0x10 lengths: IPv4 total length = the frame's bytes after
//                     the Ethernet header, UDP length = the IP payload's
//                     (unfragmented packets);
//                0x01 checksums: the IPv4 header's, and for an unfragmented
//                     packet its TCP, UDP or ICMP checksum;
//              and how the frame is handed over: 0x20 as a chain of two links
//              (cut at a third), 0x40 shared (a clone is held meanwhile).
//              A flow is (peer address, peer port, our port); with 0 in the
//              fields, 0x02|0x04 make "the next segment in order".
//   0x80-0xbf  time: v = the low 6 bits; 0 moves the clock to the engine's
//              next deadline, else by (v odd ? 1.5 : 1) * 2^(v/2) us (from
//              1.5 us to ~54 minutes); then the timers run.
//   0xc0-0xff  an app action, and one argument byte A: the low 4 bits pick
//              the action, bits 4-5 the connection (0: the newest, 1: the one
//              before, ...): 0 send A+1 bytes, 1 send (A+1) * 512 bytes,
//              2 close, 3 abort, 4 shutdown_write, 5 pause_receive,
//              6 resume_receive, 7 connect (A's top 2 bits: to 198.18.0.2,
//              198.18.0.99, 10.0.0.1 (no route), ourselves; port 9000 + A's
//              low 6), 8 ping 198.18.0.2 with A * 8 bytes, 9 UDP from port 7
//              to 198.18.0.2 port A+1 with A * 64 bytes, 10 stop / start
//              listening, 11 close / bind the UDP socket, 12 ping a broadcast
//              address; 13-15 nothing.
//
// After every record the harness runs what is due (timers at or before now,
// deferred work) and drains the output. What it checks, beyond ASan and UBSan
// (and a leak check: the engine is destroyed at the end, which aborts every
// connection left):
//   - every frame out is well formed: 14..MTU+14 bytes, from our MAC to a
//     non-zero one, ARP or IPv4; ARP the 28 bytes of a request (broadcast)
//     or reply from us; IPv4 with version 4, a 20-byte header whose checksum
//     holds, our source address, a total length equal to the frame's, and
//     (whole, not fragmented) a TCP, UDP or ICMP checksum that holds; a
//     fragment carries a multiple of 8 bytes unless it is the last;
//   - the bounds hold after every record: connections, half-open per
//     listener, TIME-WAIT, ARP entries and waiting packets, reassembly
//     bytes and datagrams, out-of-order bytes per connection.
//
// EBB_FUZZ_SHOW=1 in the environment prints every record and every frame
// out (for writing seeds and reading findings).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ebbs/net/clock.h"
#include "ebbs/net/connection.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/mac_address.h"
#include "ebbs/net/stack/engine.h"
#include "ebbs/net/stack/reassembly.h"
#include "ebbs/net/stack/tcp/tcp_connection.h"
#include "ebbs/net/stack/wire_format.h"

namespace {

using ebb::Result;
using ebb::Status;
using ebb::net::Clock;
using ebb::net::Connection;
using ebb::net::ConnectionOptions;
using ebb::net::DatagramSocket;
using ebb::net::Endpoint;
using ebb::net::IOBuf;
using ebb::net::MacAddress;
using ebb::net::ManualClock;
namespace stack = ebb::net::stack;
namespace eth = ebb::net::stack::eth;
namespace arp = ebb::net::stack::arp;
namespace ip = ebb::net::stack::ip;
namespace tcp = ebb::net::stack::tcp;
namespace udp = ebb::net::stack::udp;
namespace icmp = ebb::net::stack::icmp;
using ebb::load16;
using ebb::load32;
using ebb::store16;
using ebb::store32;

constexpr uint32_t kOurIp = 0xc6120001;      // 198.18.0.1
constexpr uint32_t kPeerIp = 0xc6120002;     // 198.18.0.2
constexpr uint32_t kSilentIp = 0xc6120063;   // 198.18.0.99: never answers ARP
constexpr uint32_t kOffLinkIp = 0x0a000001;  // 10.0.0.1: no gateway, no route
constexpr MacAddress kOurMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr MacAddress kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr uint16_t kTcpPort = 7000, kUdpPort = 7, kPeerPort = 9000, kActivePort = 40000;
constexpr std::size_t kMaxFrameIn = 1514;
constexpr std::size_t kMaxFlows = 64;

// Setup bits (byte 0).
constexpr uint8_t kSetupArp = 0x01, kSetupKeepalive = 0x02, kSetupAppShift = 2,
                  kSetupSilentConnect = 0x10, kSetupSmall = 0x20, kSetupOnEnd = 0x40,
                  kSetupWatermarks = 0x80;
enum class AppMode : uint8_t { kEcho, kEchoClose, kAbort, kPaused };

// Frame fix-ups.
constexpr uint8_t kFixChecksums = 0x01, kRelativeSeq = 0x02, kRelativeAck = 0x04, kRetarget = 0x08,
                  kFixLengths = 0x10, kChain = 0x20, kShared = 0x40;

bool g_show = false;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "\n*** net_frame_fuzz invariant broken: %s\n", what);
  std::abort();  // libFuzzer reports it as a crash and saves the input
}

// The Internet checksum, written here again rather than taken from the
// stack, so that a bug there cannot hide in the check of its own output.
uint64_t ones_sum(const uint8_t* p, std::size_t n, uint64_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2)
    sum += uint32_t{p[i]} << 8 | p[i + 1];
  if (n % 2 != 0) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}
uint64_t pseudo_sum(uint32_t source, uint32_t destination, uint8_t protocol, uint32_t length) {
  return (source >> 16) + (source & 0xffff) + (destination >> 16) + (destination & 0xffff) +
         protocol + length;
}
uint16_t fold(uint64_t sum) {
  while (sum >> 16 != 0)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}
bool seq_after(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) > 0;
}

// What the harness learnt of one TCP flow, from both directions.
struct Flow {
  uint32_t peer_ip = 0;
  uint16_t peer_port = 0, our_port = 0;
  uint32_t peer_next = 0;    // the sequence number the peer sends next
  uint32_t engine_next = 0;  // the end of the most the engine sent
  bool engine_seen = false;
};

class Harness {
 public:
  explicit Harness(uint8_t setup) : setup_(setup) {
    stack::StackConfig config;
    config.interface.ip = kOurIp;
    config.interface.prefix = 24;
    config.seed = 1;  // fixed initial sequence numbers: an input replays exactly
    config.arp.max_entries = 16;
    config.arp.max_waiting = 16;
    config.arp.max_waiting_per_address = 8;
    config.tcp.max_half_open = 8;
    config.tcp.max_connections = 64;
    config.tcp.receive_buffer = (setup & kSetupSmall) != 0 ? 2u << 10 : 64u << 10;
    config.tcp.max_time_wait = 4;
    config.tcp.max_retransmits = 6;
    config.tcp.syn_retries = 3;
    if ((setup & kSetupKeepalive) != 0) {
      config.tcp.keepalive = true;
      config.tcp.keepalive_idle_ns = 10'000'000'000;
      config.tcp.keepalive_interval_ns = 1'000'000'000;
      config.tcp.keepalive_probes = 3;
    }
    mode_ = static_cast<AppMode>((setup >> kSetupAppShift) & 3);
    if ((setup & kSetupWatermarks) != 0) {
      options_.send_high_watermark = 4096;
      options_.send_low_watermark = 1024;
    }
    const uint32_t mtu = (setup & kSetupSmall) != 0 ? 576 : 1500;
    engine_ = std::make_unique<stack::Engine>(config, kOurMac, mtu, Clock(&clock_));
    if ((setup & kSetupArp) != 0) teach_peer();
    toggle_listener();
    toggle_udp();
    connect(Endpoint{kPeerIp, kPeerPort}, kActivePort);
    if ((setup & kSetupSilentConnect) != 0) connect(Endpoint{kSilentIp, kPeerPort}, 0);
    settle();
  }

  ~Harness() {
    if (g_show) show_counters();
    engine_.reset();  // aborts what is left; the apps hear of it (on_close)
    if (!conns_.empty()) fail("a connection outlived its engine without on_close");
  }

  void frame(uint8_t fixes, std::span<const uint8_t> bytes) {
    std::vector<uint8_t> f(bytes.begin(), bytes.end());
    fix_up(fixes, f);
    if (g_show) show("in ", f.data(), f.size());
    Result<IOBuf> made = IOBuf::CopyOf(f.data(), f.size());
    if (!made) return;
    IOBuf frame = std::move(*made);
    if ((fixes & kChain) != 0 && frame.length() >= 2) {
      Result<IOBuf> head = frame.split_front(frame.length() / 3);
      if (!head) return;
      // Its own buffer for the head, so that the links do not share one.
      std::string h = head->to_string();
      Result<IOBuf> copy = IOBuf::CopyOf(h);
      if (!copy) return;
      copy->append(std::move(frame));
      frame = std::move(*copy);
    }
    IOBuf clone;
    if ((fixes & kShared) != 0) {
      Result<IOBuf> c = frame.clone();
      if (c) clone = std::move(*c);
    }
    engine_->receive(std::move(frame));
    settle();
  }

  void advance(uint8_t v) {
    if (v == 0) {
      const uint64_t next = engine_->next_deadline();
      if (next > clock_.now()) clock_.set(next);
    } else {
      clock_.advance((uint64_t{1000} << (v / 2)) * (v % 2 != 0 ? 3 : 2) / 2);
    }
    if (g_show) std::fprintf(stderr, "time %.6f s\n", static_cast<double>(clock_.now()) / 1e9);
    engine_->run_timers();  // also when nothing is due: a driver may wake early
    settle();
  }

  void action(uint8_t code, uint8_t arg) {
    const uint8_t what = code & 0x0f;
    if (g_show) std::fprintf(stderr, "action %u conn %u arg %u\n", what, (code >> 4) & 3, arg);
    // A handle of its own: the calls may change conns_ (a failed connect's
    // continuation runs inside close()).
    Connection c = pick((code >> 4) & 3);
    switch (what) {
      case 0:
        if (c) (void)c.send(pattern(std::size_t{arg} + 1));
        break;
      case 1:
        if (c) (void)c.send(pattern((std::size_t{arg} + 1) * 512));
        break;
      case 2:
        if (c) c.close();
        break;
      case 3:
        if (c) c.abort();
        break;
      case 4:
        if (c) c.shutdown_write();
        break;
      case 5:
        if (c) c.pause_receive();
        break;
      case 6:
        if (c) c.resume_receive();
        break;
      case 7: {
        static constexpr uint32_t kTargets[] = {kPeerIp, kSilentIp, kOffLinkIp, kOurIp};
        connect(Endpoint{kTargets[arg >> 6], static_cast<uint16_t>(kPeerPort + (arg & 0x3f))}, 0);
        break;
      }
      case 8:
        (void)engine_->ping(kPeerIp, arg, ping_sequence_++, std::size_t{arg} * 8);
        break;
      case 9:
        if (udp_ != nullptr)
          (void)udp_->send_to(Endpoint{kPeerIp, static_cast<uint16_t>(arg + 1)},
                              pattern(std::size_t{arg} * 64));
        break;
      case 10:
        toggle_listener();
        break;
      case 11:
        toggle_udp();
        break;
      case 12:
        (void)engine_->ping((arg & 1) != 0 ? ip::kBroadcast : 0xc61200ff, arg, ping_sequence_++, 8);
        break;
      default:
        break;
    }
    settle();
  }

 private:
  // ---- the apps ----

  void teach_peer() {
    // An ARP request from the peer, as the engine would receive it.
    std::vector<uint8_t> f(eth::kHeaderBytes + arp::kBytes);
    std::memcpy(f.data() + eth::kDestination, MacAddress::Broadcast().bytes, 6);
    std::memcpy(f.data() + eth::kSource, kPeerMac.bytes, 6);
    store16(f.data() + eth::kType, eth::kTypeArp);
    uint8_t* a = f.data() + eth::kHeaderBytes;
    store16(a + arp::kHardwareType, 1);
    store16(a + arp::kProtocolType, eth::kTypeIpv4);
    a[arp::kHardwareLength] = 6;
    a[arp::kProtocolLength] = 4;
    store16(a + arp::kOperation, arp::kRequest);
    std::memcpy(a + arp::kSenderMac, kPeerMac.bytes, 6);
    store32(a + arp::kSenderIp, kPeerIp);
    store32(a + arp::kTargetIp, kOurIp);
    engine_->receive(IOBuf::CopyOf(f.data(), f.size()).value());
  }

  void toggle_listener() {
    if (listening_) {
      engine_->tcp().unlisten(kTcpPort);
      listening_ = false;
      return;
    }
    const Status listened = engine_->listen(
        kTcpPort, [this](Connection c) { adopt(std::move(c)); }, options_);
    listening_ = listened.ok();
  }

  void toggle_udp() {
    if (udp_ != nullptr) {
      udp_->close();  // unbinds in deferred work, which settle() runs
      udp_ = nullptr;
      return;
    }
    Result<DatagramSocket*> s =
        engine_->bind_udp(kUdpPort, [](DatagramSocket& socket, Endpoint from, IOBuf data) {
          (void)socket.send_to(from, std::move(data));
        });
    if (s) udp_ = *s;
  }

  void connect(Endpoint peer, uint16_t local_port) {
    engine_->connect(peer, options_, local_port).on_result([this](Result<Connection>&& r) {
      if (r) adopt(std::move(r.value()));
    });
  }

  void adopt(Connection c) {
    const uint64_t id = next_id_++;
    conns_.push_back({id, c});
    // The callbacks hold the connection; finished() drops them, which ends
    // the cycle.
    c.on_receive([this, self = c](IOBuf data) mutable { on_data(self, std::move(data)); });
    if ((setup_ & kSetupOnEnd) != 0) c.on_end([] {});
    if ((setup_ & kSetupWatermarks) != 0)
      c.on_writable([self = c]() mutable { self.resume_receive(); });
    c.on_close([this, id](const Status&) {
      std::erase_if(conns_, [id](const App& a) { return a.id == id; });
    });
    if (mode_ == AppMode::kPaused) c.pause_receive();
  }

  void on_data(Connection& c, IOBuf data) {
    if (mode_ == AppMode::kAbort) {
      c.abort();
      return;
    }
    (void)c.send(std::move(data));
    if (mode_ == AppMode::kEchoClose)
      c.close();
    else if ((setup_ & kSetupWatermarks) != 0 && c.send_full())
      c.pause_receive();
  }

  Connection pick(uint8_t back) const {
    if (conns_.empty()) return Connection();
    return conns_[conns_.size() - 1 - std::min<std::size_t>(back, conns_.size() - 1)].conn;
  }

  static IOBuf pattern(std::size_t n) {
    Result<IOBuf> b = IOBuf::Create(n, stack::kHeadroom);
    if (!b) return IOBuf();
    uint8_t* p = b->push_back(n);
    for (std::size_t i = 0; i < n; ++i)
      p[i] = static_cast<uint8_t>('a' + i % 26);
    return std::move(*b);
  }

  // ---- driving the engine ----

  // What a driver does when the engine's work returns: timers that are due,
  // deferred work, the output.
  void settle() {
    for (int round = 0; round < 64; ++round) {
      const uint64_t next = engine_->next_deadline();
      const bool due = next != 0 && next <= clock_.now();
      if (due) engine_->run_timers();
      engine_->flush([this](IOBuf f) { output(f); });
      if (!due) break;
    }
    check_bounds();
  }

  void check_bounds() {
    const stack::StackConfig& config = engine_->config();
    stack::TcpLayer& t = engine_->tcp();
    if (t.connection_count() > config.tcp.max_connections) fail("connections over max_connections");
    if (t.half_open(kTcpPort) > config.tcp.max_half_open) fail("half-open over max_half_open");
    if (t.time_wait_count() > config.tcp.max_time_wait) fail("TIME-WAIT over max_time_wait");
    if (engine_->arp().waiting() > config.arp.max_waiting) fail("ARP waiting over max_waiting");
    if (engine_->arp().entries() > config.arp.max_entries) fail("ARP entries over max_entries");
    const stack::ReassemblyLimits limits;
    if (engine_->reassembler().bytes_held() > limits.max_bytes) fail("reassembly over max_bytes");
    if (engine_->reassembler().datagrams_in_progress() > limits.max_datagrams)
      fail("reassembly over max_datagrams");
    t.for_each([&config](stack::TcpConnection& c) {
      if (c.out_of_order_bytes() > config.tcp.receive_buffer)
        fail("out-of-order bytes over receive_buffer");
    });
  }

  // ---- frames out ----

  void output(const IOBuf& frame) {
    const std::string s = frame.to_string();
    const auto* f = reinterpret_cast<const uint8_t*>(s.data());
    const std::size_t n = s.size();
    if (g_show) show("out", f, n);
    if (n < eth::kHeaderBytes) fail("frame out shorter than an Ethernet header");
    if (n > engine_->mtu() + eth::kHeaderBytes) fail("frame out longer than MTU + 14");
    if (std::memcmp(f + eth::kSource, kOurMac.bytes, 6) != 0) fail("frame out not from our MAC");
    MacAddress to;
    std::memcpy(to.bytes, f + eth::kDestination, 6);
    if (to.is_zero()) fail("frame out to MAC 0");
    const uint16_t type = load16(f + eth::kType);
    const uint8_t* p = f + eth::kHeaderBytes;
    const std::size_t length = n - eth::kHeaderBytes;
    if (type == eth::kTypeArp) {
      if (length != arp::kBytes) fail("ARP out of the wrong length");
      const uint16_t op = load16(p + arp::kOperation);
      if (load16(p + arp::kHardwareType) != 1 || load16(p + arp::kProtocolType) != eth::kTypeIpv4 ||
          p[arp::kHardwareLength] != 6 || p[arp::kProtocolLength] != 4 ||
          (op != arp::kRequest && op != arp::kReply))
        fail("ARP out malformed");
      if (std::memcmp(p + arp::kSenderMac, kOurMac.bytes, 6) != 0 ||
          load32(p + arp::kSenderIp) != kOurIp)
        fail("ARP out not from us");
      if (op == arp::kRequest && !to.is_broadcast()) fail("ARP request out not broadcast");
      return;
    }
    if (type != eth::kTypeIpv4) fail("frame out neither ARP nor IPv4");
    if (length < ip::kMinHeaderBytes) fail("IPv4 out shorter than its header");
    if (p[ip::kVersionIhl] != 0x45) fail("IPv4 out: not version 4 with a 20-byte header");
    if (load16(p + ip::kTotalLength) != length) fail("IPv4 out: total length is not the frame's");
    if (fold(ones_sum(p, ip::kMinHeaderBytes)) != 0xffff) fail("IPv4 out: bad header checksum");
    if (load32(p + ip::kSource) != kOurIp) fail("IPv4 out: not from our address");
    if (p[ip::kTtl] == 0) fail("IPv4 out: TTL 0");
    const uint16_t fragment = load16(p + ip::kFragment);
    const uint32_t destination = load32(p + ip::kDestination);
    const uint8_t protocol = p[ip::kProtocol];
    const uint8_t* l4 = p + ip::kMinHeaderBytes;
    const std::size_t l4_length = length - ip::kMinHeaderBytes;
    if ((fragment & (ip::kMoreFragments | ip::kOffsetMask)) != 0) {
      if ((fragment & ip::kDontFragment) != 0) fail("IPv4 out: a fragment with DF");
      if ((fragment & ip::kMoreFragments) != 0 && (l4_length == 0 || l4_length % 8 != 0))
        fail("IPv4 out: a fragment not a multiple of 8");
      if ((fragment & ip::kOffsetMask) * 8u + l4_length > 65535 - ip::kMinHeaderBytes)
        fail("IPv4 out: a fragment past 65535");
      return;
    }
    const uint64_t pseudo =
        pseudo_sum(kOurIp, destination, protocol, static_cast<uint32_t>(l4_length));
    if (protocol == ip::kProtocolTcp) {
      if (l4_length < tcp::kMinHeaderBytes) fail("TCP out shorter than its header");
      const uint32_t header = (l4[tcp::kDataOffset] >> 4) * 4u;
      if (header < tcp::kMinHeaderBytes || header > l4_length) fail("TCP out: bad data offset");
      if (fold(ones_sum(l4, l4_length, pseudo)) != 0xffff) fail("TCP out: bad checksum");
      if (load16(l4 + tcp::kSourcePort) == 0 || load16(l4 + tcp::kDestinationPort) == 0)
        fail("TCP out: port 0");
      learn_out(destination, l4, l4_length);
    } else if (protocol == ip::kProtocolUdp) {
      if (l4_length < udp::kHeaderBytes) fail("UDP out shorter than its header");
      if (load16(l4 + udp::kLength) != l4_length) fail("UDP out: length is not the packet's");
      if (load16(l4 + udp::kChecksum) == 0) fail("UDP out without a checksum");
      if (fold(ones_sum(l4, l4_length, pseudo)) != 0xffff) fail("UDP out: bad checksum");
    } else if (protocol == ip::kProtocolIcmp) {
      if (l4_length < icmp::kHeaderBytes) fail("ICMP out shorter than its header");
      if (fold(ones_sum(l4, l4_length)) != 0xffff) fail("ICMP out: bad checksum");
    } else {
      fail("IPv4 out of an unknown protocol");
    }
  }

  // ---- what the harness learns of the flows ----

  Flow& flow(uint32_t peer_ip, uint16_t peer_port, uint16_t our_port) {
    for (Flow& f : flows_)
      if (f.peer_ip == peer_ip && f.peer_port == peer_port && f.our_port == our_port) return f;
    if (flows_.size() >= kMaxFlows) flows_.erase(flows_.begin());
    flows_.push_back(Flow{peer_ip, peer_port, our_port});
    return flows_.back();
  }

  void learn_out(uint32_t destination, const uint8_t* t, std::size_t length) {
    const uint32_t header = (t[tcp::kDataOffset] >> 4) * 4u;
    const uint8_t flags = t[tcp::kFlags];
    const uint32_t seq = load32(t + tcp::kSeq);
    const uint32_t end = seq + static_cast<uint32_t>(length - header) + ((flags & tcp::kSyn) != 0) +
                         ((flags & tcp::kFin) != 0);
    const uint16_t our_port = load16(t + tcp::kSourcePort);
    const uint16_t peer_port = load16(t + tcp::kDestinationPort);
    Flow& f = flow(destination, peer_port, our_port);
    if ((flags & tcp::kSyn) != 0 || !f.engine_seen || seq_after(end, f.engine_next))
      f.engine_next = end;
    f.engine_seen = true;
    if ((flags & tcp::kAck) != 0) f.peer_next = load32(t + tcp::kAckNumber);
    last_ = {destination, peer_port, our_port};
  }

  void fix_up(uint8_t fixes, std::vector<uint8_t>& f) {
    if (f.size() > kMaxFrameIn) f.resize(kMaxFrameIn);
    if (f.size() < eth::kHeaderBytes + ip::kMinHeaderBytes ||
        load16(f.data() + eth::kType) != eth::kTypeIpv4)
      return;
    uint8_t* p = f.data() + eth::kHeaderBytes;
    const std::size_t available = f.size() - eth::kHeaderBytes;
    const uint32_t ihl = (p[ip::kVersionIhl] & 0x0f) * 4u;
    if ((p[ip::kVersionIhl] >> 4) != 4 || ihl < ip::kMinHeaderBytes || ihl > available) return;
    if ((fixes & kFixLengths) != 0) store16(p + ip::kTotalLength, static_cast<uint16_t>(available));
    const std::size_t total = std::min<std::size_t>(load16(p + ip::kTotalLength), available);
    const bool whole = (load16(p + ip::kFragment) & (ip::kMoreFragments | ip::kOffsetMask)) == 0;
    uint8_t* l4 = p + ihl;
    const std::size_t l4_length = total > ihl ? total - ihl : 0;
    if (whole && p[ip::kProtocol] == ip::kProtocolTcp && l4_length >= tcp::kMinHeaderBytes)
      fix_tcp(fixes, p, l4, l4_length);
    if ((fixes & kFixChecksums) != 0) {
      store16(p + ip::kChecksum, 0);
      store16(p + ip::kChecksum, static_cast<uint16_t>(~fold(ones_sum(p, ihl))));
    }
    if (!whole) return;
    const uint32_t source = load32(p + ip::kSource), destination = load32(p + ip::kDestination);
    const uint8_t protocol = p[ip::kProtocol];
    if (protocol == ip::kProtocolUdp && l4_length >= udp::kHeaderBytes) {
      if ((fixes & kFixLengths) != 0) store16(l4 + udp::kLength, static_cast<uint16_t>(l4_length));
      if ((fixes & kFixChecksums) != 0) {
        const std::size_t n =
            std::clamp<std::size_t>(load16(l4 + udp::kLength), udp::kHeaderBytes, l4_length);
        store16(l4 + udp::kChecksum, 0);
        const auto sum = static_cast<uint16_t>(~fold(
            ones_sum(l4, n, pseudo_sum(source, destination, protocol, static_cast<uint32_t>(n)))));
        store16(l4 + udp::kChecksum, sum == 0 ? 0xffff : sum);
      }
    } else if (protocol == ip::kProtocolTcp && l4_length >= tcp::kMinHeaderBytes) {
      if ((fixes & kFixChecksums) != 0) {
        store16(l4 + tcp::kChecksum, 0);
        store16(l4 + tcp::kChecksum,
                static_cast<uint16_t>(~fold(ones_sum(
                    l4, l4_length,
                    pseudo_sum(source, destination, protocol, static_cast<uint32_t>(l4_length))))));
      }
    } else if (protocol == ip::kProtocolIcmp && l4_length >= 4) {
      if ((fixes & kFixChecksums) != 0) {
        store16(l4 + icmp::kChecksum, 0);
        store16(l4 + icmp::kChecksum, static_cast<uint16_t>(~fold(ones_sum(l4, l4_length))));
      }
    }
  }

  // The TCP fix-ups that come before the checksums: retarget, relative
  // numbers; then what the input sends teaches the flow its next seq.
  void fix_tcp(uint8_t fixes, uint8_t* p, uint8_t* t, std::size_t length) {
    if ((fixes & kRetarget) != 0 && last_.peer_port != 0) {
      store32(p + ip::kSource, last_.peer_ip);
      store32(p + ip::kDestination, kOurIp);
      store16(t + tcp::kSourcePort, last_.peer_port);
      store16(t + tcp::kDestinationPort, last_.our_port);
    }
    if (load32(p + ip::kDestination) != kOurIp) return;
    Flow& f = flow(load32(p + ip::kSource), load16(t + tcp::kSourcePort),
                   load16(t + tcp::kDestinationPort));
    uint32_t seq = load32(t + tcp::kSeq);
    if ((fixes & kRelativeSeq) != 0) seq += f.peer_next;
    store32(t + tcp::kSeq, seq);
    if ((fixes & kRelativeAck) != 0)
      store32(t + tcp::kAckNumber, load32(t + tcp::kAckNumber) + f.engine_next);
    const uint32_t header = (t[tcp::kDataOffset] >> 4) * 4u;
    if (header < tcp::kMinHeaderBytes || header > length) return;
    const uint8_t flags = t[tcp::kFlags];
    if ((flags & tcp::kRst) == 0)
      f.peer_next = seq + static_cast<uint32_t>(length - header) + ((flags & tcp::kSyn) != 0) +
                    ((flags & tcp::kFin) != 0);
  }

  void show_counters() const {
    const stack::StackCounters& c = engine_->counters();
    std::fprintf(stderr,
                 "end: connections %zu (TIME-WAIT %zu), ARP entries %zu waiting %zu, reassembly "
                 "%zu bytes; in %lu out %lu; accepted %lu connected %lu closed %lu resets in %lu "
                 "out %lu; retransmits %lu fast %lu timeouts %lu probes %lu keepalive %lu; "
                 "out-of-order %lu duplicates %lu out-of-window %lu challenge ACKs %lu bad ACKs "
                 "%lu; SYN queue full %lu too many %lu TIME-WAIT recycled %lu; reassembled %lu; "
                 "UDP in %lu; echo requests %lu; ARP unresolved %lu queue full %lu\n",
                 engine_->tcp().connection_count(), engine_->tcp().time_wait_count(),
                 engine_->arp().entries(), engine_->arp().waiting(),
                 engine_->reassembler().bytes_held(), c.frames_in, c.frames_out, c.tcp_accepted,
                 c.tcp_connected, c.tcp_closed, c.tcp_resets_in, c.tcp_resets_out,
                 c.tcp_retransmits, c.tcp_fast_retransmits, c.tcp_timeouts, c.tcp_window_probes,
                 c.tcp_keepalive_probes, c.tcp_out_of_order, c.tcp_duplicates, c.tcp_out_of_window,
                 c.tcp_challenge_acks, c.tcp_bad_acks, c.tcp_syn_queue_full, c.tcp_too_many,
                 c.tcp_time_wait_recycled, c.reassembled, c.udp_in, c.icmp_echo_requests,
                 c.arp_unresolved, c.arp_queue_full);
  }

  static void show(const char* dir, const uint8_t* f, std::size_t n) {
    std::fprintf(stderr, "%s %4zu:", dir, n);
    if (n >= eth::kHeaderBytes + ip::kMinHeaderBytes + tcp::kMinHeaderBytes &&
        load16(f + eth::kType) == eth::kTypeIpv4 &&
        f[eth::kHeaderBytes + ip::kProtocol] == ip::kProtocolTcp) {
      const uint8_t* p = f + eth::kHeaderBytes;
      const uint8_t* t = p + (p[0] & 15) * 4u;
      if (t + tcp::kMinHeaderBytes <= f + n) {
        std::fprintf(
            stderr, " tcp %08x:%u > %08x:%u flags %02x seq %u ack %u win %u len %u\n",
            load32(p + ip::kSource), load16(t), load32(p + ip::kDestination), load16(t + 2),
            t[tcp::kFlags], load32(t + tcp::kSeq), load32(t + tcp::kAckNumber),
            load16(t + tcp::kWindow),
            load16(p + ip::kTotalLength) - (p[0] & 15) * 4u - (t[tcp::kDataOffset] >> 4) * 4u);
        return;
      }
    }
    for (std::size_t i = 0; i < n && i < 48; ++i)
      std::fprintf(stderr, " %02x", f[i]);
    std::fprintf(stderr, "%s\n", n > 48 ? " ..." : "");
  }

  struct App {
    uint64_t id;
    Connection conn;
  };
  struct FlowKey {
    uint32_t peer_ip = 0;
    uint16_t peer_port = 0, our_port = 0;
  };

  const uint8_t setup_;
  AppMode mode_ = AppMode::kEcho;
  ConnectionOptions options_;
  ManualClock clock_;
  // Declared after what its callbacks use, so that it goes first.
  std::vector<App> conns_;
  std::vector<Flow> flows_;
  FlowKey last_;
  uint64_t next_id_ = 0;
  uint16_t ping_sequence_ = 0;
  bool listening_ = false;
  DatagramSocket* udp_ = nullptr;
  std::unique_ptr<stack::Engine> engine_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_show = std::getenv("EBB_FUZZ_SHOW") != nullptr;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Harness h(data[0]);
  std::size_t pos = 1;
  while (pos < size) {
    const uint8_t code = data[pos++];
    if (code < 0x80) {
      std::size_t length = 0;
      if (pos < size) length = std::size_t{data[pos++]} << 8;
      if (pos < size) length |= data[pos++];
      length = std::min(length, size - pos);
      h.frame(code, std::span<const uint8_t>(data + pos, length));
      pos += length;
    } else if (code < 0xc0) {
      h.advance(code & 0x3f);
    } else {
      const uint8_t arg = pos < size ? data[pos++] : 0;
      h.action(code, arg);
    }
  }
  return 0;
}
