#pragma once
// Network: where an app serves — Linux sockets (--net=posix, the default)
// or the project's own TCP/IP stack on a TAP device (--net=stack). The app
// is the same either way: it gets Connections and DatagramSockets.
// The flags are NetworkFlags (network_flags.h).
//
// The TAP must exist (ip tuntap add dev NAME mode tap [multi_queue]) or is
// created; the host's side of it is the peer of the stack, which owns the
// address given by --ip (or leased by DHCP).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/network_flags.h"
#include "ebbs/net/connection.h"
#include "ebbs/net/datagram.h"
#include "runtime/future.h"
#include "runtime/result.h"

namespace ebb::apps {

// One core's traffic as the backend counts it: the own stack counts frames,
// Linux sockets the system calls that move the bytes (the kernel's packets
// are not the process's to count).
struct NetCoreCounts {
  bool has_packets = false;
  uint64_t packets_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  // TCP connections open on the core now (Linux sockets: the own stack's
  // counts do not tell established from half-open or refused ones).
  std::optional<uint64_t> connections;
  bool has_syscalls = false;
  uint64_t syscalls = 0;  // reads and writes
};

using AcceptHandler = void (*)(net::Connection);
using DatagramHandlerFn = void (*)(net::DatagramSocket&, net::Endpoint, net::IOBuf);

class Network {
 public:
  // Opens the backend (the TAP and the stack on every core; a DHCP lease
  // when asked). On a core, in an event that may block.
  static Result<std::unique_ptr<Network>> Start(const NetworkFlags& flags);
  virtual ~Network() = default;

  // TCP on `port` on every core (0: a port the backend picks); the port.
  virtual Result<uint16_t> listen(uint16_t port, AcceptHandler on_accept, uint32_t listen_ip) = 0;
  virtual Status bind_udp(uint16_t port, DatagramHandlerFn handler, uint32_t listen_ip) = 0;
  // A TCP connection to `peer`, living on the calling core. From a core.
  virtual Future<net::Connection> connect(net::Endpoint peer) = 0;
  // Every core's counts now, indexed by core. From a core.
  virtual Future<std::vector<NetCoreCounts>> core_counts() = 0;
  // "Linux sockets" or "own stack on tap0, 198.18.0.2/24".
  virtual std::string describe() const = 0;
};

}  // namespace ebb::apps
