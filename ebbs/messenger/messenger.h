#pragma once
// Messenger: typed messages between the nodes of a cluster, addressed to
// (EbbId, node), over the connection API (Linux sockets or the own stack).
//
// A rep per core. Each core dials its own connection to each peer node the
// first time it sends there, so a request and its response never leave the
// core that made them; a node's listener hands accepted connections to
// accept() on the core that owns them, and frames arriving there are
// handled there. Membership is static (the deployment's list of nodes).
//
//   MessengerConfig config{.self = 1, .members = {{0, a}, {1, b}, {2, c}},
//                          .dial = &dial_posix};
//   Ref<Messenger> m = Messenger::Create(std::move(config)).value();
//   m->root().add_type({.id = 1000, .name = "kv.get"});
//   m->root().add_handler(my_ebb_id, {&on_message, context});
//   m->call(2, my_ebb_id, 1000, 1, std::move(payload)).then(...);   // the response's payload
//
// Failures are Errors, never hangs: a call that gets no answer within
// call_timeout fails with Errc::kTimedOut; a connection that closes fails
// the calls waiting on it at once (kUnreachable) and the next send dials
// again, after a backoff that doubles while attempts fail. Heartbeats (a
// call the peer's Messenger answers itself, sent when a connection has
// been quiet for heartbeat_interval) find a peer that stopped answering
// without closing: after peer_dead_after of silence the connection is
// dropped as if closed. Core 0 keeps a connection to every peer and so
// knows which are reachable (reachable()).
//
// Frames a core sends one peer in one turn (and the answers it gives on
// one connection) are written together once the turn's events have run:
// one system call for a burst rather than one a frame.
//
// Backpressure: frames for one peer wait in its batch and its
// connection's send queue (or, while dialing, in the Messenger's) up to
// max_queued_bytes; past that, send and call refuse with kExhausted and
// until_writable(node) says when to go on. A peer whose requests pile up responses we cannot
// send is no longer read from until they drain (TCP slows it).
//
// Bad input from a peer — a frame of a type or version this node does not
// speak, for an Ebb it does not have, a response to no request, a
// connection that does not introduce itself as a member — is answered
// with an error (requests) or dropped, counted, and logged once per
// connection; a framing error closes that connection. Nothing else stops.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ebbs/messenger/frame.h"
#include "ebbs/messenger/message_types.h"
#include "ebbs/net/address.h"
#include "ebbs/net/connection.h"
#include "runtime/function.h"
#include "runtime/future.h"
#include "runtime/multicore_ebb.h"
#include "runtime/spin_lock.h"
#include "runtime/timer.h"

namespace ebb::messenger {

struct Member {
  NodeId id = kNoNode;
  net::Endpoint address;  // where its Messenger listens
};

// Opens a connection that lives on the calling core (net::posix::connect,
// or the own stack's). A plain function: every core calls it.
using Dialer = Future<net::Connection> (*)(net::Endpoint);

struct MessengerConfig {
  NodeId self = kNoNode;
  std::vector<Member> members;  // every node of the cluster, this one included
  Dialer dial = nullptr;
  std::chrono::milliseconds call_timeout{2000};
  std::chrono::milliseconds heartbeat_interval{200};
  std::chrono::milliseconds peer_dead_after{1000};
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  std::size_t max_queued_bytes = std::size_t{4} << 20;  // per peer, per core
  FrameLimits limits;
};

// A check of a config, for a deployment that reads one: a clear error for
// no self, a self not among the members, a member twice, a member without
// an address.
Status validate(const MessengerConfig& config);

// The message types the Messenger speaks itself (1..9).
inline constexpr uint16_t kTypeHello = 1;
inline constexpr uint16_t kTypeHeartbeat = 2;

class Messenger;
struct Inbound;  // a connection a peer dialed (messenger.cc)

// Why a peer refused a request: the first field of an error response.
enum class Refusal : uint16_t {
  kUnknownType = 1,
  kUnsupportedVersion = 2,
  kUnknownEbb = 3,
  kHandlerFailed = 4,
  kNotAMember = 5,
  kUnanswered = 6,
};

// How a handler answers a request: once, on the core it was given to. For
// a one-way message it is empty (answering does nothing). Dropped without
// an answer, the caller gets kBrokenPromise's error.
class Responder {
 public:
  Responder() = default;
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  bool wants_answer() const { return request_id_ != 0; }
  void respond(net::IOBuf payload);
  // The caller's Future fails with error.code() and error.value(); the
  // message says it came from the peer's handler.
  void fail(const Error& error);

 private:
  friend class Messenger;
  void refuse(Refusal refusal, const Error& error);
  void answer(uint8_t flags, net::IOBuf payload);

  std::shared_ptr<Inbound> inbound_;          // the connection the request came on
  std::optional<Promise<net::IOBuf>> local_;  // or a call from this node to itself
  FrameHeader request_;
  uint64_t request_id_ = 0;
  Messenger* messenger_ = nullptr;
};

// Frames for one Ebb on this node: fn(context, frame, responder) on the
// core that received it. A plain function and a pointer, so any core may
// call it.
struct Handler {
  void (*fn)(void* context, Frame&& frame, Responder responder) = nullptr;
  void* context = nullptr;
};

struct MessengerCounters {
  uint64_t frames_sent = 0, frames_received = 0;
  // Writes of frames and responses to peers: a turn's frames to one peer
  // (or answers on one connection) go together, so fewer than frames.
  uint64_t batches_sent = 0;
  uint64_t calls = 0, responses = 0, timeouts = 0, failed_calls = 0;
  uint64_t unknown_type = 0, unknown_ebb = 0, late_responses = 0, refused_peers = 0;
  uint64_t framing_errors = 0, queue_full = 0;
  uint64_t connects = 0, connect_failures = 0, peer_losses = 0, heartbeats = 0;

