#include "apps/memcached/protocol/stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <string>

#include "apps/common/core_stats.h"
#include "apps/memcached/cluster/partition.h"
#include "runtime/stats.h"

namespace ebb::memcached {

namespace {

using std::string_view;

class Emitter {
 public:
  Emitter(StatSink sink, void* arg) : sink_(sink), arg_(arg) {}

  void text(string_view name, string_view value) { sink_(arg_, name, value); }
  void number(string_view name, uint64_t value) {
    char digits[24];
    const int n = std::snprintf(digits, sizeof digits, "%" PRIu64, value);
    sink_(arg_, name, string_view(digits, static_cast<std::size_t>(n)));
  }
  void signed_number(string_view name, int64_t value) {
    char digits[24];
    const int n = std::snprintf(digits, sizeof digits, "%" PRId64, value);
    sink_(arg_, name, string_view(digits, static_cast<std::size_t>(n)));
  }
  void seconds(string_view name, const timeval& t) {
    char text[40];
    const int n = std::snprintf(text, sizeof text, "%ld.%06ld", static_cast<long>(t.tv_sec),
                                static_cast<long>(t.tv_usec));
    sink_(arg_, name, string_view(text, static_cast<std::size_t>(n)));
  }

 private:
  StatSink sink_;
  void* arg_;
};

void general(const Context& c, Emitter& e) {
  const CounterValues v = c.server.totals();
  const TableStats t = c.table.stats();
  const ServerTime now = c.clock.now();
  e.number("pid", static_cast<uint64_t>(getpid()));
  e.number("uptime", now);
  e.number("time", static_cast<uint64_t>(c.clock.unix_time(now)));
  e.text("version", kVersion);
  e.text("implementation", "ebbkit");
  e.number("pointer_size", sizeof(void*) * 8);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  e.seconds("rusage_user", usage.ru_utime);
  e.seconds("rusage_system", usage.ru_stime);
  e.number("max_connections", c.server.settings.max_connections);
  e.signed_number("curr_connections", v.curr_connections);
  e.number("total_connections", v.total_connections);
  e.number("rejected_connections", v.rejected_connections);
#define EBB_MEMCACHED_EMIT(name) e.number(#name, v.name);
  EBB_MEMCACHED_COUNTERS(EBB_MEMCACHED_EMIT)
#undef EBB_MEMCACHED_EMIT
  e.number("limit_maxbytes", t.limit_bytes);
  e.number("accepting_conns", 1);
  e.number("threads", c.server.cores);
  e.number("hash_bytes", t.hash_buckets * sizeof(void*));
  e.number("curr_items", t.curr_items);
  e.number("total_items", t.total_items);
  e.number("bytes", t.bytes);
  e.number("evictions", t.evictions);
  e.number("reclaimed", t.reclaimed);
  e.number("expired_unfetched", t.expired_unfetched);
  e.number("evicted_unfetched", t.evicted_unfetched);
  e.number("out_of_memory", t.out_of_memory);
}

void settings(const Context& c, Emitter& e) {
  const Settings& s = c.server.settings;
  e.number("maxbytes", s.memory_limit);
  e.number("maxconns", s.max_connections);
  e.number("tcpport", s.tcp_port);
  e.number("udpport", s.udp_port);
  char ip[16];
  std::snprintf(ip, sizeof ip, "%u.%u.%u.%u", s.listen_ip >> 24, (s.listen_ip >> 16) & 255,
                (s.listen_ip >> 8) & 255, s.listen_ip & 255);
  e.text("inter", s.listen_ip == 0 ? "NULL" : ip);
  e.number("verbosity", c.server.verbosity.load(std::memory_order_relaxed));
  e.number("num_threads", c.server.cores);
  e.number("item_size_max", s.item_size_max);
  e.text("evictions", s.evict ? "on" : "off");
  e.text("cas_enabled", s.cas ? "yes" : "no");
  e.text("binding_protocol", "auto-negotiate");
  e.text("net", s.network.stack ? "stack" : "posix");
  e.text("store", "shared table, lock-free reads (RCU), 256 write shards");
}

// The table has no slab classes: everything is reported as class 1.
void items(const Context& c, Emitter& e) {
  const TableStats t = c.table.stats();
  e.number("items:1:number", t.curr_items);
  e.number("items:1:evicted", t.evictions);
  e.number("items:1:evicted_unfetched", t.evicted_unfetched);
  e.number("items:1:reclaimed", t.reclaimed);
  e.number("items:1:expired_unfetched", t.expired_unfetched);
  e.number("items:1:outofmemory", t.out_of_memory);
}

void slabs(const Context& c, Emitter& e) {
  const TableStats t = c.table.stats();
  e.number("1:chunk_size", 0);
  e.number("1:used_chunks", t.curr_items);
  e.number("1:mem_requested", t.bytes);
  e.number("active_slabs", t.curr_items > 0 ? 1 : 0);
  e.number("total_malloced", t.bytes);
}

// memcached's layout: the listening socket, then every open connection by
// id, with the asking one in conn_parse_cmd and the others waiting.
void conns(const Context& c, Emitter& e) {
  const Settings& s = c.server.settings;
  const std::string listen =
      "tcp:" + net::Endpoint{s.listen_ip, s.tcp_port}.to_string();
  e.text("0:addr", listen);
  e.text("0:state", "conn_listening");
  const ServerTime now = c.clock.now();
  c.server.connections.for_each([&](const ConnectionInfo& info) {
    const std::string prefix = std::to_string(info.id) + ":";
    e.text(prefix + "addr", "tcp:" + info.peer.to_string());
    e.text(prefix + "listen_addr", "tcp:" + info.local.to_string());
    e.text(prefix + "state", &info == c.connection ? "conn_parse_cmd" : "conn_waiting");
    const ServerTime last = info.last_command.load(std::memory_order_relaxed);
    e.number(prefix + "secs_since_last_cmd", now > last ? now - last : 0);
  });
}

// Every core's own counters and where its time went: how the load spreads.
void cores(const Context& c, Emitter& e) {
  for (uint32_t core = 0; core < c.server.cores; ++core) {
    const std::string prefix = "core" + std::to_string(core) + ":";
    CounterValues v;
    c.server.counters[core].add_to(v);
#define EBB_MEMCACHED_EMIT_CORE(name) e.number(prefix + #name, v.name);
    EBB_MEMCACHED_COUNTERS(EBB_MEMCACHED_EMIT_CORE)
#undef EBB_MEMCACHED_EMIT_CORE
    e.signed_number(prefix + "curr_connections", v.curr_connections);
    for (const apps::StatLine& line : apps::core_stat_lines(core)) e.number(prefix + line.name, line.value);
  }
}

// Cluster mode: this node's view of the others and what forwarding did.
void cluster(const Context& c, Emitter& e) {
  if (c.server.partition == kNullEbbId) return;
  const ClusterStats s = Ref<Partition>(c.server.partition)->stats();
  e.number("node", s.node);
  for (const ClusterStats::MemberView& m : s.members) {
    const std::string prefix = "node" + std::to_string(m.id) + ":";
    e.text(prefix + "state", m.state);
    e.number(prefix + "joined", m.joined ? 1 : 0);
  }
  e.number("forwarded", s.forwarded);
  e.number("served_for_peers", s.served_for_peers);
  e.number("forward_failures", s.failed);
  e.number("refused_not_owner", s.refused);
  e.number("unsettled", s.unsettled);
  e.number("dropped_on_view_change", s.dropped);
}

}  // namespace

bool emit_stats(const Context& context, std::string_view group, StatSink sink, void* arg) {
  Emitter e(sink, arg);
  if (group.empty()) general(context, e);
  else if (group == "settings") settings(context, e);
  else if (group == "items") items(context, e);
  else if (group == "slabs") slabs(context, e);
  else if (group == "conns") conns(context, e);
  else if (group == "cores") cores(context, e);
  else if (group == "cluster") cluster(context, e);
  else return false;
  return true;
}

}  // namespace ebb::memcached
