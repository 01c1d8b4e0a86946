#pragma once
// Context: what a protocol handler works with for one batch of requests,
// and the contract every handler (ASCII, meta, binary) follows.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "apps/memcached/server/connections.h"
#include "apps/memcached/server/counters.h"
#include "apps/memcached/server/settings.h"
#include "apps/memcached/store/store.h"
#include "runtime/ebb_id.h"

namespace ebb::memcached {

// The server as a whole: its settings, the store and every core's counters.
// Made once at start, alive until the process ends.
struct Server {
  Server(const Settings& s, Store& st, uint32_t core_count)
      : settings(s),
        store(st),
        cores(core_count),
        counters(new Counters[core_count]),
        connections(core_count) {}

  Settings settings;
  Store& store;
  uint32_t cores;
  std::unique_ptr<Counters[]> counters;
  ConnectionRegistry connections;
  std::atomic<uint32_t> verbosity{0};
  // Cluster mode: the Partition Ebb (apps/memcached/cluster) that sends
  // requests for other nodes' keys there; null on a lone server.
  EbbId partition = kNullEbbId;

  CounterValues totals() const {
    CounterValues sum;
    for (uint32_t c = 0; c < cores; ++c) counters[c].add_to(sum);
    return sum;
  }
};

struct Context {
  Server& server;
  ItemTable& table;
  const ServerClock& clock;
  ServerTime now;      // read once per batch
  Counters& counters;  // this core's
  const ConnectionInfo* connection = nullptr;  // the client's (null: none, as for UDP)

  // The CAS a client is shown: with -C the server keeps none, and memcached
  // reports 0.
  uint64_t visible_cas(uint64_t cas) const { return server.settings.cas ? cas : 0; }
};

// What handling one request did. A handler looks at the bytes at the start
// of its input and either handles one whole request (consumed > 0) or says
// it needs more: consumed == 0, with `need` the total length the request
// will have when known (0: not known yet, e.g. no end of line seen).
struct Handled {
  std::size_t consumed = 0;
  std::size_t need = 0;
  std::size_t swallow = 0;  // input to discard after `consumed` (a refused value)
  bool close = false;       // close the connection once the replies so far are sent
};

}  // namespace ebb::memcached
