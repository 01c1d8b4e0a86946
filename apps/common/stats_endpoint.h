#pragma once
// The stats endpoint (--stats-port): any app's per-core runtime counters
// over TCP, read while it runs, hosted or in a VM, without stopping it.
// Each connection gets one snapshot and is closed; what the client sends is
// ignored (`nc HOST PORT` reads it). memcached's layout:
//
//   STAT cores 2
//   STAT core0:events 4567         (core_stats.h's lines, per core)
//   STAT core0:malloc_bytes 8901   (hosted on jemalloc: the C library's)
//   STAT core0:packets_in 890      (the own stack: frames)
//   STAT core0:syscalls 1234       (Linux sockets: reads and writes)
//   ...
//   END

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/network.h"
#include "runtime/result.h"

namespace ebb::apps {

// Serves the endpoint on `port` of `network` (which must outlive it). On a
// core, in an event that may block.
Status serve_stats(Network& network, uint16_t port, uint32_t listen_ip);

// What each core reads on itself for the snapshot.
struct OnCoreCounts {
  NetCoreCounts net;
  std::optional<uint64_t> malloc_bytes;
};

// The snapshot's text, from what each core read (indexed by core).
std::string stats_snapshot(const std::vector<OnCoreCounts>& counts);

}  // namespace ebb::apps
