#pragma once
// The Linux-socket backend of the connection API (ebbs/net/connection.h).
//
// Each core watches its own sockets in its own epoll set, inside its event
// loop: no extra threads. listen() opens an SO_REUSEPORT listener on every
// core, so the kernel spreads new connections over the cores; a core that
// accepts one while another core has fewer open hands it there (the kernel's
// hash is uneven over a few connections), and the connection then stays on
// its core. Sockets are non-blocking, with TCP_NODELAY; sends are gathered
// writes (writev) of IOBuf chains.
// Every failure of the system (reset by peer, EMFILE, ...) becomes an Error
// for the connection it concerns and a count in NetStats; none stops a core.
//
//   net::posix::listen(7, [](net::Connection c) {
//     c.on_receive([c](net::IOBuf data) mutable { (void)c.send(std::move(data)); });
//   }).block();

#include <chrono>
#include <cstdint>

#include <sys/socket.h>

#include "ebbs/net/connection.h"
#include "ebbs/net/posix/listener.h"
#include "ebbs/net/posix/stats.h"
#include "runtime/future.h"

namespace ebb::net::posix {

struct ListenOptions {
  uint32_t ip = 0;  // the address to listen on; 0: all
  int backlog = 1024;
  ConnectionOptions connection;
};

struct ConnectOptions {
  std::chrono::milliseconds timeout{10'000};  // then Errc::kTimedOut
  ConnectionOptions connection;
};

namespace detail {
// One per listen(): its listeners on every core share it.
uint64_t new_listener_id();
// Opens this core's listener on `port` and watches it: accepted
// connections go to on_accept. The socket, for Listener.
Result<int> open_tcp_listener(uint64_t listener_id, uint32_t ip, uint16_t port, int backlog,
                              Function<void(Connection)> on_accept, const ConnectionOptions& options);
}  // namespace detail

// Listens on `port` (0: one the system picks; Listener::port() says which)
// on every core. on_accept is copied to each core and called there, on the
// core that owns the new connection. From a core.
template <class F>
Future<Listener> listen(uint16_t port, F on_accept, ListenOptions options = {}) {
  return detail::open_on_every_core(SOCK_STREAM, options.ip, port,
                                    [on_accept, options, id = detail::new_listener_id()](uint16_t same_port) {
                                      return detail::open_tcp_listener(
                                          id, options.ip, same_port, options.backlog,
                                          Function<void(Connection)>(F(on_accept)),
                                          options.connection);
                                    });
}

// Opens a connection to `peer`; it lives on the calling core. From a core.
Future<Connection> connect(Endpoint peer, const ConnectOptions& options = {});

}  // namespace ebb::net::posix
