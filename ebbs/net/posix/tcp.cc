#include "ebbs/net/posix/tcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>

#include "ebbs/net/posix/socket.h"
#include "runtime/hosted/fd_watch.h"
#include "runtime/spawn.h"
#include "runtime/timer.h"

namespace ebb::net::posix {
namespace {

using detail::bump;
using detail::local_of;
using detail::to_endpoint;
using detail::to_sockaddr;

void set_nodelay(int fd) {
  const int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool is_reset(int err) { return err == ECONNRESET || err == EPIPE || err == ECONNABORTED; }

// Reads land in buffers of this size (plus a second link while a connection
// streams); a short read is copied into one of its own size, so that small
// messages do not pin 16 KiB each.
constexpr std::size_t kReadBytes = 16 * 1024;
constexpr std::size_t kCopyBelow = 2048;
constexpr std::size_t kStreamReadBytes = 48 * 1024;  // the second link of a streaming read
constexpr int kReadsPerTurn = 4;  // then other connections get the core
constexpr int kMaxIovecs = 64;
constexpr int kAcceptsPerTurn = 64;
constexpr std::chrono::milliseconds kAcceptPause{10};

// ---- spreading accepted connections ------------------------------------------------------
//
// The kernel's SO_REUSEPORT hash puts a new connection on a core by its
// addresses: fair over thousands, uneven over the handful of long
// connections a server often has (11 and 6 of 17 on two cores in one run
// here; with CPUs to spare, the core with more is the bottleneck while the
// other idles). So a core that accepts a connection while another core
// holds fewer of them hands it there: one remote event, at accept only.
// Accepted one at a time, connections end up even (at most one apart);
// accepts racing on several cores may briefly put one more on a core. The
// counts are of accepted connections still open.
struct alignas(64) OpenAccepted {
  std::atomic<uint32_t> count{0};
};
OpenAccepted g_open_accepted[kMaxCores];

// The core a connection accepted here goes to: this one, unless another
// has fewer open (then the one with fewest). Its count is taken.
CoreId core_for_accepted() {
  const CoreId here = this_core();
  CoreId best = here;
  uint32_t fewest = g_open_accepted[here].count.load(std::memory_order_relaxed);
  for (CoreId core = 0, cores = num_cores(); core < cores && fewest != 0; ++core) {
    const uint32_t n = g_open_accepted[core].count.load(std::memory_order_relaxed);
    if (n < fewest) {
      fewest = n;
      best = core;
    }
  }
  g_open_accepted[best].count.fetch_add(1, std::memory_order_relaxed);
  return best;
}

// A connection handed to `owner` that never got there: its count goes back.
void hand_over_failed(CoreId owner) {
  g_open_accepted[owner].count.fetch_sub(1, std::memory_order_relaxed);
  bump(&NetStats::accept_errors);
}

// A descriptor in flight between cores: closed unless someone takes it.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&&) = delete;
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int take() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// ---- a connection --------------------------------------------------------------------

class PosixConnection final : public ConnectionState {
 public:
  PosixConnection(int fd, Endpoint local, Endpoint peer, const ConnectionOptions& options)
      : ConnectionState(this_core(), local, peer, options), fd_(fd) {}
  ~PosixConnection() override {
    if (fd_ >= 0) ::close(fd_);
    uncount();
  }

  // An accepted connection counts for its core's share (core_for_accepted)
  // until its socket closes.
  void count_as_accepted() { counted_ = true; }

  // Starts watching the socket; the watch holds a reference until unwatched.
  Status start() {
    events_ = EPOLLIN;
    return hosted::watch_fd(fd_, events_, [self = Connection(this), this](uint32_t ready) {
      on_ready(ready);
    });
  }

  Status send(IOBuf&& data) override {
    if (fd_ < 0 || closing_ || write_shut_ || shut_pending_)
      return Error(Errc::kCancelled, "send on a connection that is closing or closed");
    queue_.append(std::move(data));
    if ((events_ & EPOLLOUT) == 0) flush();  // nothing waits: try at once (flush tracks the queue)
    else queue_changed(queue_.length());
    if (fd_ >= 0) update_events();
    return {};
  }

  std::size_t send_queued() const override { return queue_.length(); }

  void set_receiving(bool on) override {
    receiving_ = on;
    if (fd_ >= 0) update_events();
  }

  void shutdown_write() override {
    if (fd_ < 0 || write_shut_) return;
    shut_pending_ = true;
    if (queue_.empty()) after_drain();
  }

  void close() override {
    if (fd_ < 0 || closing_) return;
    closing_ = true;
    if (queue_.empty()) teardown(Status());
    else update_events();  // stop reading; writing goes on
  }

  void abort() override {
    if (fd_ < 0) return;
    const linger reset{1, 0};  // close() then sends a reset, not a FIN
    (void)setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    teardown(Error(Errc::kCancelled, "connection aborted"));
  }

 private:
  void on_ready(uint32_t ready) {
    if (fd_ < 0) return;
    if ((ready & EPOLLERR) != 0) {
      int err = 0;
      socklen_t len = sizeof err;
      (void)getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      fail(err != 0 ? err : EIO);
      return;
    }
    if ((ready & EPOLLOUT) != 0) flush();
    if (fd_ >= 0 && (ready & (EPOLLIN | EPOLLHUP)) != 0 && receiving_ && !read_eof_) read_some();
    if (fd_ >= 0) update_events();
  }

  void read_some() {
    thread_local IOBuf spare;  // a read buffer that the last short read left unused
    for (int i = 0; i < kReadsPerTurn && fd_ >= 0 && receiving_ && !closing_; ++i) {
      IOBuf buf = std::move(spare);
      if (buf.tailroom() < kReadBytes) {
        Result<IOBuf> fresh = IOBuf::Create(kReadBytes);
        if (!fresh) return;  // out of memory: try again on the next turn
        buf = std::move(*fresh);
      }
      // A connection whose last read filled its buffer is streaming: read
      // into a second, larger link too (one readv, one chain).
      iovec iov[2] = {{buf.push_back(0), kReadBytes}, {nullptr, 0}};
      int links = 1;
      IOBuf more;
      if (streaming_) {
        if (Result<IOBuf> extra = IOBuf::Create(kStreamReadBytes)) {
          more = std::move(*extra);
          iov[1] = {more.push_back(0), kStreamReadBytes};
          links = 2;
        }
      }
      const std::size_t room = kReadBytes + (links == 2 ? kStreamReadBytes : 0);
      const ssize_t n = ::readv(fd_, iov, links);
      bump(&NetStats::reads);
      if (n > 0) {
        bump(&NetStats::bytes_received, static_cast<uint64_t>(n));
        streaming_ = static_cast<std::size_t>(n) == room;
        IOBuf data;
        if (static_cast<std::size_t>(n) < kCopyBelow) {
          Result<IOBuf> copy = IOBuf::CopyOf(buf.push_back(0), static_cast<std::size_t>(n));
          if (copy) {
            data = std::move(*copy);
            spare = std::move(buf);
          }
        }
        if (data.empty()) {
          const std::size_t first = std::min(static_cast<std::size_t>(n), kReadBytes);
          buf.push_back(first);
          if (first < static_cast<std::size_t>(n)) {
            more.push_back(static_cast<std::size_t>(n) - first);
            buf.append(std::move(more));
          }
          data = std::move(buf);
        }
        deliver(std::move(data));
        if (static_cast<std::size_t>(n) < room) return;  // drained
        continue;
      }
      if (n == 0) {  // the peer finished sending
        spare = std::move(buf);
        read_eof_ = true;
        update_events();
        deliver_end();
        if (fd_ >= 0 && write_shut_) teardown(Status());
        return;
      }
      spare = std::move(buf);
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      fail(errno);
      return;
    }
  }

  void flush() {
    while (!queue_.empty() && fd_ >= 0) {
      iovec iov[kMaxIovecs];
      int count = 0;
      for (const IOBuf::Link* l = queue_.first_link(); l != nullptr && count < kMaxIovecs;
           l = l->next) {
        if (l->length == 0) continue;
        iov[count].iov_base = l->data;
        iov[count].iov_len = l->length;
        ++count;
      }
      const ssize_t n = ::writev(fd_, iov, count);
      bump(&NetStats::writes);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        fail(errno);
        return;
      }
      bump(&NetStats::bytes_sent, static_cast<uint64_t>(n));
      queue_.trim_front(static_cast<std::size_t>(n));
    }
    queue_changed(queue_.length());
    if (queue_.empty() && fd_ >= 0) after_drain();
  }

  // The queue is empty: finish what waited for it.
  void after_drain() {
    if (shut_pending_ && !write_shut_) {
      shut_pending_ = false;
      write_shut_ = true;
      (void)::shutdown(fd_, SHUT_WR);
      if (read_eof_) {  // both directions are done
        teardown(Status());
        return;
      }
    }
    if (closing_) teardown(Status());
  }

  void update_events() {
    uint32_t want = 0;
    if (receiving_ && !read_eof_ && !closing_) want |= EPOLLIN;
    if (!queue_.empty()) want |= EPOLLOUT;
    if (want != events_) {
      events_ = want;
      (void)hosted::modify_fd(fd_, events_);
    }
  }

  void fail(int err) {
    if (is_reset(err)) {
      bump(&NetStats::resets);
      teardown(Error::from_errno("connection reset by peer", err));
    } else {
      bump(&NetStats::other_errors);
      teardown(Error::from_errno("socket error", err));
    }
  }

  // Closes the socket now and tells the app in an event of its own (never
  // from inside one of its callbacks).
  void teardown(const Status& why) {
    if (fd_ < 0) return;
    (void)hosted::unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
    uncount();
    queue_.clear();
    bump(&NetStats::closed);
    spawn_local([self = Connection(this), this, why] { finished(why); });
  }

  void uncount() {
    if (counted_) g_open_accepted[core_].count.fetch_sub(1, std::memory_order_relaxed);
    counted_ = false;
  }

  int fd_;
  bool counted_ = false;
  uint32_t events_ = 0;
  IOBuf queue_;
  bool receiving_ = true;
  bool streaming_ = false;  // the last read filled all it was given
  bool read_eof_ = false;
  bool shut_pending_ = false;
  bool write_shut_ = false;
  bool closing_ = false;
};

// A connection of this core for a connected socket. `accepted`: it counts
// for this core's share, taken already (core_for_accepted).
Result<Connection> adopt(int fd, Endpoint peer, const ConnectionOptions& options, bool accepted = false) {
  set_nodelay(fd);
  auto* state = new PosixConnection(fd, local_of(fd), peer, options);
  if (accepted) state->count_as_accepted();
  Connection connection(state);
  if (Status watching = state->start(); !watching) return watching.error();  // ~state closes fd
  return connection;
}

// ---- listening --------------------------------------------------------------------------

struct ListenerState;
// This core's TCP listeners by the id of their listen(): a connection
// handed here from another core goes to this core's copy of the handler.
thread_local std::unordered_map<uint64_t, ListenerState*> t_listeners;
std::atomic<uint64_t> g_next_listener_id{1};

struct ListenerState : detail::PortSocket {
  ListenerState(int socket_fd, uint64_t listener_id, Function<void(Connection)> accept, const ConnectionOptions& o)
      : PortSocket(socket_fd), key(listener_id), on_accept(std::move(accept)), options(o) {
    t_listeners[key] = this;
  }
  ~ListenerState() override {
    if (auto it = t_listeners.find(key); it != t_listeners.end() && it->second == this) t_listeners.erase(it);
  }
  uint64_t key;
  Function<void(Connection)> on_accept;
  ConnectionOptions options;
  bool paused = false;
};

// A connection accepted here, its count taken on `owner`: made a
// Connection of `owner` and given to that core's copy of the handler.
void hand_over(ListenerState& l, CoreId owner, int fd, Endpoint peer) {
  if (owner == this_core()) {
    Result<Connection> c = adopt(fd, peer, l.options, /*accepted=*/true);
    if (!c) {
      bump(&NetStats::other_errors);
      return;
    }
    bump(&NetStats::accepted);
    l.on_accept(std::move(*c));
    return;
  }
  Status sent = spawn_remote(owner, [key = l.key, owned = OwnedFd(fd), peer, owner]() mutable {
    auto it = t_listeners.find(key);
    if (it == t_listeners.end() || it->second->closed) {  // closed meanwhile: the connection goes too
      hand_over_failed(owner);
      return;
    }
    hand_over(*it->second, owner, owned.take(), peer);
  });
  if (!sent) {  // the fd went with the event
    hand_over_failed(owner);
    return;
  }
  bump(&NetStats::handed_off);
}

void accept_some(ListenerState& l) {
  for (int i = 0; i < kAcceptsPerTurn; ++i) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&peer), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      bump(&NetStats::accept_errors);
      if (errno == ECONNABORTED || errno == EPROTO || errno == EPERM) continue;
      // Out of descriptors or memory: the pending connection stays queued and
      // the level-triggered watch would spin; look again a little later.
      if (!l.paused) {
        l.paused = true;
        (void)hosted::modify_fd(l.fd, 0);
        std::weak_ptr<detail::PortSocket> state = detail::find_port_socket(l.fd);
        (void)add_timer(kAcceptPause, [state] {
          std::shared_ptr<detail::PortSocket> s = state.lock();
          if (s == nullptr || s->closed) return;
          static_cast<ListenerState&>(*s).paused = false;
          (void)hosted::modify_fd(s->fd, EPOLLIN);
        });
      }
      return;
    }
    hand_over(l, core_for_accepted(), fd, to_endpoint(peer));
  }
}

}  // namespace

