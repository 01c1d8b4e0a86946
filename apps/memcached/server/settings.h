#pragma once
// Settings: ebb-memcached's command line, memcached's own flags where they
// make sense (-p -U -l -t -m -c -I -v -M -C), plus the network flags
// (apps/common/network.h) that pick Linux sockets or the own stack, and the
// cluster flags (--cluster or --peers, --node).

#include <cstddef>
#include <cstdint>
#include <string>

#include "apps/common/network_flags.h"

namespace ebb::memcached {

struct Settings {
  uint16_t tcp_port = 11211;                           // -p
  uint16_t udp_port = 0;                               // -U (0: off)
  uint32_t listen_ip = 0;                              // -l (host byte order; 0: all)
  uint32_t cores = 4;                                  // -t
  std::size_t memory_limit = std::size_t{64} << 20;    // -m, MiB on the command line
  uint32_t max_connections = 1024;                     // -c
  std::size_t item_size_max = std::size_t{1} << 20;    // -I
  uint32_t verbose = 0;                                // -v, -vv
  bool evict = true;                                   // -M turns eviction off
  bool cas = true;                                     // -C turns CAS off
  apps::NetworkFlags network;                          // --net, --tap, --ip, ...
  int64_t idle_spin_us = -1;                           // --idle-spin (-1: the runtime's default)
  // Cluster mode: the members, in the cluster file's words
  // (ebbs/messenger/cluster_file.h), from --cluster FILE or --peers LIST;
  // empty for a lone server. This node's id: --node.
  std::string cluster;
  int32_t node = -1;
};

// Parses argv into *settings (defaults first: cores from default_cores).
// Returns 0 to go on, or an exit code: 0 with *exit_now after --help or
// --version (printed to stdout), 2 after an error (printed to stderr as
// "ebb-memcached: ...").
int parse_settings(int argc, char** argv, uint32_t default_cores, Settings* settings,
                   bool* exit_now);

// The version ebb-memcached reports: the memcached release whose protocols
// it speaks (clients parse it as numbers). `stats` names the implementation.
inline constexpr const char* kVersion = "1.6.18";

}  // namespace ebb::memcached
