// ebb-memcached's connections over Linux's TCP (the peer is a plain
// blocking socket on the test thread): a client that asks for far more than
// it reads holds the server to its watermarks, loses nothing, and does not
// slow the others.

#include "apps/memcached/server/connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "ebbs/net/posix/tcp.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/sockets.h"

namespace ebb::memcached::testing {
namespace {

int dial(uint16_t port) { return ebb::testing::dial_loopback(port); }

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (w <= 0) return false;
    done += static_cast<std::size_t>(w);
  }
  return true;
}

// Reads exactly n bytes, waiting at most 10 s for each piece.
bool read_exact(int fd, std::string* out, std::size_t n) {
  out->resize(n);
  std::size_t done = 0;
  while (done < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) return false;
    const ssize_t r = ::read(fd, out->data() + done, n - done);
    if (r <= 0) return false;
    done += static_cast<std::size_t>(r);
  }
  return true;
}

std::size_t resident_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

class ConnectionTest : public ebb::testing::RuntimeFixture {
 protected:
  void SetUp() override {
    start(1);
    auto port = on_core(0, [this]() -> Future<uint16_t> {
      store_ = Store::Create(TableOptions{}).value();
      server_ = std::make_unique<Server>(Settings{}, *store_, 1);
      Server* server = server_.get();
      return net::posix::listen(0, [server](net::Connection c) {
               serve_connection(*server, std::move(c));
             }).then([](net::posix::Listener l) { return l.port(); });
    });
    ASSERT_TRUE(port.ok());
    port_ = *port;
  }
  void TearDown() override {
    stop();
    server_.reset();
  }
  uint64_t bytes_written() {
    return server_->totals().bytes_written;
  }

  Ref<Store> store_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(ConnectionTest, AClientThatAsksWithoutReadingHoldsTheServerToItsWatermarks) {
  const std::string value(100'000, 'v');
  const std::string reply = "VALUE big 0 100000\r\n" + value + "\r\nEND\r\n";
  const int greedy = dial(port_);
  ASSERT_GE(greedy, 0);
  std::string got;
  ASSERT_TRUE(write_all(greedy, "set big 0 0 100000\r\n" + value + "\r\n"));
  ASSERT_TRUE(read_exact(greedy, &got, 8));
  ASSERT_EQ(got, "STORED\r\n");
  const std::size_t before = resident_bytes();

  // 3000 gets: 300 MB of replies, asked for at once and not read.
  constexpr int kGets = 3000;
  std::string gets;
  for (int i = 0; i < kGets; ++i) gets += "get big\r\n";
  ASSERT_TRUE(write_all(greedy, gets));
  // Wait until the server has stopped writing: the socket buffers are full.
  uint64_t last = 0;
  for (int quiet = 0; quiet < 5;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const uint64_t now = bytes_written();
    quiet = now == last ? quiet + 1 : 0;
    last = now;
  }
  EXPECT_LT(last, uint64_t{kGets} * reply.size() / 4) << "the replies were not held back";
  const std::size_t during = resident_bytes();
  EXPECT_LT(during, before + (std::size_t{48} << 20))
      << "the server grew by " << ((during - before) >> 20) << " MiB";

  // Meanwhile another client is served at once.
  const int other = dial(port_);
  ASSERT_GE(other, 0);
  ASSERT_TRUE(write_all(other, "get big\r\n"));
  ASSERT_TRUE(read_exact(other, &got, reply.size()));
  EXPECT_EQ(got, reply);
  ::close(other);

  // Then the greedy client reads: every reply arrives, whole and in order.
  for (int i = 0; i < kGets; ++i) {
    ASSERT_TRUE(read_exact(greedy, &got, reply.size())) << "reply " << i;
    ASSERT_EQ(got, reply) << "reply " << i;
  }
  ::close(greedy);
}

TEST_F(ConnectionTest, AClientThatVanishesMidValueLeavesNothingBehind) {
  for (int i = 0; i < 50; ++i) {
    const int fd = dial(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(write_all(fd, "set k 0 0 1000000\r\n" + std::string(500'000, 'x')));
    ::close(fd);
  }
  const int fd = dial(port_);
  ASSERT_TRUE(write_all(fd, "get k\r\nversion\r\n"));
  std::string got;
  ASSERT_TRUE(read_exact(fd, &got, 5 + 16));
  EXPECT_EQ(got, "END\r\nVERSION 1.6.18\r\n");
  ::close(fd);
  // Every vanished client's connection is gone from the count.
  for (int tries = 0; tries < 100 && server_->totals().curr_connections > 0; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(server_->totals().curr_connections, 0);
}

}  // namespace
}  // namespace ebb::memcached::testing
