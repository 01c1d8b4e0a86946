// TapDevice against the real kernel: each test makes a network namespace of
// its own (ebbtap-<pid>-<n>), TAPs inside it with the kernel's end at
// 198.18.77.1/24, and plays 198.18.77.2 from this process. The namespace and
// everything in it go away when the test ends, failed or not. Without root or
// /dev/net/tun the tests skip themselves.

#include "drivers/tap/tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ebb::drivers {
namespace {

using net::IOBuf;
using net::MacAddress;
using Bytes = std::vector<uint8_t>;

constexpr uint8_t kKernelIp[4] = {198, 18, 77, 1};
constexpr uint8_t kOurIp[4] = {198, 18, 77, 2};
// Long enough for any machine, however loaded; only a failing test waits it out.
constexpr auto kPatience = std::chrono::seconds(10);

// ---- the host side: shell commands, namespaces ----

int sh(const std::string& command) {
  const int rc = std::system(command.c_str());
  return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string output_of(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr)
      out += buf;
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

std::string missing_prerequisite() {
  if (::geteuid() != 0) return "needs root (TAP devices and network namespaces)";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "needs /dev/net/tun";
  if (sh("ip -V >/dev/null 2>&1") != 0) return "needs iproute2 (ip)";
  return {};
}

constexpr const char* kPrefix = "ebbtap-";

// Namespaces an earlier run of this binary left behind when it crashed: the
// name holds the pid of a process that is gone (or of an earlier process with
// this one's pid: this process deletes its own at the end of every test).
void remove_stale_namespaces() {
  DIR* dir = ::opendir("/var/run/netns");
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind(kPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + std::strlen(kPrefix), nullptr, 10);
    if (pid > 0 &&
        (pid == ::getpid() || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)))
      stale.push_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : stale)
    sh("ip netns delete " + name + " 2>/dev/null");
}

// A network namespace of the test's own, deleted (with its TAPs) at the end.
class Netns {
 public:
  Netns() {
    static int count = 0;
    name_ = kPrefix + std::to_string(::getpid()) + "-" + std::to_string(count++);
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns() {
    if (created_) sh("ip netns delete " + name_);
  }

  bool create() {
    if (sh("ip netns add " + name_) != 0) return false;
    created_ = true;
    // No IPv6: the kernel would send router and neighbour solicitations.
    run("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"
        " 2>/dev/null");
    return true;
  }
  const std::string& name() const { return name_; }
  int run(const std::string& command) const { return sh("ip netns exec " + name_ + " " + command); }
  std::string output_of(const std::string& command) const {
    return drivers::output_of("ip netns exec " + name_ + " " + command);
  }

  // A persistent TAP with the kernel's end at 198.18.77.1/24, up.
  bool add_tap(const std::string& dev, bool multi_queue = false, uint32_t mtu = 0) const {
    const std::string ip = "ip -n " + name_ + " ";
    return sh(ip + "tuntap add dev " + dev + " mode tap" + (multi_queue ? " multi_queue" : "")) ==
               0 &&
           (mtu == 0 || sh(ip + "link set " + dev + " mtu " + std::to_string(mtu)) == 0) &&
           sh(ip + "addr add 198.18.77.1/24 dev " + dev) == 0 &&
           sh(ip + "link set " + dev + " up") == 0;
  }
  bool has_link(const std::string& dev) const {
    return sh("ip -n " + name_ + " link show " + dev + " >/dev/null 2>&1") == 0;
  }

  // TapDevice::Open with the calling thread inside the namespace: the fds
  // stay attached to the TAP there after the thread returns home.
  Result<TapDevice> open(std::string_view dev, TapOptions options = {}) const {
    const int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int there = ::open(("/var/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || there < 0 || ::setns(there, CLONE_NEWNET) != 0) {
      const int err = errno;
      if (home >= 0) ::close(home);
      if (there >= 0) ::close(there);
      return Error::from_errno("cannot enter the test's namespace", err);
    }
    Result<TapDevice> tap = TapDevice::Open(dev, options);
    EBB_CHECK(::setns(home, CLONE_NEWNET) == 0, "cannot return to the test's own namespace");
    ::close(home);
    ::close(there);
    return tap;
  }

 private:
  std::string name_;
  bool created_ = false;
};

class TapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = missing_prerequisite(); !why.empty()) GTEST_SKIP() << why;
    remove_stale_namespaces();
    if (!ns_.create()) GTEST_SKIP() << "cannot create a network namespace (ip netns add)";
  }

  Netns ns_;
};

