#include "ebbs/net/posix/udp.h"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "ebbs/net/posix/socket.h"
#include "runtime/hosted/fd_watch.h"

namespace ebb::net::posix {
namespace {

using detail::bump;

constexpr int kDatagramsPerTurn = 32;
constexpr int kMaxIovecs = 64;
constexpr std::size_t kMaxDatagram = 65536;

class UdpSocket final : public detail::PortSocket, public DatagramSocket {
 public:
  UdpSocket(int socket_fd, DatagramHandler handler)
      : PortSocket(socket_fd), handler_(std::move(handler)), local_(detail::local_of(socket_fd)) {}

  Status send_to(Endpoint to, IOBuf data) override {
    if (closed) return Error(Errc::kCancelled, "send_to on a closed socket");
    iovec iov[kMaxIovecs];
    int count = 0;
    for (const IOBuf::Link* l = data.first_link(); l != nullptr; l = l->next) {
      if (l->length == 0) continue;
      if (count == kMaxIovecs) {  // too scattered for one call: gather it
        Result<const uint8_t*> flat = data.gather(data.length());
        if (!flat) return flat.error();
        iov[0].iov_base = const_cast<uint8_t*>(*flat);
        iov[0].iov_len = data.length();
        count = 1;
        break;
      }
      iov[count].iov_base = l->data;
      iov[count].iov_len = l->length;
      ++count;
    }
    sockaddr_in address = detail::to_sockaddr(to);
    msghdr msg{};
    msg.msg_name = &address;
    msg.msg_namelen = sizeof address;
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    if (::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      const int err = errno;
      bump(&NetStats::datagrams_dropped);
      return Error::from_errno("send_to: the datagram was not sent", err);
    }
    bump(&NetStats::datagrams_sent);
    return {};
  }

  Endpoint local() const override { return local_; }

  void close() override {
    if (!closed) detail::close_port_socket(fd);
  }

  void receive_some() {
    for (int i = 0; i < kDatagramsPerTurn && !closed; ++i) {
      thread_local uint8_t scratch[kMaxDatagram];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd, scratch, sizeof scratch, MSG_DONTWAIT,
                                   reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        bump(&NetStats::udp_errors);  // e.g. ECONNREFUSED from an earlier send: go on
        continue;
      }
      bump(&NetStats::datagrams_received);
      Result<IOBuf> data = IOBuf::CopyOf(scratch, static_cast<std::size_t>(n));
      if (!data) {
        bump(&NetStats::udp_errors);
        continue;
      }
      handler_(*this, detail::to_endpoint(from), std::move(*data));
    }
  }

 private:
  DatagramHandler handler_;
  Endpoint local_;
};

}  // namespace

namespace {

// Opens, watches and registers a UDP socket of this core.
Result<std::shared_ptr<UdpSocket>> open_here(uint32_t ip, uint16_t port, DatagramHandler handler) {
  Result<int> fd = detail::open_port_socket(SOCK_DGRAM, ip, port, -1);
  if (!fd) return fd.error();
  auto socket = std::make_shared<UdpSocket>(*fd, std::move(handler));
  Status watching = hosted::watch_fd(*fd, EPOLLIN, [socket](uint32_t) { socket->receive_some(); });
  if (!watching) {
    ::close(*fd);
    socket->closed = true;
    return watching.error();
  }
  detail::register_port_socket(socket);
  return socket;
}

}  // namespace

Result<int> detail::open_udp_socket(uint32_t ip, uint16_t port, DatagramHandler handler) {
  Result<std::shared_ptr<UdpSocket>> socket = open_here(ip, port, std::move(handler));
  if (!socket) return socket.error();
  return (*socket)->fd;
}

Result<std::shared_ptr<DatagramSocket>> open_udp(Endpoint local, DatagramHandler on_datagram) {
  Result<std::shared_ptr<UdpSocket>> socket = open_here(local.ip, local.port, std::move(on_datagram));
  if (!socket) return socket.error();
  return std::shared_ptr<DatagramSocket>(*socket);
}

}  // namespace ebb::net::posix
