// ebb-memcached: a memcached server built from Ebbs.
//
//   build/release/bin/ebb-memcached -p 11211 -t 2 -m 64
//
// Every core listens on the port (SO_REUSEPORT) and serves its own
// connections from start to end; all of them share one store Ebb
// (apps/memcached/store). memcached's flags work as memcached's do;
// `--help` lists them. SIGINT or SIGTERM stops it, printing each core's
// share of the work.
//
// The same source is a native image (build/native/images/ebb-memcached.elf):
// its flags come from the kernel command line, after the image's own
// ebb.NAME=VALUE words, and it serves until the machine powers off (there
// are no signals).

#if !defined(EBB_PLATFORM_NATIVE)
#include <signal.h>

#include <thread>
#endif

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <vector>

#include "apps/memcached/cluster/partition.h"
#include "apps/memcached/protocol/context.h"
#include "apps/memcached/server/connection.h"
#include "apps/memcached/server/settings.h"
#include "apps/common/network.h"
#include "apps/common/stats_endpoint.h"
#include "ebbs/messenger/cluster_file.h"
#include "runtime/runtime.h"
#include "runtime/stats.h"

namespace {

using namespace ebb;
using namespace ebb::memcached;

// The server, for the handlers every core runs (made before the cores start
// serving and kept until the process ends).
Server* g_server = nullptr;
apps::Network* g_network = nullptr;
EbbId g_messenger = kNullEbbId;  // cluster mode

// Cluster mode: the Messenger on this node's member address, and the
// Partition that sends requests for other nodes' keys there.
Result<std::string> join_cluster(const Settings& settings) {
  Result<std::vector<messenger::Member>> members = messenger::parse_cluster_file(settings.cluster);
  if (!members) return members.error();
  messenger::MessengerConfig config;
  config.self = static_cast<messenger::NodeId>(settings.node);
  config.members = *members;
  config.dial = [](net::Endpoint peer) { return g_network->connect(peer); };
  Result<Ref<messenger::Messenger>> m = messenger::Messenger::Create(std::move(config));
  if (!m) return m.error();
  g_messenger = m->id();
  const messenger::Member* me = (*m)->root().member(static_cast<messenger::NodeId>(settings.node));
  Result<uint16_t> port = g_network->listen(
      me->address.port, [](net::Connection c) { Ref<messenger::Messenger>(g_messenger)->accept(std::move(c)); },
      settings.listen_ip);
  if (!port) return port.error();
  Result<Ref<Partition>> partition = Partition::CreateOnNode(*m, *g_server);
  if (!partition) return partition.error();
  g_server->partition = partition->id();
  (*m)->watch_peers();
  return "node " + std::to_string(settings.node) + " of " + std::to_string(members->size()) + ", messenger on " +
         me->address.to_string();
}

struct CoreShare {
  CoreStats runtime;
  CounterValues requests;
};

// Read while the cores still run (a stopped core reports zeros). Hosted
// only: natively nothing stops the cores.
[[maybe_unused]] std::vector<CoreShare> read_core_shares(const Server& server) {
  std::vector<CoreShare> shares(server.cores);
  for (uint32_t core = 0; core < server.cores; ++core) {
    shares[core].runtime = core_stats(core);
    server.counters[core].add_to(shares[core].requests);
  }
  return shares;
}

void print_core_shares(const std::vector<CoreShare>& shares) {
  std::printf("ebb-memcached: stopped; per core: busy share, requests (get+set), connections\n");
  for (uint32_t core = 0; core < shares.size(); ++core) {
    const CoreStats& s = shares[core].runtime;
    const CounterValues& v = shares[core].requests;
    const double total = static_cast<double>(s.busy_ns + s.idle_ns);
    std::printf("  core %-3u busy %5.1f%%  requests %-12" PRIu64 " connections %" PRIu64 "\n", core,
                total > 0 ? 100.0 * static_cast<double>(s.busy_ns) / total : 0.0,
                v.cmd_get + v.cmd_set, v.total_connections);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  bool exit_now = false;
  const int code = parse_settings(argc, argv, Runtime::available_cpus(), &settings, &exit_now);
  if (code != 0 || exit_now) return code;

#if !defined(EBB_PLATFORM_NATIVE)
  // SIGINT and SIGTERM go to a thread of their own (blocked everywhere
  // else: the cores inherit this mask).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
#endif

  RuntimeOptions options;
  options.cores = settings.cores;
  if (settings.idle_spin_us >= 0) options.idle_spin_ns = settings.idle_spin_us * 1000;
  Runtime runtime(options);
  TableOptions table;
  table.memory_limit = settings.memory_limit;
  table.item_size_max = settings.item_size_max;
  table.evict = settings.evict;
  std::string cluster_line;
  auto started = runtime.run_on(0, [&]() -> Result<uint16_t> {
    Result<Ref<Store>> store = Store::Create(table);
    if (!store) return store.error();
    g_server = new Server(settings, **store, settings.cores);
    // Requests read the clock the timer refreshes (ticking until exit).
    if (Status ticking = g_server->store.clock().start_ticking(); !ticking) return ticking.error();
    Result<std::unique_ptr<apps::Network>> network = apps::Network::Start(settings.network);
    if (!network) return network.error();
    g_network = network->release();
    Result<uint16_t> tcp = g_network->listen(
        settings.tcp_port, [](net::Connection c) { serve_connection(*g_server, std::move(c)); },
        settings.listen_ip);
    if (!tcp) return tcp.error();
    if (!settings.cluster.empty()) {
      Result<std::string> joined = join_cluster(settings);
      if (!joined) return joined.error();
      cluster_line = *joined;
    }
    if (settings.network.stats_port != 0) {
      Status stats = apps::serve_stats(*g_network, settings.network.stats_port, settings.listen_ip);
      if (!stats) return stats.error();
    }
    if (settings.udp_port != 0) {
      Status udp = g_network->bind_udp(
          settings.udp_port,
          [](net::DatagramSocket& socket, net::Endpoint from, net::IOBuf data) {
            serve_datagram(*g_server, socket, from, std::move(data));
          },
          settings.listen_ip);
      if (!udp) return udp.error();
    }
    return *tcp;
  });
  if (!started) {
    char why[kErrorTextSize];
    std::fprintf(stderr, "ebb-memcached: cannot serve on port %u: %s\n", settings.tcp_port,
                 started.error().describe(why, sizeof why));
    return 1;
  }
  std::printf("ebb-memcached: listening on port %u (tcp)", *started);
  if (settings.udp_port != 0) std::printf(" and %u (udp)", settings.udp_port);
  if (settings.network.stats_port != 0) std::printf(", stats on %u", settings.network.stats_port);
  std::printf(", %u cores, %zu MiB, %s\n", settings.cores, settings.memory_limit >> 20,
              g_network->describe().c_str());
  if (!cluster_line.empty()) std::printf("ebb-memcached: cluster %s\n", cluster_line.c_str());
  std::fflush(stdout);

  std::vector<CoreShare> shares;
#if defined(EBB_PLATFORM_NATIVE)
  // Nothing asks a native image to stop: it serves until the VM powers off.
  runtime.wait_for_shutdown_request();
#else
  std::thread signals([&stop_signals, &shares] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    shares = read_core_shares(*g_server);
    request_shutdown();
  });
  runtime.wait_for_shutdown_request();
  signals.join();
#endif
  print_core_shares(shares);
  return 0;
}