// ---- frames ----

uint16_t be16(const Bytes& f, std::size_t at) {
  return static_cast<uint16_t>(f[at] << 8 | f[at + 1]);
}
void put16(Bytes& f, uint16_t v) {
  f.push_back(static_cast<uint8_t>(v >> 8));
  f.push_back(static_cast<uint8_t>(v));
}
void put(Bytes& f, const uint8_t* bytes, std::size_t n) {
  f.insert(f.end(), bytes, bytes + n);
}
MacAddress mac_at(const Bytes& f, std::size_t at) {
  MacAddress mac;
  std::memcpy(mac.bytes, &f[at], 6);
  return mac;
}
bool ip_at(const Bytes& f, std::size_t at, const uint8_t (&ip)[4]) {
  return std::memcmp(&f[at], ip, 4) == 0;
}

// The Internet checksum (RFC 1071); 0 over data that holds a correct one.
uint16_t checksum(const uint8_t* p, std::size_t n) {
  uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2)
    sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2 != 0) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

Bytes ethernet(MacAddress dst, MacAddress src, uint16_t type) {
  Bytes f;
  put(f, dst.bytes, 6);
  put(f, src.bytes, 6);
  put16(f, type);
  return f;
}

Bytes arp(uint16_t op, MacAddress eth_dst, MacAddress sha, const uint8_t* spa, MacAddress tha,
          const uint8_t* tpa) {
  Bytes f = ethernet(eth_dst, sha, 0x0806);
  put16(f, 1);       // Ethernet
  put16(f, 0x0800);  // IPv4
  f.push_back(6);
  f.push_back(4);
  put16(f, op);
  put(f, sha.bytes, 6);
  put(f, spa, 4);
  put(f, tha.bytes, 6);
  put(f, tpa, 4);
  f.resize(60);  // the shortest Ethernet frame, as a NIC would pad it
  return f;
}

Bytes who_has_kernel(MacAddress us) {
  return arp(1, MacAddress::Broadcast(), us, kOurIp, MacAddress{}, kKernelIp);
}

bool is_arp(const Bytes& f) {
  return f.size() >= 42 && be16(f, 12) == 0x0806;
}

bool is_kernel_reply_to(const Bytes& f, MacAddress us) {
  return is_arp(f) && be16(f, 20) == 2 && mac_at(f, 0) == us && mac_at(f, 32) == us &&
         ip_at(f, 28, kKernelIp) && ip_at(f, 38, kOurIp);
}

constexpr std::string_view kPingData = "ebbkit tap driver says hello";

Bytes echo_request(MacAddress us, MacAddress kernel, uint16_t id, uint16_t seq) {
  Bytes f = ethernet(kernel, us, 0x0800);
  const std::size_t ip = f.size();
  const auto total = static_cast<uint16_t>(20 + 8 + kPingData.size());
  f.push_back(0x45);
  f.push_back(0);
  put16(f, total);
  put16(f, 0x1234);
  put16(f, 0x4000);  // don't fragment
  f.push_back(64);
  f.push_back(1);  // ICMP
  put16(f, 0);
  put(f, kOurIp, 4);
  put(f, kKernelIp, 4);
  const uint16_t ip_sum = checksum(&f[ip], 20);
  f[ip + 10] = static_cast<uint8_t>(ip_sum >> 8);
  f[ip + 11] = static_cast<uint8_t>(ip_sum);
  const std::size_t icmp = f.size();
  f.push_back(8);  // echo request
  f.push_back(0);
  put16(f, 0);
  put16(f, id);
  put16(f, seq);
  put(f, reinterpret_cast<const uint8_t*>(kPingData.data()), kPingData.size());
  const uint16_t icmp_sum = checksum(&f[icmp], f.size() - icmp);
  f[icmp + 2] = static_cast<uint8_t>(icmp_sum >> 8);
  f[icmp + 3] = static_cast<uint8_t>(icmp_sum);
  return f;
}

