#pragma once
// NetworkFlags: the command-line flags that pick where an app serves —
// Linux sockets (--net=posix, the default) or the own TCP/IP stack on a TAP
// device (apps/common/network.h starts either).
//
//   --net=stack --tap=NAME (--ip=ADDR/PREFIX [--gateway=ADDR] | --dhcp)
//               [--queues=N]
//   --stats-port=P  the runtime's per-core counters on TCP port P
//                   (apps/common/stats_endpoint.h)
//
// A native image has only the own stack, on the machine's virtio-net: no
// --net or --tap; without --ip it leases an address by DHCP; --queues is
// the number of queue pairs asked of the device (default one per core).

#include <cstdint>
#include <string>

namespace ebb::apps {

struct NetworkFlags {
  // Built into a native image (only the own stack, on virtio-net).
#if EBB_PLATFORM_NATIVE
  static constexpr bool kNative = true;
#else
  static constexpr bool kNative = false;
#endif

  bool stack = kNative;
  std::string tap;
  uint32_t ip = 0;
  uint8_t prefix = 24;
  uint32_t gateway = 0;
  bool dhcp = false;
  // Device queues: the TAP's (hosted), virtio-net pairs (native; 0: one
  // per core).
  uint32_t queues = kNative ? 0 : 1;
  // Native: poll the device without interrupts (cores never sleep; the
  // lowest latency, a whole CPU each).
  bool poll = false;
  // The stats endpoint's TCP port (0: none).
  uint16_t stats_port = 0;

  // Takes one flag by its long name (without "--"): "net", "tap", "ip",
  // "gateway", "dhcp", "queues" (and "tap-queues", its older name), "stats-port". Returns 1 when taken, 0 when the name
  // is not a network flag, -1 after printing an error ("PROGRAM: ...").
  int parse(const char* program, const char* name, const char* value);
  // Whether flag `name` takes a value (--dhcp and --poll do not): for
  // parsers that accept "--name value" as well as "--name=value".
  static bool takes_value(const char* name);
  // After all flags: prints an error and returns false when they do not fit
  // together (--net=stack without --tap, --ip with --dhcp, ...).
  // Natively, no --ip means --dhcp.
  bool check(const char* program);
  // Lines for --help.
  static const char* usage();
};

}  // namespace ebb::apps
