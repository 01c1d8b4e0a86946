// UDP on the Linux-socket backend, against plain Linux UDP sockets.

#include "ebbs/net/posix/udp.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/runtime_fixture.h"

namespace ebb::net {
namespace {

using testing::RuntimeFixture;

int udp_client() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(Endpoint::kLoopback);
  bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any);
  return fd;
}

bool send_to_port(int fd, uint16_t port, const std::string& data) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(Endpoint::kLoopback);
  to.sin_port = htons(port);
  return sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
         static_cast<ssize_t>(data.size());
}

// The next datagram, or "" after 5 s without one.
std::string receive(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 5000) <= 0) return "";
  std::string buf(65536, '\0');
  const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
  buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return buf;
}

std::atomic<int> g_seen_on[8];

void udp_echo(DatagramSocket& socket, Endpoint from, IOBuf data) {
  g_seen_on[this_core()]++;
  (void)socket.send_to(from, std::move(data));
}

class PosixUdpTest : public RuntimeFixture {
 protected:
  void SetUp() override {
    for (auto& n : g_seen_on) n = 0;
    before_ = posix::net_stats();
  }
  posix::NetStats stats() const {
    posix::NetStats now = posix::net_stats();
    return now -= before_;
  }
  posix::NetStats before_;
};

TEST_F(PosixUdpTest, EchoFromManyClientsOverEveryCore) {
  start(4);
  auto port = on_core(0, [] { return posix::bind_udp(0, &udp_echo); });
  ASSERT_TRUE(port.ok());
  std::vector<int> clients;
  for (int i = 0; i < 32; ++i) clients.push_back(udp_client());
  for (int round = 0; round < 4; ++round) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      const std::string msg = "datagram " + std::to_string(i) + "/" + std::to_string(round);
      ASSERT_TRUE(send_to_port(clients[i], port->port(), msg));
      EXPECT_EQ(receive(clients[i]), msg);
    }
  }
  int cores_used = 0;
  for (int core = 0; core < 4; ++core) cores_used += g_seen_on[core] > 0;
  EXPECT_GE(cores_used, 2);  // flows were spread over the cores
  // A core counts its send just after making it: the last count may trail
  // the client's receive.
  for (int i = 0; i < 5000 && stats().datagrams_sent < 128; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(stats().datagrams_received, 128u);
  EXPECT_EQ(stats().datagrams_sent, 128u);
  for (int fd : clients) ::close(fd);
}

TEST_F(PosixUdpTest, LargeAndEmptyDatagramsKeepTheirBounds) {
  start(1);
  auto port = on_core(0, [] { return posix::bind_udp(0, &udp_echo); });
  ASSERT_TRUE(port.ok());
  const int fd = udp_client();
  std::string big(60000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13);
  ASSERT_TRUE(send_to_port(fd, port->port(), big));
  EXPECT_EQ(receive(fd), big);
  ASSERT_TRUE(send_to_port(fd, port->port(), ""));
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);  // the empty datagram comes back, empty
  char c;
  EXPECT_EQ(recv(fd, &c, 1, 0), 0);
  ::close(fd);
}

TEST_F(PosixUdpTest, AChainedReplyGoesOutAsOneDatagram) {
  start(1);
  auto port = on_core(0, [] {
    return posix::bind_udp(0, [](DatagramSocket& s, Endpoint from, IOBuf data) {
      IOBuf reply = IOBuf::CopyOf("re: ").value();
      reply.append(std::move(data));
      for (int i = 0; i < 100; ++i) reply.append(IOBuf::CopyOf(".").value());  // > 64 links
      (void)s.send_to(from, std::move(reply));
    });
  });
  ASSERT_TRUE(port.ok());
  const int fd = udp_client();
  ASSERT_TRUE(send_to_port(fd, port->port(), "hi"));
  EXPECT_EQ(receive(fd), "re: hi" + std::string(100, '.'));
  ::close(fd);
}

TEST_F(PosixUdpTest, ASendThatCannotGoIsAnErrorAndCounted) {
  start(1);
  // Reply to port 0 from inside a handler: refused, counted, nothing breaks.
  auto port = on_core(0, [] {
    return posix::bind_udp(0, [](DatagramSocket& s, Endpoint from, IOBuf data) {
      Status refused = s.send_to(Endpoint{Endpoint::kLoopback, 0}, IOBuf::CopyOf("x").value());
      const std::string verdict = refused ? "sent" : "refused";
      (void)s.send_to(from, IOBuf::CopyOf(verdict).value());
      (void)data;
    });
  });
  ASSERT_TRUE(port.ok());
  const int fd = udp_client();
  ASSERT_TRUE(send_to_port(fd, port->port(), "go"));
  EXPECT_EQ(receive(fd), "refused");
  EXPECT_EQ(stats().datagrams_dropped, 1u);
  ::close(fd);
}

TEST_F(PosixUdpTest, AClientSocketOnOneCoreTalksToTheEcho) {
  start(2);
  auto port = on_core(0, [] { return posix::bind_udp(0, &udp_echo); });
  ASSERT_TRUE(port.ok());
  auto reply = on_core(1, [echo = port->port()] {
    auto got = std::make_shared<Promise<std::string>>();
    Future<std::string> result = got->get_future();
    auto socket = posix::open_udp(Endpoint{Endpoint::kLoopback, 0},
                                  [got](DatagramSocket& s, Endpoint, IOBuf data) {
                                    s.close();  // one answer is all it wants
                                    if (got->pending()) got->set_value(data.to_string());
                                  });
    EXPECT_TRUE(socket.ok());
    EXPECT_NE((*socket)->local().port, 0);
    EXPECT_TRUE((*socket)->send_to(Endpoint{Endpoint::kLoopback, echo}, IOBuf::CopyOf("ping").value()));
    return result.then([socket = *socket](std::string text) {
      // Closed by its handler: sending now is an error.
      Status after = socket->send_to(Endpoint{Endpoint::kLoopback, 9}, IOBuf::CopyOf("x").value());
      EXPECT_FALSE(after.ok());
      return text;
    });
  });
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, "ping");
}

TEST_F(PosixUdpTest, ClosingStopsEveryCore) {
  start(2);
  auto port = on_core(0, [] { return posix::bind_udp(0, &udp_echo); });
  ASSERT_TRUE(port.ok());
  const uint16_t number = port->port();
  ASSERT_TRUE(on_core(0, [&port] { return port->close(); }).ok());
  // The port is free again: a plain socket can bind it.
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(number);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ::close(fd);
}

}  // namespace
}  // namespace ebb::net