bool is_echo_reply(const Bytes& f, MacAddress us, uint16_t id, uint16_t seq) {
  if (f.size() < 14 + 20 || be16(f, 12) != 0x0800 || mac_at(f, 0) != us) return false;
  const std::size_t ip = 14;
  const std::size_t ihl = (f[ip] & 0xf) * 4u;
  const std::size_t total = be16(f, ip + 2);
  if ((f[ip] >> 4) != 4 || ihl < 20 || total < ihl + 8 || 14 + total > f.size()) return false;
  if (f[ip + 9] != 1 || !ip_at(f, ip + 12, kKernelIp) || !ip_at(f, ip + 16, kOurIp)) return false;
  if (checksum(&f[ip], ihl) != 0) return false;
  const std::size_t icmp = ip + ihl;
  const std::size_t icmp_length = total - ihl;
  return f[icmp] == 0 && f[icmp + 1] == 0 && be16(f, icmp + 4) == id && be16(f, icmp + 6) == seq &&
         checksum(&f[icmp], icmp_length) == 0 &&
         std::string_view(reinterpret_cast<const char*>(&f[icmp + 8]), icmp_length - 8) ==
             kPingData;
}

IOBuf frame_of(const Bytes& bytes) {
  return IOBuf::CopyOf(bytes.data(), bytes.size()).value();
}

Bytes bytes_of(const IOBuf& frame) {
  Bytes out(frame.length());
  EXPECT_TRUE(frame.copy_out(0, out.data(), out.size()));
  return out;
}

