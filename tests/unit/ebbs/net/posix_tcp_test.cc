// The Linux-socket backend against Linux's own TCP: the peers here are plain
// blocking sockets on the test's threads, over loopback.

#include "ebbs/net/posix/tcp.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/runtime_fixture.h"
#include "tests/support/sockets.h"

namespace ebb::net {
namespace {

using testing::RuntimeFixture;

// ---- the Linux side ----

int dial(uint16_t port) { return ebb::testing::dial_loopback(port); }

bool write_all(int fd, const void* data, std::size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Reads exactly n bytes (false on end of stream or error first).
bool read_exact(int fd, void* out, std::size_t n) {
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// Reads until end of stream.
std::string read_to_end(int fd) {
  std::string all;
  char buf[4096];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0) return all;
    all.append(buf, static_cast<std::size_t>(r));
  }
}

uint8_t pattern(std::size_t i) { return static_cast<uint8_t>((i * 31 + (i >> 12)) & 0xff); }

// ---- the Ebb side ----

// An echo that respects backpressure: it stops reading while its send queue
// is full. Records the largest queue it ever had.
std::atomic<std::size_t> g_max_queued{0};
std::atomic<int> g_closed_ok{0};
std::atomic<int> g_closed_error{0};

void echo(Connection c) {
  c.on_receive([c](IOBuf data) mutable {
    (void)c.send(std::move(data));
    const std::size_t q = c.send_queued();
    if (q > g_max_queued.load()) g_max_queued.store(q);
    if (c.send_full()) c.pause_receive();
  });
  c.on_writable([c]() mutable { c.resume_receive(); });
  c.on_close([](const Status& why) { (why ? g_closed_ok : g_closed_error)++; });
}

class PosixTcpTest : public RuntimeFixture {
 protected:
  void SetUp() override {
    before_ = posix::net_stats();
    for (CoreId core = 0; core < 4; ++core) before_core_[core] = posix::net_stats(core);
    g_max_queued = 0;
    g_closed_ok = 0;
    g_closed_error = 0;
  }
  // An echo server on every core of a fresh runtime; its port.
  uint16_t start_echo(uint32_t cores) {
    start(cores);
    auto listener = on_core(0, [] { return posix::listen(0, &echo); });
    EXPECT_TRUE(listener.ok());
    listener_ = std::make_unique<posix::Listener>(*listener);
    return listener_->port();
  }
  template <class P>
  void eventually(P pred) {
    for (int i = 0; i < 20000 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(pred());
  }
  // The counters since this test began (they are the process's).
  posix::NetStats stats() const { return minus(posix::net_stats(), before_); }
  posix::NetStats stats(CoreId core) const { return minus(posix::net_stats(core), before_core_[core]); }
  static posix::NetStats minus(posix::NetStats a, const posix::NetStats& b) { return a -= b; }
  std::unique_ptr<posix::Listener> listener_;
  posix::NetStats before_;
  posix::NetStats before_core_[4];
};

TEST_F(PosixTcpTest, ManyConnectionsSpreadOverTheCores) {
  const uint16_t port = start_echo(4);
  ASSERT_NE(port, 0);
  std::vector<int> fds;
  for (int i = 0; i < 64; ++i) {
    const int fd = dial(port);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    const std::string msg = "hello " + std::to_string(i);
    ASSERT_TRUE(write_all(fds[i], msg.data(), msg.size()));
    std::string back(msg.size(), '\0');
    ASSERT_TRUE(read_exact(fds[i], back.data(), back.size()));
    EXPECT_EQ(back, msg);
  }
  for (CoreId core = 0; core < 4; ++core)  // SO_REUSEPORT spread them, the cores evened them out
    EXPECT_GT(stats(core).accepted, 0u) << "core " << core;
  EXPECT_EQ(stats().accepted, 64u);
  for (int fd : fds) ::close(fd);
  eventually([] { return g_closed_ok.load() == 64; });
}

// Connections made one after the other end up even over the cores, whatever
// the kernel's SO_REUSEPORT hash picked, and one closing makes room.
TEST_F(PosixTcpTest, AcceptedConnectionsEvenOutOverTheCores) {
  const uint16_t port = start_echo(4);
  ASSERT_NE(port, 0);
  auto open_on = [&](CoreId core) { return stats(core).accepted - stats(core).closed; };
  std::vector<int> fds;
  for (int i = 0; i < 12; ++i) {
    const int fd = dial(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(write_all(fd, "ping", 4));  // served (so placed) before the next comes
    char back[4];
    ASSERT_TRUE(read_exact(fd, back, 4));
    fds.push_back(fd);
  }
  for (CoreId core = 0; core < 4; ++core) EXPECT_EQ(stats(core).accepted, 3u) << "core " << core;
  EXPECT_EQ(stats().accepted, 12u);
  EXPECT_EQ(stats().accept_errors, 0u);

  // Close connections until one core has none open: the next one goes there.
  CoreId emptied = 4;
  for (std::size_t i = 0; i < fds.size() && emptied == 4; ++i) {
    const uint64_t closed_before = stats().closed;
    ::close(fds[i]);
    fds[i] = -1;
    eventually([&] { return stats().closed == closed_before + 1; });
    for (CoreId core = 0; core < 4; ++core)
      if (open_on(core) == 0) emptied = core;
  }
  ASSERT_LT(emptied, 4u);
  const int fd = dial(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(write_all(fd, "ping", 4));
  char back[4];
  ASSERT_TRUE(read_exact(fd, back, 4));
  EXPECT_EQ(open_on(emptied), 1u);
  fds.push_back(fd);
  for (int f : fds)
    if (f >= 0) ::close(f);
  eventually([&] { return stats().closed == stats().accepted; });
}

TEST_F(PosixTcpTest, LargeTransfersBothWaysKeepTheirContent) {
  const uint16_t port = start_echo(2);
  constexpr std::size_t kBytes = 16 << 20;
  const int fd = dial(port);
  ASSERT_GE(fd, 0);
  std::thread writer([fd] {
    std::vector<uint8_t> chunk(100'003);  // odd-sized writes
    for (std::size_t sent = 0; sent < kBytes;) {
      const std::size_t n = std::min(chunk.size(), kBytes - sent);
      for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern(sent + i);
      ASSERT_TRUE(write_all(fd, chunk.data(), n));
      sent += n;
    }
  });
  std::vector<uint8_t> back(kBytes);
  const bool got = read_exact(fd, back.data(), back.size());
  writer.join();
  ASSERT_TRUE(got);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < kBytes; ++i) wrong += back[i] != pattern(i);
  EXPECT_EQ(wrong, 0u);
  EXPECT_GE(stats().bytes_received, kBytes);
  // The core counts a write just after making it: the count may trail the client.
  eventually([this] { return stats().bytes_sent >= kBytes; });
  ::close(fd);
}

TEST_F(PosixTcpTest, HalfCloseLetsTheServerFinishItsReply) {
  start(2);
  auto listener = on_core(0, [] {
    return posix::listen(0, [](Connection c) {
      auto received = std::make_shared<std::string>();
      c.on_receive([received](IOBuf data) { *received += data.to_string(); });
      c.on_end([c, received]() mutable {  // the client is done sending: answer, then close
        (void)c.send(IOBuf::CopyOf("got " + std::to_string(received->size()) + " bytes").value());
        c.shutdown_write();
      });
      c.on_close([](const Status& why) { (why ? g_closed_ok : g_closed_error)++; });
    });
  });
  ASSERT_TRUE(listener.ok());
  const int fd = dial(listener->port());
  ASSERT_GE(fd, 0);
  const std::string request(5000, 'x');
  ASSERT_TRUE(write_all(fd, request.data(), request.size()));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  EXPECT_EQ(read_to_end(fd), "got 5000 bytes");
  ::close(fd);
  eventually([] { return g_closed_ok.load() == 1; });
  EXPECT_EQ(g_closed_error.load(), 0);
}

TEST_F(PosixTcpTest, APeerResetIsAnErrorForThatConnectionOnly) {
  const uint16_t port = start_echo(2);
  const int keep = dial(port);
  const int fd = dial(port);
  ASSERT_TRUE(write_all(fd, "x", 1));
  char c;
  ASSERT_TRUE(read_exact(fd, &c, 1));
  const linger reset{1, 0};
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
  ::close(fd);  // a reset
  eventually([] { return g_closed_error.load() == 1; });
  EXPECT_GE(stats().resets, 1u);
  // Everything else goes on.
  ASSERT_TRUE(write_all(keep, "still here", 10));
  char back[10];
  ASSERT_TRUE(read_exact(keep, back, 10));
  EXPECT_EQ(std::string(back, 10), "still here");
  ::close(keep);
}

TEST_F(PosixTcpTest, ASlowReaderDoesNotGrowTheSendersMemory) {
  const uint16_t port = start_echo(1);
  const int fd = dial(port);
  ASSERT_GE(fd, 0);
  // Write until the whole path is full (nobody reads the echo), then read it all.
  std::vector<uint8_t> chunk(64 << 10);
  std::size_t sent = 0;
  for (;;) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 500) <= 0) break;  // blocked for half a second: full
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = pattern(sent + i);
    const ssize_t w = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) sent += static_cast<std::size_t>(w);
    ASSERT_LT(sent, std::size_t{1} << 30) << "the server never pushed back";
  }
  // The server stopped reading once its queue was full: its memory stays
  // near the high watermark however much the client had to send.
  const ConnectionOptions defaults;
  EXPECT_LE(g_max_queued.load(), defaults.send_high_watermark + (64 << 10));
  std::vector<uint8_t> back(sent);
  ASSERT_TRUE(read_exact(fd, back.data(), sent));
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < sent; ++i) wrong += back[i] != pattern(i);
  EXPECT_EQ(wrong, 0u);
  ::close(fd);
}

