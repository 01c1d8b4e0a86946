#include "apps/common/network_flags.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "apps/common/flags.h"

namespace ebb::apps {
namespace {

bool parse_ip(const char* text, uint32_t* out) {
  in_addr a{};
  if (text == nullptr || inet_pton(AF_INET, text, &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

}  // namespace

int NetworkFlags::parse(const char* program, const char* name, const char* value) {
  auto bad = [program, name, value](const char* what) {
    std::fprintf(stderr, "%s: --%s wants %s, not '%s'\n", program, name, what,
                 value != nullptr ? value : "");
    return -1;
  };
  if (std::strcmp(name, "net") == 0) {
    if (value != nullptr && std::strcmp(value, "posix") == 0) stack = false;
    else if (value != nullptr && std::strcmp(value, "stack") == 0) stack = true;
    else return bad("posix or stack");
    return 1;
  }
  if (std::strcmp(name, "tap") == 0) {
    if (value == nullptr || *value == '\0' || std::strlen(value) > 15) return bad("a TAP device name");
    tap = value;
    return 1;
  }
  if (std::strcmp(name, "ip") == 0) {
    const char* slash = value != nullptr ? std::strchr(value, '/') : nullptr;
    if (slash == nullptr) return bad("ADDRESS/PREFIX");
    const std::string address(value, slash);
    uint64_t length = 0;
    if (!parse_ip(address.c_str(), &ip) || ip == 0) return bad("ADDRESS/PREFIX");
    if (!parse_number(program, "--ip prefix", slash + 1, 1, 32, &length)) return -1;
    prefix = static_cast<uint8_t>(length);
    return 1;
  }
  if (std::strcmp(name, "gateway") == 0) {
    if (!parse_ip(value, &gateway)) return bad("an IPv4 address");
    return 1;
  }
  if (std::strcmp(name, "poll") == 0) {
    if (!kNative) {
      std::fprintf(stderr, "%s: --poll is for native images (hosted, the TAP is watched by epoll)\n", program);
      return -1;
    }
    poll = true;
    return 1;
  }
  if (std::strcmp(name, "dhcp") == 0) {
    dhcp = true;
    return 1;
  }
  if (std::strcmp(name, "queues") == 0 || std::strcmp(name, "tap-queues") == 0) {
    uint64_t n = 0;
    if (!parse_number(program, "--queues", value, 1, 256, &n)) return -1;
    queues = static_cast<uint32_t>(n);
    return 1;
  }
  if (std::strcmp(name, "stats-port") == 0) {
    uint64_t n = 0;
    if (!parse_number(program, "--stats-port", value, 1, 65535, &n)) return -1;
    stats_port = static_cast<uint16_t>(n);
    return 1;
  }
  return 0;
}

bool NetworkFlags::takes_value(const char* name) {
  return std::strcmp(name, "dhcp") != 0 && std::strcmp(name, "poll") != 0;
}

bool NetworkFlags::check(const char* program) {
  auto fail = [program](const char* message) {
    std::fprintf(stderr, "%s: %s\n", program, message);
    return false;
  };
  if (kNative) {
    if (!stack) return fail("a native image has no Linux sockets: --net=stack only");
    if (!tap.empty()) return fail("a native image serves on its virtio-net device: no --tap");
    if (ip == 0) dhcp = true;
  }
  if (!stack) {
    if (!tap.empty() || ip != 0 || dhcp || gateway != 0)
      return fail("--tap, --ip, --gateway and --dhcp need --net=stack");
    return true;
  }
  if (tap.empty() && !kNative) return fail("--net=stack needs --tap=NAME");
  if (ip == 0 && !dhcp) return fail("--net=stack needs --ip=ADDRESS/PREFIX or --dhcp");
  if (ip != 0 && dhcp) return fail("--ip and --dhcp exclude each other");
  if (gateway != 0 && dhcp) return fail("--gateway comes from DHCP with --dhcp");
  if (gateway != 0) {
    const uint32_t mask = prefix == 32 ? ~0u : ~(~0u >> prefix);
    if (((gateway ^ ip) & mask) != 0) return fail("--gateway is not on the --ip subnet");
  }
  return true;
}

const char* NetworkFlags::usage() {
  if (kNative)
    return "      --ip=ADDR/PREFIX      the address on the virtio-net device (default: DHCP)\n"
           "      --gateway=ADDR        the default gateway (with --ip)\n"
           "      --dhcp                lease an address (the default without --ip)\n"
           "      --queues=N            virtio-net queue pairs (default: one per core)\n"
           "      --poll                poll the device, no interrupts (cores never sleep)\n"
           "      --stats-port=P        serve the runtime's per-core counters on TCP port P\n";
  return "      --net=posix|stack     network: Linux sockets (default) or the own TCP/IP stack\n"
         "      --tap=NAME            with --net=stack: the TAP device to run on\n"
         "      --ip=ADDR/PREFIX      with --net=stack: the stack's address\n"
         "      --gateway=ADDR        with --net=stack: the default gateway\n"
         "      --dhcp                with --net=stack: lease an address instead of --ip\n"
         "      --queues=N            with --net=stack: TAP queues (multi_queue; default 1)\n"
         "      --stats-port=P        serve the runtime's per-core counters on TCP port P\n";
}

}  // namespace ebb::apps