// Sends `request` on `queue` until a frame that `match` accepts arrives on
// any queue; sends again now and then (the kernel drops what it sends before
// the link's queueing discipline is up) and answers the kernel's ARP
// questions about 198.18.77.2 meanwhile. Empty after kPatience.
std::optional<Bytes> exchange(TapDevice& tap, uint32_t queue, std::function<IOBuf()> request,
                              const std::function<bool(const Bytes&)>& match) {
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + kPatience;
  auto send_next = Clock::now();
  std::optional<Bytes> found;
  while (!found && Clock::now() < give_up) {
    if (Clock::now() >= send_next) {
      const Status sent = tap.transmit(queue, request());
      EXPECT_TRUE(sent.ok());
      if (!sent.ok()) return std::nullopt;
      send_next = Clock::now() + std::chrono::milliseconds(250);
    }
    std::vector<pollfd> fds;
    for (uint32_t q = 0; q < tap.queue_count(); ++q)
      fds.push_back({tap.fd(q), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 20);
    for (uint32_t q = 0; q < tap.queue_count(); ++q) {
      tap.receive(
          q,
          [&](IOBuf frame) {
            const Bytes f = bytes_of(frame);
            if (found) return;
            if (match(f)) {
              found = f;
            } else if (is_arp(f) && be16(f, 20) == 1 && ip_at(f, 38, kOurIp)) {
              const MacAddress asker = mac_at(f, 22);
              (void)tap.transmit(q, frame_of(arp(2, asker, tap.mac(), kOurIp, asker, &f[28])));
            }
          },
          16);
    }
  }
  return found;
}

// The kernel's MAC on the TAP, learnt from its answer to who-has.
std::optional<MacAddress> resolve_kernel(TapDevice& tap, uint32_t queue) {
  const MacAddress us = tap.mac();
  std::optional<Bytes> reply = exchange(
      tap, queue, [&] { return frame_of(who_has_kernel(us)); },
      [&](const Bytes& f) { return is_kernel_reply_to(f, us); });
  if (!reply) return std::nullopt;
  return mac_at(*reply, 22);
}

bool ping(TapDevice& tap, uint32_t queue, MacAddress kernel, uint16_t seq) {
  const MacAddress us = tap.mac();
  return exchange(
             tap, queue, [&] { return frame_of(echo_request(us, kernel, 0xeb, seq)); },
             [&](const Bytes& f) { return is_echo_reply(f, us, 0xeb, seq); })
      .has_value();
}

std::string describe(const Error& error) {
  char text[kErrorTextSize];
  return error.describe(text, sizeof text);
}

// ---- tests ----

TEST(TapDeviceOpen, RefusesBadArgumentsWithoutAskingTheKernel) {
  for (std::string_view name :
       {std::string_view(""), std::string_view("sixteen-chars-xx"), std::string_view("a\0b", 3)}) {
    Result<TapDevice> tap = TapDevice::Open(name);
    ASSERT_FALSE(tap.ok()) << name;
    EXPECT_EQ(tap.error().code(), Errc::kInvalidArgument) << name;
  }
  for (uint32_t queues : {0u, TapDevice::kMaxQueues + 1}) {
    Result<TapDevice> tap = TapDevice::Open("t0", {.queues = queues});
    ASSERT_FALSE(tap.ok()) << queues;
    EXPECT_EQ(tap.error().code(), Errc::kInvalidArgument) << queues;
  }
}

TEST_F(TapTest, OpenFailsClearlyWhenTheKernelRefuses) {
  ASSERT_TRUE(ns_.add_tap("t0"));
  // A device that is not a TAP, a name the kernel refuses, and more queues
  // than a single-queue TAP has: each an errno and a message naming the name.
  struct Case {
    std::string_view name;
    uint32_t queues;
  };
  for (Case c : {Case{"lo", 1}, Case{"bad/name", 1}, Case{"t0", 2}}) {
    Result<TapDevice> tap = ns_.open(c.name, {.queues = c.queues});
    ASSERT_FALSE(tap.ok()) << c.name;
    EXPECT_EQ(tap.error().code(), Errc::kSystem) << c.name;
    EXPECT_EQ(tap.error().sys_errno(), EINVAL) << c.name;
    const std::string text = describe(tap.error());
    EXPECT_NE(text.find("TUNSETIFF"), std::string::npos) << text;
    EXPECT_NE(text.find(std::string(c.name)), std::string::npos) << text;
  }
}

TEST_F(TapTest, OpenFailsClearlyWhenTheTapIsTaken) {
  ASSERT_TRUE(ns_.add_tap("t0"));
  Result<TapDevice> first = ns_.open("t0");
  ASSERT_TRUE(first.ok()) << describe(first.error());
  Result<TapDevice> second = ns_.open("t0");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Errc::kSystem);
  EXPECT_EQ(second.error().sys_errno(), EBUSY);
  const std::string text = describe(second.error());
  EXPECT_NE(text.find("TUNSETIFF t0"), std::string::npos) << text;
}

