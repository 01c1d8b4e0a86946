#pragma once
// NetworkFlags: the command-line flags that pick where an app serves —
// Linux sockets (--net=posix, the default) or the own TCP/IP stack on a TAP
// device (apps/common/network.h starts either).
//
//   --net=stack --tap=NAME (--ip=ADDR/PREFIX [--gateway=ADDR] | --dhcp)
//               [--tap-queues=N]

#include <cstdint>
#include <string>

namespace ebb::apps {

struct NetworkFlags {
  bool stack = false;
  std::string tap;
  uint32_t ip = 0;
  uint8_t prefix = 24;
  uint32_t gateway = 0;
  bool dhcp = false;
  uint32_t tap_queues = 1;

  // Takes one flag by its long name (without "--"): "net", "tap", "ip",
  // "gateway", "dhcp", "tap-queues". Returns 1 when taken, 0 when the name
  // is not a network flag, -1 after printing an error ("PROGRAM: ...").
  int parse(const char* program, const char* name, const char* value);
  // After all flags: prints an error and returns false when they do not fit
  // together (--net=stack without --tap, --ip with --dhcp, ...).
  bool check(const char* program) const;
  // Lines for --help.
  static const char* usage();
};

}  // namespace ebb::apps