// ---- the API --------------------------------------------------------------------------------

uint64_t detail::new_listener_id() { return g_next_listener_id.fetch_add(1, std::memory_order_relaxed); }

Result<int> detail::open_tcp_listener(uint64_t listener_id, uint32_t ip, uint16_t port, int backlog,
                                      Function<void(Connection)> on_accept,
                                      const ConnectionOptions& options) {
  Result<int> fd = open_port_socket(SOCK_STREAM, ip, port, backlog);
  if (!fd) return fd;
  auto state = std::make_shared<ListenerState>(*fd, listener_id, std::move(on_accept), options);
  Status watching = hosted::watch_fd(*fd, EPOLLIN, [state](uint32_t) {
    if (!state->closed) accept_some(*state);
  });
  if (!watching) {
    ::close(*fd);
    return watching.error();
  }
  register_port_socket(std::move(state));
  return fd;
}

// ---- connecting -------------------------------------------------------------------------------

namespace {

struct PendingConnect {
  int fd;
  Endpoint peer;
  ConnectionOptions options;
  Promise<Connection> promise;
  TimerId timer = 0;
  bool watched = false;
  bool done = false;

  // Every way a connect ends comes here once: err 0 is success; a timeout
  // is its own Error.
  void finish(int err, bool timed_out = false) {
    if (done) return;
    done = true;
    if (timer != 0) (void)cancel_timer(timer);
    if (watched) (void)hosted::unwatch_fd(fd);
    Result<Connection> c = Error(Errc::kTimedOut, "connect timed out");
    if (err == 0) {
      c = adopt(fd, peer, options);  // on failure the connection's end closes fd
    } else {
      ::close(fd);
      if (!timed_out) c = Error::from_errno("connect failed", err);
    }
    bump(c ? &NetStats::connected : &NetStats::connect_failures);
    promise.set_result(std::move(c));
  }
};

}  // namespace

Future<Connection> connect(Endpoint peer, const ConnectOptions& options) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    bump(&NetStats::connect_failures);
    return make_failed_future<Connection>(Error::from_errno("connect: socket() failed", errno));
  }
  auto pending = std::make_shared<PendingConnect>();
  pending->fd = fd;
  pending->peer = peer;
  pending->options = options.connection;
  Future<Connection> result = pending->promise.get_future();
  const sockaddr_in to = to_sockaddr(peer);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
    pending->finish(0);  // loopback may connect at once
    return result;
  }
  if (errno != EINPROGRESS) {
    pending->finish(errno);
    return result;
  }
  Status watching = hosted::watch_fd(fd, EPOLLOUT, [pending](uint32_t) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(pending->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    pending->finish(err);
  });
  if (!watching) {
    pending->finish(watching.error().sys_errno() != 0 ? watching.error().sys_errno() : EIO);
    return result;
  }
  pending->watched = true;
  Result<TimerId> timer = add_timer(options.timeout, [pending] {
    pending->timer = 0;
    pending->finish(ETIMEDOUT, /*timed_out=*/true);
  });
  if (timer) pending->timer = *timer;
  return result;
}

}  // namespace ebb::net::posix