TEST_F(TapTest, ArpAndPingWithTheKernel) {
  ASSERT_TRUE(ns_.add_tap("t0"));
  Result<TapDevice> opened = ns_.open("t0");
  ASSERT_TRUE(opened.ok()) << describe(opened.error());
  TapDevice tap = std::move(opened).value();
  ASSERT_EQ(tap.queue_count(), 1u);
  ASSERT_GE(tap.fd(0), 0);
  EXPECT_EQ(tap.mtu(), 1500u);
  EXPECT_EQ(tap.name(), "t0");

  // Our end of the cable: a locally administered unicast address, not the
  // kernel interface's.
  const MacAddress us = tap.mac();
  EXPECT_EQ(us.bytes[0] & 3, 2);
  const std::string kernel_side = ns_.output_of("cat /sys/class/net/t0/address");
  EXPECT_NE(us.to_string(), kernel_side);

  const std::optional<MacAddress> kernel = resolve_kernel(tap, 0);
  ASSERT_TRUE(kernel.has_value()) << "no ARP reply from 198.18.77.1";
  EXPECT_EQ(kernel->to_string(), kernel_side);
  EXPECT_TRUE(ping(tap, 0, *kernel, 1)) << "no echo reply from 198.18.77.1";

  // A moved device keeps the fds; the one moved from has none.
  TapDevice moved = std::move(tap);
  EXPECT_EQ(tap.queue_count(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(ping(moved, 0, *kernel, 2));

  const TapCounters c = moved.counters();
  EXPECT_GE(c.frames_out, 3u);
  EXPECT_GE(c.frames_in, 3u);
  EXPECT_GE(c.bytes_out, 60u + 2 * 70u);
  EXPECT_GE(c.bytes_in, 42u + 2 * 70u);
  EXPECT_EQ(c.drops_full, 0u);
  EXPECT_EQ(c.errors, 0u);

  // Nothing waits forever: reading on runs out without blocking.
  int reads = 0;
  Result<IOBuf> next = moved.read_frame(0);
  while (next.ok() && ++reads < 1000)
    next = moved.read_frame(0);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code(), Errc::kExhausted);
  EXPECT_EQ(moved.receive(
                0, [](IOBuf) {}, 0),
            0u);
}

TEST_F(TapTest, UsesTheMacItIsGivenAndTheSameOneAgain) {
  ASSERT_TRUE(ns_.add_tap("t0"));
  const MacAddress given{{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}};
  {
    Result<TapDevice> tap = ns_.open("t0", {.mac = given});
    ASSERT_TRUE(tap.ok()) << describe(tap.error());
    EXPECT_EQ(tap->mac(), given);
    EXPECT_TRUE(resolve_kernel(*tap, 0).has_value()) << "no ARP reply to " << given.to_string();
  }
  // Without one, the address follows the name: the same TAP, the same MAC.
  MacAddress first;
  {
    Result<TapDevice> tap = ns_.open("t0");
    ASSERT_TRUE(tap.ok()) << describe(tap.error());
    first = tap->mac();
  }
  Result<TapDevice> again = ns_.open("t0");
  ASSERT_TRUE(again.ok()) << describe(again.error());
  EXPECT_EQ(again->mac(), first);
}

TEST_F(TapTest, ReadsTheMtuAndRefusesLongerFrames) {
  ASSERT_TRUE(ns_.add_tap("t0", /*multi_queue=*/false, /*mtu=*/1400));
  Result<TapDevice> opened = ns_.open("t0");
  ASSERT_TRUE(opened.ok()) << describe(opened.error());
  TapDevice& tap = *opened;
  ASSERT_EQ(tap.mtu(), 1400u);

  const auto rx = [&](const char* what) {
    return std::strtoull(
        ns_.output_of(std::string("cat /sys/class/net/t0/statistics/rx_") + what).c_str(), nullptr,
        10);
  };
  const auto packets_before = rx("packets");
  const auto bytes_before = rx("bytes");

  // An experimental EtherType to our own address: the kernel counts it and
  // drops it.
  auto frame = [&](std::size_t size) {
    Bytes f = ethernet(tap.mac(), tap.mac(), 0x88b5);
    f.resize(size, 0xab);
    return frame_of(f);
  };
  Status too_long = tap.transmit(0, frame(1400 + net::kEthernetHeaderBytes + 1));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code(), Errc::kInvalidArgument);
  Status too_short = tap.transmit(0, frame(net::kEthernetHeaderBytes - 1));
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.error().code(), Errc::kInvalidArgument);
  Status longest = tap.transmit(0, frame(1400 + net::kEthernetHeaderBytes));
  ASSERT_TRUE(longest.ok()) << describe(longest.error());

  // Only the frame that fits reached the kernel.
  EXPECT_EQ(rx("packets") - packets_before, 1u);
  EXPECT_EQ(rx("bytes") - bytes_before, 1414u);
  const TapCounters c = tap.counters(0);
  EXPECT_EQ(c.frames_out, 1u);
  EXPECT_EQ(c.bytes_out, 1414u);
  EXPECT_EQ(c.errors, 2u);
}

