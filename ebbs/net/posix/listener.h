#pragma once
// Listener: a port open on every core, one SO_REUSEPORT socket per core in
// that core's epoll set (TCP: the kernel spreads new connections over them;
// UDP: it spreads datagrams by flow). listen() and bind_udp() make them.

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/future.h"
#include "runtime/submit.h"

namespace ebb::net::posix {

class Listener {
 public:
  struct Shared {
    uint16_t port = 0;
    std::vector<int> fds;  // per core; each written by its core only
  };
  explicit Listener(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  uint16_t port() const { return shared_->port; }
  // Closes the socket of every core (TCP connections already made go on).
  Future<void> close();

 private:
  std::shared_ptr<Shared> shared_;
};

namespace detail {

// A non-blocking SO_REUSEPORT socket of `type` bound to ip:port (port 0: the
// system picks, and `port` says which), listening when backlog >= 0.
Result<int> open_port_socket(int type, uint32_t ip, uint16_t& port, int backlog);
// Unwatches (if watched) and closes a socket of a Listener.
void close_port_socket(int fd);

// Runs open_here(port) on every core: each opens, watches and returns its
// socket. A socket bound, not listening, holds the port meanwhile (so that a
// port of 0 is the same one everywhere).
template <class OpenHere>
Future<Listener> open_on_every_core(int type, uint32_t ip, uint16_t port, OpenHere open_here) {
  Result<int> holder = open_port_socket(type, ip, port, -1);
  if (!holder) return make_failed_future<Listener>(holder.error());
  auto shared = std::make_shared<Listener::Shared>();
  shared->port = port;
  shared->fds.assign(num_cores(), -1);
  const int holder_fd = *holder;
  auto opened = submit_to_all([shared, open_here]() -> Status {
    Result<int> fd = OpenHere(open_here)(shared->port);
    if (!fd) return fd.error();
    shared->fds[this_core()] = *fd;
    return {};
  });
  return opened.then([shared, holder_fd](std::vector<Result<void>> results) -> Future<Listener> {
    close_port_socket(holder_fd);
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

}  // namespace detail
}  // namespace ebb::net::posix
