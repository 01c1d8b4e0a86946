#include "apps/common/stats_endpoint.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "apps/common/core_stats.h"
#include "runtime/runtime.h"
#include "runtime/submit.h"
#include "runtime/timer.h"

namespace ebb::apps {
namespace {

Network* g_network = nullptr;  // the one the endpoint reads

void line(std::string& text, const std::string& name, uint64_t value) {
  char number[24];
  std::snprintf(number, sizeof number, "%" PRIu64, value);
  text += "STAT " + name + " " + number + "\r\n";
}

// A client that keeps its side open gets this long after the snapshot.
constexpr auto kLinger = std::chrono::seconds(2);

// Every core's counts that only the core itself reads: its thread's
// malloc bytes, then the network's counts.
Future<std::vector<OnCoreCounts>> gather() {
  return submit_to_all([] { return thread_malloc_bytes(); })
      .then([](std::vector<Result<std::optional<uint64_t>>> bytes) {
        return g_network->core_counts().then([bytes = std::move(bytes)](std::vector<NetCoreCounts> net) {
          std::vector<OnCoreCounts> counts(bytes.size());
          for (std::size_t core = 0; core < counts.size(); ++core) {
            if (bytes[core]) counts[core].malloc_bytes = *bytes[core];
            if (core < net.size()) counts[core].net = net[core];
          }
          return counts;
        });
      });
}

void serve_snapshot(net::Connection connection) {
  // What the client sends is read and dropped (closing with it unread
  // would reset the connection, perhaps before the snapshot is read).
  connection.on_receive([](net::IOBuf&&) {});
  gather().on_result([connection = std::move(connection)](Result<std::vector<OnCoreCounts>>&& counts) mutable {
    const std::string text = stats_snapshot(counts ? *counts : std::vector<OnCoreCounts>{});
    if (Result<net::IOBuf> reply = net::IOBuf::CopyOf(text)) (void)connection.send(std::move(*reply));
    // End of stream after the snapshot; the connection goes once the
    // client closes its side (on_end's default), or after kLinger.
    connection.shutdown_write();
    (void)add_timer(kLinger, [connection]() mutable {
      if (!connection.closed()) connection.abort();
    });
  });
}

}  // namespace

std::string stats_snapshot(const std::vector<OnCoreCounts>& counts) {
  std::string text;
  const uint32_t cores = num_cores();
  line(text, "cores", cores);
  for (CoreId core = 0; core < cores; ++core) {
    const std::string prefix = "core" + std::to_string(core) + ":";
    for (const StatLine& l : core_stat_lines(core)) line(text, prefix + l.name, l.value);
    if (core >= counts.size()) continue;
    if (counts[core].malloc_bytes) line(text, prefix + "malloc_bytes", *counts[core].malloc_bytes);
    const NetCoreCounts& n = counts[core].net;
    if (n.has_packets) {
      line(text, prefix + "packets_in", n.packets_in);
      line(text, prefix + "packets_out", n.packets_out);
    }
    line(text, prefix + "bytes_in", n.bytes_in);
    line(text, prefix + "bytes_out", n.bytes_out);
    if (n.connections) line(text, prefix + "connections", *n.connections);
    if (n.has_syscalls) line(text, prefix + "syscalls", n.syscalls);
  }
  text += "END\r\n";
  return text;
}

Status serve_stats(Network& network, uint16_t port, uint32_t listen_ip) {
  g_network = &network;
  Result<uint16_t> listening = network.listen(port, &serve_snapshot, listen_ip);
  if (!listening) return listening.error();
  return {};
}

}  // namespace ebb::apps
