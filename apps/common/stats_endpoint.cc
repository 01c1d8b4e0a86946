#include "apps/common/stats_endpoint.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "apps/common/core_stats.h"
#include "runtime/runtime.h"
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

void serve_snapshot(net::Connection connection) {
  // What the client sends is read and dropped (closing with it unread
  // would reset the connection, perhaps before the snapshot is read).
  connection.on_receive([](net::IOBuf&&) {});
  g_network->core_counts().on_result([connection = std::move(connection)](Result<std::vector<NetCoreCounts>>&& counts) mutable {
    const std::string text = stats_snapshot(counts ? *counts : std::vector<NetCoreCounts>{});
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

std::string stats_snapshot(const std::vector<NetCoreCounts>& net) {
  std::string text;
  const uint32_t cores = num_cores();
  line(text, "cores", cores);
  if (std::optional<uint64_t> calls = process_malloc_calls()) line(text, "malloc_calls", *calls);
  for (CoreId core = 0; core < cores; ++core) {
    const std::string prefix = "core" + std::to_string(core) + ":";
    for (const StatLine& l : core_stat_lines(core)) line(text, prefix + l.name, l.value);
    if (core >= net.size()) continue;
    const NetCoreCounts& n = net[core];
    if (n.has_packets) {
      line(text, prefix + "packets_in", n.packets_in);
      line(text, prefix + "packets_out", n.packets_out);
    }
    line(text, prefix + "bytes_in", n.bytes_in);
    line(text, prefix + "bytes_out", n.bytes_out);
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
