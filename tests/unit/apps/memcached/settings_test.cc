// ebb-memcached's command line: memcached's flags, their bounds, and errors.

#include "apps/memcached/server/settings.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace ebb::memcached::testing {
namespace {

// The image's console cannot be captured: in the image only the exit codes
// are checked, not the messages.
#if defined(EBB_PLATFORM_NATIVE)
#define EBB_CAN_CAPTURE_OUTPUT 0
#else
#define EBB_CAN_CAPTURE_OUTPUT 1
#endif

int parse(std::initializer_list<const char*> args, Settings* settings, bool* exit_now = nullptr) {
  std::vector<std::string> storage = {"ebb-memcached"};
  for (const char* a : args) storage.emplace_back(a);
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  bool ignored = false;
  return parse_settings(static_cast<int>(storage.size()), argv.data(), 3, settings,
                        exit_now != nullptr ? exit_now : &ignored);
}

TEST(SettingsTest, DefaultsAreMemcachedsExceptTheCores) {
  Settings s;
  ASSERT_EQ(parse({}, &s), 0);
  EXPECT_EQ(s.tcp_port, 11211);
  EXPECT_EQ(s.udp_port, 0);
  EXPECT_EQ(s.cores, 3u);
  EXPECT_EQ(s.memory_limit, std::size_t{64} << 20);
  EXPECT_EQ(s.max_connections, 1024u);
  EXPECT_EQ(s.item_size_max, std::size_t{1} << 20);
  EXPECT_TRUE(s.evict);
  EXPECT_TRUE(s.cas);
}

TEST(SettingsTest, ShortLongAndAttachedForms) {
  Settings s;
  ASSERT_EQ(parse({"-p", "4000", "-U4001", "--listen=127.0.0.1", "-t", "2", "--memory-limit=128",
                   "-c", "10", "-I", "2m", "-vv", "-M", "-C", "--idle-spin=0"},
                  &s),
            0);
  EXPECT_EQ(s.tcp_port, 4000);
  EXPECT_EQ(s.udp_port, 4001);
  EXPECT_EQ(s.listen_ip, 0x7f000001u);
  EXPECT_EQ(s.cores, 2u);
  EXPECT_EQ(s.memory_limit, std::size_t{128} << 20);
  EXPECT_EQ(s.max_connections, 10u);
  EXPECT_EQ(s.item_size_max, std::size_t{2} << 20);
  EXPECT_EQ(s.verbose, 2u);
  EXPECT_FALSE(s.evict);
  EXPECT_FALSE(s.cas);
  EXPECT_EQ(s.idle_spin_us, 0);
}

TEST(SettingsTest, BadValuesAreErrors) {
  Settings s;
#if EBB_CAN_CAPTURE_OUTPUT
  ::testing::internal::CaptureStderr();
#endif
  EXPECT_EQ(parse({"-p", "70000"}, &s), 2);
  EXPECT_EQ(parse({"-t", "0"}, &s), 2);
  EXPECT_EQ(parse({"-m", "x"}, &s), 2);
  EXPECT_EQ(parse({"-l", "localhost:1"}, &s), 2);
  EXPECT_EQ(parse({"-I", "512"}, &s), 2);         // under 1024 bytes
  EXPECT_EQ(parse({"-I", "2g"}, &s), 2);          // not a size
  EXPECT_EQ(parse({"-m", "1", "-I", "1m"}, &s), 2);  // over half the memory
  if (!apps::NetworkFlags::kNative) {
    EXPECT_EQ(parse({"--net=stack"}, &s), 2);  // no --tap
    EXPECT_EQ(parse({"--net=stack", "--tap=t0"}, &s), 2);  // no --ip
    EXPECT_EQ(parse({"--net=stack", "--tap=t0", "--ip=198.18.0.2"}, &s), 2);  // no prefix
    EXPECT_EQ(parse({"--net=stack", "--tap=t0", "--ip=198.18.0.2/24", "--dhcp"}, &s), 2);
    EXPECT_EQ(parse({"--net=stack", "--tap=t0", "--ip=198.18.0.2/24", "--gateway=10.0.0.1"}, &s), 2);
    EXPECT_EQ(parse({"--tap=t0"}, &s), 2);  // without --net=stack
    EXPECT_EQ(parse({"--net=stack", "--tap=a-name-much-too-long", "--dhcp"}, &s), 2);
    EXPECT_EQ(parse({"--poll"}, &s), 2);  // native images only
  } else {
    EXPECT_EQ(parse({"--net=posix"}, &s), 2);  // no Linux sockets in an image
    EXPECT_EQ(parse({"--tap=t0"}, &s), 2);     // the image's device is virtio-net
    EXPECT_EQ(parse({"--ip=198.18.0.2"}, &s), 2);  // no prefix
    EXPECT_EQ(parse({"--ip=198.18.0.2/24", "--dhcp"}, &s), 2);
    EXPECT_EQ(parse({"--ip=198.18.0.2/24", "--gateway=10.0.0.1"}, &s), 2);
  }
  EXPECT_EQ(parse({"--net=dpdk"}, &s), 2);
  EXPECT_EQ(parse({"-p"}, &s), 2);
  EXPECT_EQ(parse({"--frobnicate"}, &s), 2);
  EXPECT_EQ(parse({"extra"}, &s), 2);
  EXPECT_EQ(parse({"--idle-spin=soon"}, &s), 2);
#if EBB_CAN_CAPTURE_OUTPUT
  const std::string errors = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(errors.find("ebb-memcached: -p wants a whole number from 0 to 65535, not '70000'"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("item max size cannot be less than 1024 bytes"), std::string::npos);
  EXPECT_NE(errors.find("higher than 1/2 of memory max"), std::string::npos);
  EXPECT_NE(errors.find("--poll is for native images"), std::string::npos) << errors;
  EXPECT_NE(errors.find("--net=stack needs --tap=NAME"), std::string::npos) << errors;
  EXPECT_NE(errors.find("--net=stack needs --ip=ADDRESS/PREFIX or --dhcp"), std::string::npos);
  EXPECT_NE(errors.find("--ip wants ADDRESS/PREFIX, not '198.18.0.2'"), std::string::npos);
  EXPECT_NE(errors.find("--ip and --dhcp exclude each other"), std::string::npos);
  EXPECT_NE(errors.find("--gateway is not on the --ip subnet"), std::string::npos);
  EXPECT_NE(errors.find("--tap, --ip, --gateway and --dhcp need --net=stack"), std::string::npos);
  EXPECT_NE(errors.find("-p needs a value"), std::string::npos);
  EXPECT_NE(errors.find("unknown argument '--frobnicate'"), std::string::npos);
#endif
}

TEST(SettingsTest, NetworkFlagsPickTheOwnStack) {
  Settings s;
  if (apps::NetworkFlags::kNative) {
    // An image serves on the own stack over virtio-net, by DHCP unless told.
    ASSERT_EQ(parse({}, &s), 0);
    EXPECT_TRUE(s.network.stack);
    EXPECT_TRUE(s.network.dhcp);
    EXPECT_EQ(s.network.queues, 0u);  // one pair per core
    ASSERT_EQ(parse({"--ip=198.18.0.2/24", "--gateway=198.18.0.1", "--queues=2", "--poll"}, &s), 0);
    EXPECT_FALSE(s.network.dhcp);
    EXPECT_EQ(s.network.ip, 0xc6120002u);
    EXPECT_EQ(s.network.gateway, 0xc6120001u);
    EXPECT_EQ(s.network.queues, 2u);
    EXPECT_TRUE(s.network.poll);
    return;
  }
  ASSERT_EQ(parse({"--net=stack", "--tap=t0", "--ip=198.18.0.2/24", "--gateway=198.18.0.1",
                   "--tap-queues=2"},
                  &s),
            0);
  EXPECT_TRUE(s.network.stack);
  EXPECT_EQ(s.network.tap, "t0");
  EXPECT_EQ(s.network.ip, 0xc6120002u);
  EXPECT_EQ(s.network.prefix, 24);
  EXPECT_EQ(s.network.gateway, 0xc6120001u);
  EXPECT_EQ(s.network.queues, 2u);
  ASSERT_EQ(parse({"--net=stack", "--tap", "t1", "--queues=3", "--dhcp"}, &s), 0);
  EXPECT_TRUE(s.network.dhcp);
  EXPECT_EQ(s.network.ip, 0u);
  EXPECT_EQ(s.network.queues, 3u);
  ASSERT_EQ(parse({}, &s), 0);
  EXPECT_FALSE(s.network.stack);
}

TEST(SettingsTest, StatsPortIsANetworkFlag) {
  Settings s;
  EXPECT_EQ(s.network.stats_port, 0);  // no endpoint unless asked
  ASSERT_EQ(parse({"--stats-port=11212"}, &s), 0);
  EXPECT_EQ(s.network.stats_port, 11212);
  ASSERT_EQ(parse({"--stats-port", "7"}, &s), 0);
  EXPECT_EQ(s.network.stats_port, 7);
  EXPECT_EQ(parse({"--stats-port=0"}, &s), 2);
  EXPECT_EQ(parse({"--stats-port=65536"}, &s), 2);
  EXPECT_EQ(parse({"--stats-port=port"}, &s), 2);
}

TEST(SettingsTest, HelpAndVersionExitAtOnce) {
  Settings s;
  bool exit_now = false;
#if EBB_CAN_CAPTURE_OUTPUT
  ::testing::internal::CaptureStdout();
#endif
  EXPECT_EQ(parse({"--help"}, &s, &exit_now), 0);
  EXPECT_TRUE(exit_now);
  EXPECT_EQ(parse({"-V"}, &s, &exit_now), 0);
  EXPECT_TRUE(exit_now);
#if EBB_CAN_CAPTURE_OUTPUT
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("usage: ebb-memcached"), std::string::npos);
  EXPECT_NE(out.find(kVersion), std::string::npos);
#endif
}

}  // namespace
}  // namespace ebb::memcached::testing
