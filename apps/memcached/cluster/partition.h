#pragma once
// Partition: ebb-memcached in cluster mode, a distributed Ebb with a part
// on every node. Keys are partitioned over the nodes by consistent hashing
// (ring.h) among the nodes this node's Messenger can reach; every node
// speaks all of memcached's protocols to its clients, and a request for a
// key another node owns is sent there whole, run by that node's own
// protocol handler against its store, and its reply bytes relayed. A
// multi-key get is cut into one get per key, each run where its key lives,
// and the pieces joined in the request's order. flush_all runs on every
// node reachable.
//
// A node stores only keys it owns in its own view: requests peers send for
// other keys are refused. When a node's view gains or loses a member, it
// drops the items that member owns (with it present) — its newcomer's
// keys, or leftovers of a departed one's. A node serves a key only once
// the member that would own it in its absence has joined it (said that
// its view holds this node, after dropping this node's keys: a call each
// way, repeated until answered), and never while a member it has not yet
// reached or failed to reach could own it. So a node that comes back
// takes its keys only when their interim owner has let go, and a node
// that had lost sight of another tells it to drop what it held (it may
// have been cut off, not dead). A key whose owner changed within the
// settling time is served by nobody either, against nodes that notice a
// death at different times: a miss for a read, SERVER_ERROR for a write.
// So when a node dies its keys move to survivors that hold nothing older
// for them (misses, never a wrong value); requests that were on their way to
// it fail — a get as a miss, anything else with SERVER_ERROR (nothing for
// noreply) — and the survivors keep serving. Other commands without a
// key (stats, version, verbosity) answer for this node alone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <chrono>
#include <memory>
#include <vector>

#include "apps/memcached/cluster/ring.h"
#include "apps/memcached/protocol/context.h"
#include "ebbs/messenger/distributed_ebb.h"

namespace ebb::memcached {

// Where the request at the start of some input is served.
struct Route {
  enum class Kind : uint8_t {
    kLocal,     // here, by the usual handler (which also answers malformed input)
    kNeedMore,  // another node's, and not all here yet: `need` bytes in all
    kRemote,    // elsewhere (or cut up): `consumed` bytes taken, `reply` comes
    kRefuse,    // (a request from a peer) for a key this node does not own
  };
  Kind kind = Kind::kLocal;
  std::size_t consumed = 0;
  std::size_t need = 0;
  std::optional<Future<net::IOBuf>> reply;  // the reply's bytes, failures already in the protocol's words
};

// What a node's part counts (per core; any core may read them).
struct PartitionCounters {
  std::atomic<uint64_t> forwarded{0};        // requests sent to their key's node
  std::atomic<uint64_t> served_for_peers{0}; // requests other nodes sent here
  std::atomic<uint64_t> failed{0};           // forwards whose node could not answer
  std::atomic<uint64_t> refused{0};          // peers' requests for keys not owned here
  std::atomic<uint64_t> dropped{0};          // items dropped when a node came (back)
  std::atomic<uint64_t> unsettled{0};        // requests for keys whose owner was changing
};

class Partition;

class PartitionRoot : public messenger::DistributedRoot<Partition> {
 public:
  PartitionRoot(Ref<messenger::Messenger> messenger, EbbId cluster_id, Server& server,
                std::chrono::nanoseconds settle);
  Server& server() const { return server_; }
  const Ring& ring() const { return ring_; }

 private:
  friend class Partition;
  Server& server_;
  Ring ring_;
  std::vector<messenger::NodeId> members_;  // by index, as the Messenger lists them
  uint32_t self_index_ = 0;
  const uint64_t settle_ns_;
  // Written by core 0 (watch_view), read by every core as it routes;
  // members a bit each (by index).
  std::atomic<uint64_t> view_;                          // reachable
  std::atomic<uint64_t> unknown_{0};                    // not yet reached nor failed
  std::atomic<uint64_t> joined_{0};                     // have said they see this node too
  std::unique_ptr<std::atomic<uint64_t>[]> changed_ns_;  // when each member's bit last flipped
  // Core 0's only.
  uint64_t ever_seen_ = 0;  // members this node has seen reachable
  uint64_t joining_ = 0;    // members asked to join, no answer yet
  bool settled_said_ = false;
};

// `stats cluster`: this node's view and what its parts counted.
struct ClusterStats {
  struct MemberView {
    messenger::NodeId id;
    const char* state;  // "self", "up", "down", "unknown"
    bool joined;        // has said it sees this node
  };
  messenger::NodeId node = messenger::kNoNode;
  std::vector<MemberView> members;
  uint64_t forwarded = 0, served_for_peers = 0, failed = 0, refused = 0, dropped = 0, unsettled = 0;
};

// Where a key lives now, and whether everyone can be sure of it.
struct Placement {
  messenger::NodeId owner = messenger::kNoNode;
  bool settled = false;
};

class Partition : public messenger::DistributedEbb<Partition, PartitionRoot> {
 public:
  static constexpr EbbId kClusterId = messenger::kFirstAppClusterId;
  static constexpr uint16_t kTypeRequest = 1000;
  // "I see you, and hold none of your keys" (payload: 1 when the sender
  // had lost sight of the receiver before: the receiver drops its items).
  static constexpr uint16_t kTypeJoin = 1001;
  static constexpr std::chrono::milliseconds kSettle{2500};

  explicit Partition(PartitionRoot& root) : DistributedEbb(root) {}

  // This node's part (and its message type on the Messenger).
  // This node's part (and its message types on the Messenger). settle:
  // longer than the nodes may disagree about who is alive (the Messenger's
  // longest redial plus its death timeout).
  static Result<Ref<Partition>> CreateOnNode(Ref<messenger::Messenger> messenger, Server& server,
                                             std::chrono::nanoseconds settle = kSettle);

  // Where the request at the start of [data, data + length) goes. A
  // request from a peer is never sent on: it runs here if this node owns
  // its key (or it has none), else it is refused.
  Route route(const uint8_t* data, std::size_t length, bool binary, bool from_peer = false);
  // The node that owns a key now (this node's view of who is alive).
  Placement place(std::string_view key) const;

  // Read from any core while the others serve.
  ClusterStats stats() const;
  void on_message(messenger::Frame&& frame, messenger::Responder responder);

 private:
  Route route_ascii(const char* data, std::size_t length, bool from_peer);
  Route route_binary(const uint8_t* data, std::size_t length, bool from_peer);
  // Requests without a key that every node runs (flush_all).
  Route route_to_all(const void* request, std::size_t length, bool from_peer);
  Route route_multi_get(std::string_view command, std::string_view exptime, std::string_view keys,
                        std::size_t consumed, bool from_peer);
  // Core 0 watches who is reachable: when a node comes (back), this node
  // drops the items whose keys are now that node's, so that it never
  // serves them again later from an older time.
  void watch_view();
  void on_join(const messenger::Frame& frame, messenger::Responder responder);
  // One whole request run on `node` (here: at once); on failure the reply
  // is `on_failure`.
  Future<net::IOBuf> run_on(messenger::NodeId node, const void* request, std::size_t length,
                            std::string_view on_failure);
  net::IOBuf run_here(const uint8_t* request, std::size_t length);
  // The reply for a key whose owner is changing.
  Future<net::IOBuf> unsettled(std::string_view reply);

  PartitionCounters counters_;
};

}  // namespace ebb::memcached