TEST_F(TapTest, SendsChainsOfManyLinks) {
  ASSERT_TRUE(ns_.add_tap("t0"));
  Result<TapDevice> opened = ns_.open("t0");
  ASSERT_TRUE(opened.ok()) << describe(opened.error());
  TapDevice& tap = *opened;
  const MacAddress us = tap.mac();
  const auto rx = [&](const char* what) {
    return std::strtoull(
        ns_.output_of(std::string("cat /sys/class/net/t0/statistics/rx_") + what).c_str(), nullptr,
        10);
  };
  const auto packets_before = rx("packets");
  const auto bytes_before = rx("bytes");
  // An ARP request padded to `size` bytes, one byte per link and an empty
  // link after each: a few links (one iovec each) and more than IOV_MAX
  // (gathered first).
  for (std::size_t size : {std::size_t{60}, std::size_t{1200}}) {
    auto chained = [&] {
      Bytes f = who_has_kernel(us);
      f.resize(size, 0);
      IOBuf chain;
      for (uint8_t b : f) {
        chain.append(IOBuf::CopyOf(&b, 1).value());
        chain.append(IOBuf::Create(8).value());
      }
      EXPECT_EQ(chain.link_count(), 2 * size);
      return chain;
    };
    EXPECT_TRUE(exchange(tap, 0, chained, [&](const Bytes& f) { return is_kernel_reply_to(f, us); })
                    .has_value())
        << "no ARP reply to a request of " << size << " links";
  }
  // Every frame reached the kernel whole.
  const TapCounters c = tap.counters(0);
  EXPECT_EQ(c.errors, 0u);
  EXPECT_EQ(rx("packets") - packets_before, c.frames_out);
  EXPECT_EQ(rx("bytes") - bytes_before, c.bytes_out);
  EXPECT_GE(c.bytes_out, 60u + 1200u);
}

TEST_F(TapTest, MultiQueueGivesAnFdPerQueueAndEachOneWorks) {
  ASSERT_TRUE(ns_.add_tap("t1", /*multi_queue=*/true));
  {
    Result<TapDevice> opened = ns_.open("t1", {.queues = 4});
    ASSERT_TRUE(opened.ok()) << describe(opened.error());
    TapDevice& tap = *opened;
    ASSERT_EQ(tap.queue_count(), 4u);
    std::set<int> fds;
    for (uint32_t q = 0; q < 4; ++q) {
      ASSERT_GE(tap.fd(q), 0);
      fds.insert(tap.fd(q));
    }
    EXPECT_EQ(fds.size(), 4u);

    std::optional<MacAddress> kernel;
    for (uint32_t q = 0; q < 4; ++q) {
      kernel = resolve_kernel(tap, q);
      ASSERT_TRUE(kernel.has_value()) << "no ARP reply to a request on queue " << q;
      EXPECT_GE(tap.counters(q).frames_out, 1u);
    }
    EXPECT_TRUE(ping(tap, 3, *kernel, 7));
  }
  // One queue on a multi_queue TAP works too.
  Result<TapDevice> single = ns_.open("t1");
  ASSERT_TRUE(single.ok()) << describe(single.error());
  EXPECT_TRUE(resolve_kernel(*single, 0).has_value());
}

TEST_F(TapTest, CreatesATapThatIsNotThereForAsLongAsItIsOpen) {
  for (uint32_t queues : {1u, 3u}) {
    ASSERT_FALSE(ns_.has_link("t9"));
    {
      Result<TapDevice> tap = ns_.open("t9", {.queues = queues});
      ASSERT_TRUE(tap.ok()) << describe(tap.error());
      EXPECT_EQ(tap->queue_count(), queues);
      EXPECT_TRUE(ns_.has_link("t9"));
      // Nobody brought its kernel end up: the kernel refuses frames.
      Bytes f = ethernet(tap->mac(), tap->mac(), 0x88b5);
      f.resize(60);
      const Status sent = tap->transmit(0, frame_of(f));
      ASSERT_FALSE(sent.ok());
      EXPECT_EQ(sent.error().code(), Errc::kSystem);
      EXPECT_EQ(sent.error().sys_errno(), EIO);
      EXPECT_EQ(tap->counters().errors, 1u);
    }
    EXPECT_FALSE(ns_.has_link("t9")) << queues;
  }
}

}  // namespace
}  // namespace ebb::drivers