  MessengerCounters& operator+=(const MessengerCounters& other);
};

class MessengerRoot : public MulticoreRoot<Messenger> {
 public:
  explicit MessengerRoot(MessengerConfig config);

  const MessengerConfig& config() const { return config_; }
  NodeId self() const { return config_.self; }
  const Member* member(NodeId id) const;
  // A random number this process drew at start: a restarted node is told
  // apart from the one before.
  uint64_t incarnation() const { return incarnation_; }

  // Message types this node speaks (besides the Messenger's own).
  // MessageTypes::add's errors.
  Status add_type(const MessageType& type);
  // Frames for `ebb` go to handler; kAlreadyExists when it has one.
  Status add_handler(EbbId ebb, Handler handler);
  void remove_handler(EbbId ebb);

  // Whether core 0 has a live connection to `node` (and heard from it
  // within peer_dead_after). This node is always reachable.
  bool reachable(NodeId node) const;
  // Whether core 0 knows either way: it reached `node`, or failed to (a
  // dial refused or unanswered, a connection lost). False while the first
  // dial is on its way: such a node is neither alive nor dead yet.
  bool known(NodeId node) const;
  // Counts summed over the cores (each read on its own core).
  Future<MessengerCounters> counters() const;
  // Every core drops its connections and fails what waits on them
  // (kShuttingDown); sends after it fail too. Before the runtime stops.
  Future<void> stop();

 private:
  friend class Messenger;
  struct Registry {
    MessageTypes types;
    std::vector<std::pair<EbbId, Handler>> handlers;
  };
  // The reps copy the registry when its version moves (rarely).
  std::shared_ptr<const Registry> registry() const;

  MessengerConfig config_;
  uint64_t incarnation_;
  uint32_t members_digest_;
  mutable SpinLock lock_;
  std::shared_ptr<const Registry> registry_;
  std::atomic<uint64_t> registry_version_{1};
  std::unique_ptr<std::atomic<bool>[]> reachable_;  // by member index
  std::unique_ptr<std::atomic<bool>[]> known_;
};

class Messenger : public MulticoreEbb<Messenger, MessengerRoot> {
 public:
  explicit Messenger(MessengerRoot& root);
  ~Messenger();

  // A Messenger for this node (validate's errors; a config without dial).
  static Result<Ref<Messenger>> Create(MessengerConfig config);

  MessengerRoot& root() { return root_; }
  NodeId self() const { return root_.self(); }

  // Connects core 0 to every peer and keeps those connections up (so that
  // reachable() knows). Once, on core 0.
  void watch_peers();

  // A one-way message. Errors: kInvalidArgument (an unknown node),
  // kExhausted (the queue to the node is full).
  Status send(NodeId to, EbbId ebb, uint16_t type, uint16_t version, net::IOBuf payload);
  // A request; the Future gets the response's payload, or an Error.
  Future<net::IOBuf> call(NodeId to, EbbId ebb, uint16_t type, uint16_t version, net::IOBuf payload);
  // Ready once the queue to `node` has room again (at once when it has).
  Future<void> until_writable(NodeId node);
  // A connection a listener accepted on this core.
  void accept(net::Connection connection);

  const MessengerCounters& counters() const { return counters_; }

 private:
  struct Peer;
  struct Pending;
  friend class Responder;
  friend class MessengerRoot;
  static constexpr std::size_t kNoIndex = ~std::size_t{0};

  Peer& peer(std::size_t index);
  std::size_t index_of(NodeId node) const;
  uint64_t next_request_id();
  Status enqueue(std::size_t index, FrameHeader header, net::IOBuf payload);
  void schedule_redial(std::size_t index);
  void dial(std::size_t index);
  void connected(std::size_t index, net::Connection connection);
  void lost(std::size_t index, const Error& why);
  void wake_writers(std::size_t index);
  // A peer introduced itself on a connection it dialed: dial it now.
  void peer_announced(std::size_t index);
  void on_outbound_frame(std::size_t index, Frame&& frame);
  void finish_call(uint64_t request_id, Result<net::IOBuf> result, bool cancel_timer);
  void start_heartbeats();
  void heartbeat();
  void shut();
  std::shared_ptr<Inbound> find_inbound(const Inbound* raw) const;
  void refuse(const std::shared_ptr<Inbound>& in, const FrameHeader& request, Refusal refusal, const Error& error);
  void on_inbound_frame(const std::shared_ptr<Inbound>& in, Frame&& frame);
  void refresh_registry();
  void dispatch(Frame&& frame, Responder responder);

  MessengerRoot& root_;
  std::vector<std::unique_ptr<Peer>> peers_;       // by member index
  std::vector<std::shared_ptr<Inbound>> inbound_;  // connections peers dialed to this core
  std::unordered_map<uint64_t, Pending> pending_;  // calls by request id
  uint64_t next_request_ = 1;
  std::shared_ptr<const MessengerRoot::Registry> registry_;
  uint64_t registry_version_ = 0;
  TimerId heartbeat_timer_ = 0;
  bool watching_ = false;
  bool stopped_ = false;
  MessengerCounters counters_;
};

}  // namespace ebb::messenger
