#pragma once
// What the TCP and UDP halves of the backend share: address conversion, the
// per-core counters, and the registry of this core's listener sockets.

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "ebbs/net/address.h"
#include "ebbs/net/posix/stats.h"

namespace ebb::net::posix::detail {

sockaddr_in to_sockaddr(Endpoint e);
Endpoint to_endpoint(const sockaddr_in& a);
Endpoint local_of(int fd);

// This core's counters; only this core writes them.
NetStats& counters();
inline void bump(uint64_t NetStats::*field, uint64_t n = 1) {
  std::atomic_ref<uint64_t> c(counters().*field);
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// A listener socket of this core (TCP or UDP). Closing marks it, so that a
// late timer or event does not act on a descriptor number reused since.
struct PortSocket {
  explicit PortSocket(int socket_fd) : fd(socket_fd) {}
  virtual ~PortSocket();  // closes the socket if nobody did
  int fd;
  bool closed = false;
};
// Keeps it until close_port_socket(fd).
void register_port_socket(std::shared_ptr<PortSocket> socket);
std::shared_ptr<PortSocket> find_port_socket(int fd);

}  // namespace ebb::net::posix::detail
