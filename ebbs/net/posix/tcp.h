#pragma once
// The Linux-socket backend of the connection API (ebbs/net/connection.h).
//
// Each core watches its own sockets in its own epoll set, inside its event
// loop: no extra threads. listen() opens an SO_REUSEPORT listener on every
// core, so the kernel spreads new connections over the cores, and each
// connection stays on the core that accepted it. Sockets are non-blocking,
// with TCP_NODELAY; sends are gathered writes (writev) of IOBuf chains.
// Every failure of the system (reset by peer, EMFILE, ...) becomes an Error
// for the connection it concerns and a count in TcpStats; none stops a core.
//
//   net::posix::listen(7, [](net::Connection c) {
//     c.on_receive([c](net::IOBuf data) mutable { (void)c.send(std::move(data)); });
//   }).block();

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "ebbs/net/connection.h"
#include "runtime/future.h"
#include "runtime/spawn.h"
#include "runtime/submit.h"

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

// A listening port, open on every core until close().
class Listener {
 public:
  uint16_t port() const { return shared_->port; }
  // Stops accepting on every core (connections already made go on).
  Future<void> close();

  struct Shared {
    uint16_t port = 0;
    std::vector<int> fds;  // per core; each written by its core only
  };
  explicit Listener(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

 private:
  std::shared_ptr<Shared> shared_;
};

// Counters, per core, written by that core.
struct TcpStats {
  uint64_t accepted = 0;
  uint64_t connected = 0;
  uint64_t connect_failures = 0;
  uint64_t accept_errors = 0;  // EMFILE, ENFILE, ENOBUFS, ... (the listener pauses briefly)
  uint64_t resets = 0;         // ECONNRESET, EPIPE
  uint64_t other_errors = 0;   // any other failing read, write or socket call
  uint64_t closed = 0;         // connections finished, however
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t reads = 0;   // read system calls
  uint64_t writes = 0;  // writev system calls

  TcpStats& operator+=(const TcpStats& other);
};
TcpStats tcp_stats(CoreId core);
TcpStats tcp_stats();  // every core

namespace detail {
// Opens a non-blocking SO_REUSEPORT socket bound to ip:port, listening when
// `listening`; the port it got comes back in `port`.
Result<int> open_listener(uint32_t ip, uint16_t& port, int backlog, bool listening);
// Watches a listener of this core: accepted connections go to on_accept.
Status watch_listener(int fd, Function<void(Connection)> on_accept,
                      const ConnectionOptions& options);
void close_listener(int fd);
}  // namespace detail

// Listens on `port` (0: one the system picks; Listener::port() says which)
// on every core. on_accept is copied to each core and called there, on the
// core that owns the new connection. From a core.
template <class F>
Future<Listener> listen(uint16_t port, F on_accept, ListenOptions options = {}) {
  // A bound, not listening, socket holds the port while every core opens
  // its own listener on it; then it goes.
  Result<int> probe = detail::open_listener(options.ip, port, options.backlog, false);
  if (!probe) return make_failed_future<Listener>(probe.error());
  auto shared = std::make_shared<Listener::Shared>();
  shared->port = port;
  shared->fds.assign(num_cores(), -1);
  const int probe_fd = *probe;
  auto opened = submit_to_all([shared, on_accept, options]() -> Status {
    uint16_t same_port = shared->port;
    Result<int> fd = detail::open_listener(options.ip, same_port, options.backlog, true);
    if (!fd) return fd.error();
    shared->fds[this_core()] = *fd;
    return detail::watch_listener(*fd, Function<void(Connection)>(F(on_accept)), options.connection);
  });
  return opened.then([shared, probe_fd](std::vector<Result<void>> results) -> Future<Listener> {
    detail::close_listener(probe_fd);
    Listener listener(shared);
    for (const Result<void>& r : results) {
      if (!r) {  // undo the cores that did open
        const Error why = r.error();
        return listener.close().then([why](Result<void>) -> Result<Listener> { return why; });
      }
    }
    return make_ready_future<Listener>(std::move(listener));
  });
}

// Opens a connection to `peer`; it lives on the calling core. From a core.
Future<Connection> connect(Endpoint peer, const ConnectOptions& options = {});

}  // namespace ebb::net::posix
