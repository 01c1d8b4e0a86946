#include "ebbs/net/posix/socket.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

#include "ebbs/net/posix/listener.h"
#include "runtime/hosted/fd_watch.h"

namespace ebb::net::posix {
namespace {

// Every counter, once: adding, subtracting and reading go through this list.
constexpr uint64_t NetStats::*kFields[] = {
    &NetStats::accepted,       &NetStats::handed_off,         &NetStats::connected,
    &NetStats::connect_failures,
    &NetStats::accept_errors,  &NetStats::resets,             &NetStats::other_errors,
    &NetStats::closed,         &NetStats::bytes_received,     &NetStats::bytes_sent,
    &NetStats::reads,          &NetStats::writes,             &NetStats::datagrams_received,
    &NetStats::datagrams_sent, &NetStats::datagrams_dropped,  &NetStats::udp_errors,
};
static_assert(sizeof(kFields) / sizeof(kFields[0]) * sizeof(uint64_t) == sizeof(NetStats),
              "every NetStats field is in kFields");

struct alignas(64) CoreCounters {
  NetStats stats;
};
CoreCounters g_counters[kMaxCores];

thread_local std::unordered_map<int, std::shared_ptr<detail::PortSocket>> t_port_sockets;

}  // namespace

NetStats& NetStats::operator+=(const NetStats& o) {
  for (auto field : kFields) this->*field += o.*field;
  return *this;
}

NetStats& NetStats::operator-=(const NetStats& o) {
  for (auto field : kFields) this->*field -= o.*field;
  return *this;
}

NetStats net_stats(CoreId core) {
  NetStats& live = g_counters[core].stats;
  NetStats s;
  for (auto field : kFields)
    s.*field = std::atomic_ref<uint64_t>(live.*field).load(std::memory_order_relaxed);
  return s;
}

NetStats net_stats() {
  NetStats total;
  for (CoreId core = 0; core < kMaxCores; ++core) total += net_stats(core);
  return total;
}

namespace detail {

NetStats& counters() { return g_counters[this_core()].stats; }

sockaddr_in to_sockaddr(Endpoint e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(e.ip);
  a.sin_port = htons(e.port);
  return a;
}

Endpoint to_endpoint(const sockaddr_in& a) { return Endpoint{ntohl(a.sin_addr.s_addr), ntohs(a.sin_port)}; }

Endpoint local_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return {};
  return to_endpoint(a);
}

PortSocket::~PortSocket() {
  if (!closed) ::close(fd);
}

void register_port_socket(std::shared_ptr<PortSocket> socket) {
  const int fd = socket->fd;
  t_port_sockets[fd] = std::move(socket);
}

std::shared_ptr<PortSocket> find_port_socket(int fd) {
  auto it = t_port_sockets.find(fd);
  return it == t_port_sockets.end() ? nullptr : it->second;
}

Result<int> open_port_socket(int type, uint32_t ip, uint16_t& port, int backlog) {
  const int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("socket() failed", errno);
  const int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    const int err = errno;
    ::close(fd);
    return Error::from_errno("SO_REUSEPORT refused", err);
  }
  const sockaddr_in at = to_sockaddr(Endpoint{ip, port});
  if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
    const int err = errno;
    ::close(fd);
    return Error::from_errno("bind() failed (port in use?)", err);
  }
  if (backlog >= 0 && ::listen(fd, backlog) != 0) {
    const int err = errno;
    ::close(fd);
    return Error::from_errno("listen() failed", err);
  }
  port = local_of(fd).port;
  return fd;
}

void close_port_socket(int fd) {
  if (fd < 0) return;
  if (auto it = t_port_sockets.find(fd); it != t_port_sockets.end()) {
    it->second->closed = true;  // closed here, not again by its destructor
    t_port_sockets.erase(it);
    (void)hosted::unwatch_fd(fd);
  }
  ::close(fd);
}

}  // namespace detail

Future<void> Listener::close() {
  std::shared_ptr<Shared> shared = shared_;
  return submit_to_all([shared] {
           int& fd = shared->fds[this_core()];
           detail::close_port_socket(fd);
           fd = -1;
         })
      .then([](std::vector<Result<void>>) {});
}

}  // namespace ebb::net::posix