TEST_F(PosixTcpTest, ThousandsOfShortConnections) {
  const uint16_t port = start_echo(2);
  constexpr int kConnections = 2000;
  for (int i = 0; i < kConnections; ++i) {
    const int fd = dial(port);
    ASSERT_GE(fd, 0) << i;
    ASSERT_TRUE(write_all(fd, "ping", 4));
    char back[4];
    ASSERT_TRUE(read_exact(fd, back, 4)) << i;
    ::close(fd);
  }
  eventually([] { return g_closed_ok.load() + g_closed_error.load() == kConnections; });
  EXPECT_EQ(stats().accepted, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(stats().closed, static_cast<uint64_t>(kConnections));
}

TEST_F(PosixTcpTest, HostilePeersLeaveTheServerWorking) {
  const uint16_t port = start_echo(2);
  for (int i = 0; i < 50; ++i) {
    const int fd = dial(port);
    ASSERT_GE(fd, 0);
    std::string garbage(1000 + i * 37, '\0');
    for (std::size_t j = 0; j < garbage.size(); ++j) garbage[j] = static_cast<char>(j * 7 + i);
    ASSERT_TRUE(write_all(fd, garbage.data(), garbage.size()));
    if (i % 2 == 0) {  // vanish mid-stream with a reset
      const linger reset{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    }
    ::close(fd);  // without reading what comes back
  }
  eventually([] { return g_closed_ok.load() + g_closed_error.load() == 50; });
  const int fd = dial(port);
  ASSERT_TRUE(write_all(fd, "ok?", 3));
  char back[3];
  ASSERT_TRUE(read_exact(fd, back, 3));
  EXPECT_EQ(std::string(back, 3), "ok?");
  ::close(fd);
}

TEST_F(PosixTcpTest, RunningOutOfDescriptorsPausesAcceptingThenRecovers) {
  const uint16_t port = start_echo(1);
  // Take every descriptor the process may still open but one, for the
  // client's socket: the server's accept() then meets EMFILE.
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> hog;
  for (int fd; (fd = ::dup(0)) >= 0;) hog.push_back(fd);
  ASSERT_FALSE(hog.empty());
  ::close(hog.back());
  hog.pop_back();
  const int fd = dial(port);  // connects: the kernel completes the handshake
  ASSERT_GE(fd, 0);
  eventually([this] { return stats().accept_errors >= 1; });
  // Descriptors come back: the paused listener looks again and accepts.
  for (int h : hog) ::close(h);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_TRUE(write_all(fd, "late", 4));
  char back[4];
  ASSERT_TRUE(read_exact(fd, back, 4));
  EXPECT_EQ(std::string(back, 4), "late");
  EXPECT_EQ(stats().accepted, 1u);
  ::close(fd);
}

TEST_F(PosixTcpTest, ConnectOpensAConnectionOnTheCallingCore) {
  start(2);
  // A Linux listener as the peer.
  const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(Endpoint::kLoopback);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::listen(server, 4), 0);
  socklen_t len = sizeof at;
  getsockname(server, reinterpret_cast<sockaddr*>(&at), &len);
  const uint16_t port = ntohs(at.sin_port);
  std::thread peer([server] {
    const int fd = accept(server, nullptr, nullptr);
    char buf[5];
    if (read_exact(fd, buf, 5)) write_all(fd, "world", 5);
    ::close(fd);
  });
  auto reply = on_core(1, [port] {
    return posix::connect(Endpoint{Endpoint::kLoopback, port}).then([port](Connection c) {
      EXPECT_EQ(c.core(), 1u);
      EXPECT_EQ(c.peer(), (Endpoint{Endpoint::kLoopback, port}));
      EXPECT_EQ(c.local().ip, Endpoint::kLoopback);
      auto got = std::make_shared<Promise<std::string>>();
      Future<std::string> result = got->get_future();
      auto text = std::make_shared<std::string>();
      c.on_receive([text](IOBuf data) { *text += data.to_string(); });
      c.on_end([c, text, got]() mutable {
        got->set_value(*text);
        c.close();
      });
      (void)c.send(IOBuf::CopyOf("hello").value());
      return result;
    });
  });
  peer.join();
  ::close(server);
  ASSERT_TRUE(reply.ok()) << reply.error().message();
  EXPECT_EQ(*reply, "world");
  EXPECT_EQ(stats(1).connected, 1u);
}

TEST_F(PosixTcpTest, ConnectToAClosedPortIsAnError) {
  start(1);
  // A port that was just free: bind, read it, close.
  const int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(Endpoint::kLoopback);
  bind(probe, reinterpret_cast<sockaddr*>(&at), sizeof at);
  socklen_t len = sizeof at;
  getsockname(probe, reinterpret_cast<sockaddr*>(&at), &len);
  ::close(probe);
  auto c = on_core(0, [port = ntohs(at.sin_port)] {
    return posix::connect(Endpoint{Endpoint::kLoopback, port});
  });
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().sys_errno(), ECONNREFUSED);
  EXPECT_EQ(stats(0).connect_failures, 1u);
}

