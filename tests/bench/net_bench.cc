// ebb-bench-net: the Linux-socket backend against a hand-written epoll echo
// loop (the floor), over loopback, in one binary.
//
//   BM_EchoRoundTrip_{Ebb,Epoll}    64-byte request, 64-byte reply, one at a time
//   BM_EchoThroughput_{Ebb,Epoll}   1 MiB streamed through the echo, both ways at once
//
// The client is a plain blocking socket on the benchmark's thread. The server
// is a 1-core runtime (ebb-echo's logic) or one thread in epoll_wait. Each
// reports the server's system calls per request (reads, writes, epoll calls,
// wake-ups), which is where a network runtime spends its time.

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "ebbs/net/posix/tcp.h"
#include "runtime/hosted/fd_watch.h"
#include "runtime/runtime.h"

namespace {

using ebb::net::Connection;
using ebb::net::IOBuf;

// ---- the floor: one thread, one epoll set, blocking waits -------------------------

class EpollEcho {
 public:
  EpollEcho() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&at), sizeof at);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof at;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&at), &len);
    port_ = ntohs(at.sin_port);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    stop_fd_ = eventfd(0, EFD_CLOEXEC);  // written to stop the thread
    add(listen_fd_);
    add(stop_fd_);
    thread_ = std::thread([this] { run(); });
  }
  ~EpollEcho() {
    const uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
    thread_.join();
    for (int fd : {listen_fd_, epoll_fd_, stop_fd_}) ::close(fd);
  }
  uint16_t port() const { return port_; }
  uint64_t syscalls() const { return syscalls_.load(std::memory_order_relaxed); }

 private:
  void add(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  void count(uint64_t n = 1) { syscalls_.fetch_add(n, std::memory_order_relaxed); }
  void run() {
    char buf[16384];
    epoll_event events[64];
    for (;;) {
      const int n = epoll_wait(epoll_fd_, events, 64, -1);
      count();
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == stop_fd_) return;
        if (fd == listen_fd_) {
          const int c = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          count();
          if (c >= 0) {
            const int one = 1;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            add(c);
          }
          continue;
        }
        const ssize_t r = ::read(fd, buf, sizeof buf);
        count();
        if (r <= 0) {
          ::close(fd);
          continue;
        }
        // Blocking-style write of what came (the benchmarks never fill the socket).
        for (ssize_t done = 0; done < r;) {
          const ssize_t w = ::write(fd, buf + done, static_cast<std::size_t>(r - done));
          count();
          if (w <= 0) break;
          done += w;
        }
      }
    }
  }
  int listen_fd_ = -1, epoll_fd_ = -1, stop_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<uint64_t> syscalls_{0};
  std::thread thread_;
};

// ---- ours: ebb-echo's logic on a 1-core runtime ------------------------------------

void echo_connection(Connection c) {
  c.on_receive([c](IOBuf data) mutable {
    if (!c.send(std::move(data))) return;
    if (c.send_full()) c.pause_receive();
  });
  c.on_writable([c]() mutable { c.resume_receive(); });
}

class EbbEcho {
 public:
  EbbEcho() : runtime_({.cores = 1}) {
    auto listener = runtime_.run_on(0, [] { return ebb::net::posix::listen(0, &echo_connection); });
    port_ = listener ? listener->port() : 0;
  }
  uint16_t port() const { return port_; }
  uint64_t syscalls() const {
    const ebb::net::posix::NetStats s = ebb::net::posix::net_stats(0);
    return s.reads + s.writes + s.accepted + ebb::hosted::poll_calls(0);
  }

 private:
  ebb::Runtime runtime_;
  uint16_t port_ = 0;
};

// ---- the client ---------------------------------------------------------------------------

int dial(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool transfer(int fd, bool sending, char* buf, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    const ssize_t k = sending ? ::write(fd, buf + done, n - done) : ::read(fd, buf + done, n - done);
    if (k <= 0) return false;
    done += static_cast<std::size_t>(k);
  }
  return true;
}

template <class Server>
void BM_EchoRoundTrip(benchmark::State& state) {
  Server server;
  const int fd = dial(server.port());
  if (fd < 0) {
    state.SkipWithError("cannot connect");
    return;
  }
  char msg[64] = "ping";
  const uint64_t before = server.syscalls();
  for (auto _ : state) {
    if (!transfer(fd, true, msg, sizeof msg) || !transfer(fd, false, msg, sizeof msg)) {
      state.SkipWithError("echo failed");
      break;
    }
  }
  state.counters["server_syscalls_per_req"] = benchmark::Counter(
      static_cast<double>(server.syscalls() - before) / static_cast<double>(state.iterations()));
  ::close(fd);
}

template <class Server>
void BM_EchoThroughput(benchmark::State& state) {
  Server server;
  const int fd = dial(server.port());
  if (fd < 0) {
    state.SkipWithError("cannot connect");
    return;
  }
  constexpr std::size_t kBytes = 1 << 20;
  constexpr std::size_t kChunk = 16 << 10;
  std::vector<char> out(kChunk, 'x'), in(kBytes);
  const uint64_t before = server.syscalls();
  for (auto _ : state) {
    std::thread writer([&] {
      for (std::size_t sent = 0; sent < kBytes; sent += kChunk) transfer(fd, true, out.data(), kChunk);
    });
    const bool ok = transfer(fd, false, in.data(), kBytes);
    writer.join();
    if (!ok) {
      state.SkipWithError("echo failed");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
  // A "request" here is one 16 KiB chunk.
  state.counters["server_syscalls_per_16k"] =
      benchmark::Counter(static_cast<double>(server.syscalls() - before) /
                         static_cast<double>(state.iterations() * (kBytes / kChunk)));
  ::close(fd);
}

}  // namespace

BENCHMARK(BM_EchoRoundTrip<EbbEcho>)->Name("BM_EchoRoundTrip_Ebb")->UseRealTime();
BENCHMARK(BM_EchoRoundTrip<EpollEcho>)->Name("BM_EchoRoundTrip_Epoll")->UseRealTime();
BENCHMARK(BM_EchoThroughput<EbbEcho>)->Name("BM_EchoThroughput_Ebb")->UseRealTime();
BENCHMARK(BM_EchoThroughput<EpollEcho>)->Name("BM_EchoThroughput_Epoll")->UseRealTime();

// main() is in net_stack_bench.cc (it also takes --requests N).
