#include "ebbs/net/stack/udp.h"

#include "ebbs/net/stack/checksum.h"
#include "ebbs/net/stack/engine.h"
#include "ebbs/net/stack/wire_format.h"

namespace ebb::net::stack {

class UdpLayer::Socket final : public DatagramSocket {
 public:
  Socket(UdpLayer& layer, uint16_t port, DatagramHandler handler)
      : layer_(layer), port_(port), handler_(std::move(handler)) {}

  Status send_to(Endpoint to, IOBuf data) override {
    if (closed_) return Error(Errc::kCancelled, "send_to on a closed UDP socket");
    Engine& engine = layer_.engine_;
    const std::size_t length = data.length() + udp::kHeaderBytes;
    if (length > 65535 - ip::kMinHeaderBytes)
      return Error(Errc::kInvalidArgument, "UDP datagram too long", static_cast<int64_t>(length));
    IOBuf packet;
    if (data.headroom() >= udp::kHeaderBytes + ip::kMinHeaderBytes + eth::kHeaderBytes) {
      packet = std::move(data);
    } else {
      Result<IOBuf> header = IOBuf::Create(0, kHeadroom);
      if (!header) return header.error();
      packet = std::move(*header);
      packet.append(std::move(data));
    }
    uint8_t* h = packet.push_front(udp::kHeaderBytes);
    if (h == nullptr) return Error(Errc::kExhausted, "UDP: no room for the header");
    store16(h + udp::kSourcePort, port_);
    store16(h + udp::kDestinationPort, to.port);
    store16(h + udp::kLength, static_cast<uint16_t>(length));
    store16(h + udp::kChecksum, 0);
    Checksum sum;
    add_pseudo_header(sum, engine.ip(), to.ip, ip::kProtocolUdp, static_cast<uint32_t>(length));
    if (engine.config().checksum_offload && length + ip::kMinHeaderBytes <= engine.mtu()) {
      store16(h + udp::kChecksum, sum.partial());  // one packet: the device sums it
    } else {
      sum.add(packet);
      const uint16_t checksum = sum.finish();
      store16(h + udp::kChecksum, checksum == 0 ? 0xffff : checksum);  // 0 means "none"
    }
    ++engine.counters().udp_out;
    engine.send_ip(to.ip, ip::kProtocolUdp, std::move(packet));
    return {};
  }

  Endpoint local() const override { return Endpoint{layer_.engine_.ip(), port_}; }

  void close() override {
    if (closed_) return;
    closed_ = true;
    // The handler may be running (it may be the one closing): unbind after.
    UdpLayer* layer = &layer_;
    const uint16_t port = port_;
    layer_.engine_.defer([layer, port] { layer->unbind(port); });
  }

  void deliver(Endpoint from, IOBuf data) {
    if (!closed_ && handler_) handler_(*this, from, std::move(data));
  }

 private:
  UdpLayer& layer_;
  const uint16_t port_;
  DatagramHandler handler_;
  bool closed_ = false;
};

UdpLayer::UdpLayer(Engine& engine) : engine_(engine) {}
UdpLayer::~UdpLayer() = default;

Result<DatagramSocket*> UdpLayer::bind(uint16_t port, DatagramHandler handler) {
  if (port == 0) {
    for (uint32_t tries = 0; tries < 16384; ++tries) {
      const auto candidate = static_cast<uint16_t>(49152 + (next_port_++ % 16384));
      if (sockets_.count(candidate) == 0) {
        port = candidate;
        break;
      }
    }
    if (port == 0) return Error(Errc::kExhausted, "no free UDP port");
  }
  if (sockets_.count(port) != 0) return Error(Errc::kAlreadyExists, "UDP port in use", port);
  auto socket = std::make_unique<Socket>(*this, port, std::move(handler));
  Socket* raw = socket.get();
  sockets_.emplace(port, std::move(socket));
  return static_cast<DatagramSocket*>(raw);
}

void UdpLayer::unbind(uint16_t port) { sockets_.erase(port); }

void UdpLayer::input(IOBuf&& datagram, uint32_t source_ip, uint32_t destination_ip) {
  StackCounters& c = engine_.counters();
  Result<const uint8_t*> h = datagram.gather(udp::kHeaderBytes);
  if (!h) {
    ++c.udp_malformed;
    return;
  }
  const uint16_t length = load16(*h + udp::kLength);
  if (length < udp::kHeaderBytes || length > datagram.length()) {
    ++c.udp_malformed;
    return;
  }
  if (length < datagram.length()) datagram.trim_back(datagram.length() - length);
  if (load16(*h + udp::kChecksum) != 0) {  // 0: the sender computed none
    Checksum sum;
    add_pseudo_header(sum, source_ip, destination_ip, ip::kProtocolUdp, length);
    sum.add(datagram);
    if (!sum.verifies()) {
      ++c.udp_bad_checksum;
      return;
    }
  }
  const uint16_t source_port = load16(*h + udp::kSourcePort);
  const uint16_t destination_port = load16(*h + udp::kDestinationPort);
  auto it = sockets_.find(destination_port);
  if (it == sockets_.end()) {
    ++c.udp_no_port;
    return;
  }
  ++c.udp_in;
  datagram.trim_front(udp::kHeaderBytes);
  it->second->deliver(Endpoint{source_ip, source_port}, std::move(datagram));
}

}  // namespace ebb::net::stack
