#pragma once
// UdpLayer: one core's UDP ports (RFC 768), each a DatagramSocket of the
// connection API. Datagrams of a flow reach the core its hash picks, so a
// port is bound on every core that should receive (Stack does that).

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "ebbs/net/datagram.h"
#include "ebbs/net/iobuf/iobuf.h"

namespace ebb::net::stack {

class Engine;

class UdpLayer {
 public:
  explicit UdpLayer(Engine& engine);
  ~UdpLayer();

  // Port 0: a free one is picked. Errc::kAlreadyExists when taken.
  Result<DatagramSocket*> bind(uint16_t port, DatagramHandler handler);
  // A datagram for us, from its UDP header on.
  void input(IOBuf&& datagram, uint32_t source_ip, uint32_t destination_ip);

 private:
  class Socket;
  void unbind(uint16_t port);

  Engine& engine_;
  std::unordered_map<uint16_t, std::unique_ptr<Socket>> sockets_;
  uint16_t next_port_ = 0;
};

}  // namespace ebb::net::stack