// A peer that never completes the handshake (its accept queue is full, so
// Linux drops the SYNs): the connect gives up at its timeout.
TEST_F(PosixTcpTest, ConnectToAPeerThatNeverAnswersTimesOut) {
  start(1);
  const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(Endpoint::kLoopback);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::listen(server, 0), 0);
  socklen_t len = sizeof at;
  getsockname(server, reinterpret_cast<sockaddr*>(&at), &len);
  const uint16_t port = ntohs(at.sin_port);
  // Fill the accept queue (never accepted) with non-blocking connects.
  std::vector<int> fillers;
  for (int i = 0; i < 8; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto c = on_core(0, [port] {
    posix::ConnectOptions options;
    options.timeout = std::chrono::milliseconds(300);
    return posix::connect(Endpoint{Endpoint::kLoopback, port}, options);
  });
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Errc::kTimedOut);
  EXPECT_EQ(stats(0).connect_failures, 1u);
  for (int fd : fillers) ::close(fd);
  ::close(server);
}

TEST_F(PosixTcpTest, AListenerHoldsItsPortUntilClosed) {
  const uint16_t port = start_echo(1);
  // A socket without SO_REUSEPORT cannot take the port while we listen.
  const int plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  EXPECT_NE(bind(plain, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ::close(plain);
  // Closing the listener frees the port.
  ASSERT_TRUE(on_core(0, [this] { return listener_->close(); }).ok());
  EXPECT_LT(dial(port), 0);
}

TEST(Endpoint, ParsesAndPrints) {
  Endpoint e = Endpoint::Parse("198.18.0.1:11211").value();
  EXPECT_EQ(e.ip, 0xc6120001u);
  EXPECT_EQ(e.port, 11211);
  EXPECT_EQ(e.to_string(), "198.18.0.1:11211");
  EXPECT_EQ(Endpoint::Parse("127.0.0.1").value().port, 0);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:", "1.2.3.4:65536",
                          "1.2.3.4:80x", "a.b.c.d", "1..2.3"}) {
    EXPECT_FALSE(Endpoint::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ebb::net
