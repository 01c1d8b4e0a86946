#pragma once
// UDP on the Linux-socket backend: a port bound on every core (SO_REUSEPORT,
// so the kernel spreads flows over the cores); each core's handler gets the
// datagrams of its socket and may answer through it.

#include <sys/socket.h>

#include <cstdint>
#include <memory>

#include "ebbs/net/datagram.h"
#include "ebbs/net/posix/listener.h"
#include "ebbs/net/posix/stats.h"

namespace ebb::net::posix {

namespace detail {
Result<int> open_udp_socket(uint32_t ip, uint16_t port, DatagramHandler handler);
}  // namespace detail

// A UDP socket of the calling core alone (a client's): bound to `local`
// (port 0: one the system picks; local() says which), its datagrams to
// on_datagram on this core. Open until close(). From a core.
Result<std::shared_ptr<DatagramSocket>> open_udp(Endpoint local, DatagramHandler on_datagram);

// Binds `port` (0: one the system picks) on every core; on_datagram is
// copied to each core. From a core.
template <class F>
Future<Listener> bind_udp(uint16_t port, F on_datagram, uint32_t ip = 0) {
  return detail::open_on_every_core(SOCK_DGRAM, ip, port, [on_datagram, ip](uint16_t same_port) {
    return detail::open_udp_socket(ip, same_port, DatagramHandler(F(on_datagram)));
  });
}

}  // namespace ebb::net::posix
