#include "ebbs/messenger/messenger.h"

#include <algorithm>
#include <mutex>

#include "ebbs/messenger/cluster_ids.h"
#include "runtime/bytes.h"
#include "runtime/hash.h"
#include "runtime/log.h"
#include "runtime/platform.h"
#include "runtime/spawn.h"
#include "runtime/submit.h"
#include "runtime/timer.h"

namespace ebb::messenger {
namespace {

using std::chrono::nanoseconds;

// An error response's payload: refusal, Errc, value.
constexpr std::size_t kErrorPayloadBytes = 2 + 2 + 8;
// A hello's payload: node, incarnation, digest of the membership.
constexpr std::size_t kHelloBytes = 2 + 8 + 4;
// Unanswered requests one inbound connection may have in its handlers
// before the Messenger stops reading it.
constexpr std::size_t kMaxUnanswered = 4096;

uint64_t now() { return platform::now_ns(); }
uint64_t ns(std::chrono::milliseconds ms) { return static_cast<uint64_t>(nanoseconds(ms).count()); }

// A buffer with room for `bytes` after a frame header (empty when memory
// ran out: the frame goes without its payload, and the peer refuses it).
net::IOBuf buffer_for(std::size_t bytes) {
  Result<net::IOBuf> b = net::IOBuf::Create(bytes, kFrameHeaderBytes);
  return b ? std::move(*b) : net::IOBuf{};
}

net::IOBuf error_payload(Refusal refusal, const Error& error) {
  net::IOBuf out = buffer_for(kErrorPayloadBytes);
  if (uint8_t* p = out.push_back(kErrorPayloadBytes)) {
    store16(p, static_cast<uint16_t>(refusal));
    store16(p + 2, static_cast<uint16_t>(error.code()));
    store64(p + 4, static_cast<uint64_t>(error.has_value() ? error.value() : INT64_MIN));
  }
  return out;
}

// The Error a caller sees for a peer's error response.
Error error_from(const Frame& response) {
  uint8_t p[kErrorPayloadBytes];
  if (!response.payload.copy_out(0, p, sizeof p))
    return Error(Errc::kInvalidArgument, "messenger: a malformed error response from the peer");
  const auto code = static_cast<Errc>(load16(p + 2));
  const auto value = static_cast<int64_t>(load64(p + 4));
  switch (static_cast<Refusal>(load16(p))) {
    case Refusal::kUnknownType:
      return Error(Errc::kInvalidArgument, "messenger: the peer does not know this message type", value);
    case Refusal::kUnsupportedVersion:
      return Error(Errc::kInvalidArgument, "messenger: the peer does not speak this version of the message type",
                   value);
    case Refusal::kUnknownEbb:
      return Error(Errc::kNoSuchEbb, "messenger: the peer has no handler for this Ebb", value);
    case Refusal::kHandlerFailed:
      return Error(code, "messenger: the peer's handler failed", value);
    case Refusal::kNotAMember:
      return Error(Errc::kInvalidArgument,
                   "messenger: the peer refused this node (not a member, a wrong address, or another cluster)");
    case Refusal::kUnanswered:
      return Error(Errc::kBrokenPromise, "messenger: the peer's handler dropped the request unanswered");
  }
  return Error(Errc::kInvalidArgument, "messenger: an error response of an unknown kind from the peer");
}

uint32_t digest_of(std::vector<Member> members) {
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.id < b.id; });
  uint32_t h = kFnvBasis;
  for (const Member& m : members) {
    uint8_t b[8];
    store16(b, m.id);
    store32(b + 2, m.address.ip);
    store16(b + 6, m.address.port);
    h = fnv1a(b, sizeof b, h);
  }
  return h;
}

uint64_t draw_incarnation() {
  // Time and an address: distinct across restarts of one node.
  uint64_t x = now() ^ reinterpret_cast<uintptr_t>(&x);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x | 1;
}

}  // namespace

MessengerCounters& MessengerCounters::operator+=(const MessengerCounters& o) {
  frames_sent += o.frames_sent;
  frames_received += o.frames_received;
  batches_sent += o.batches_sent;
  calls += o.calls;
  responses += o.responses;
  timeouts += o.timeouts;
  failed_calls += o.failed_calls;
  unknown_type += o.unknown_type;
  unknown_ebb += o.unknown_ebb;
  late_responses += o.late_responses;
  refused_peers += o.refused_peers;
  framing_errors += o.framing_errors;
  queue_full += o.queue_full;
  connects += o.connects;
  connect_failures += o.connect_failures;
  peer_losses += o.peer_losses;
  heartbeats += o.heartbeats;
  return *this;
}

Status validate(const MessengerConfig& config) {
  if (config.self == kNoNode) return Error(Errc::kInvalidArgument, "messenger: the config names no node for this one");
  bool self_found = false;
  for (std::size_t i = 0; i < config.members.size(); ++i) {
    const Member& m = config.members[i];
    if (m.id > kMaxNodeId) return Error(Errc::kInvalidArgument, "messenger: a node id past the largest", m.id);
    if (m.address.ip == 0 || m.address.port == 0)
      return Error(Errc::kInvalidArgument, "messenger: a member without an address and port", m.id);
    for (std::size_t j = 0; j < i; ++j)
      if (config.members[j].id == m.id)
        return Error(Errc::kAlreadyExists, "messenger: a node is a member twice", m.id);
    self_found |= m.id == config.self;
  }
  if (!self_found) return Error(Errc::kInvalidArgument, "messenger: this node is not among the members", config.self);
  if (config.call_timeout.count() <= 0 || config.heartbeat_interval.count() <= 0 ||
      config.peer_dead_after <= config.heartbeat_interval || config.reconnect_min.count() <= 0 ||
      config.reconnect_max < config.reconnect_min)
    return Error(Errc::kInvalidArgument, "messenger: timeouts must be positive, and death slower than heartbeats");
  return {};
}

// ---- root ----

MessengerRoot::MessengerRoot(MessengerConfig config)
    : config_(std::move(config)),
      incarnation_(draw_incarnation()),
      members_digest_(digest_of(config_.members)),
      registry_(std::make_shared<Registry>()),
      reachable_(new std::atomic<bool>[config_.members.size()]),
      known_(new std::atomic<bool>[config_.members.size()]) {
  for (std::size_t i = 0; i < config_.members.size(); ++i) {
    reachable_[i].store(config_.members[i].id == config_.self, std::memory_order_relaxed);
    known_[i].store(config_.members[i].id == config_.self, std::memory_order_relaxed);
  }
}

const Member* MessengerRoot::member(NodeId id) const {
  for (const Member& m : config_.members)
    if (m.id == id) return &m;
  return nullptr;
}

Status MessengerRoot::add_type(const MessageType& type) {
  if (type.id <= kTypeHeartbeat)
    return Error(Errc::kAlreadyExists, "messenger: message types 1 and 2 are the Messenger's own", type.id);
  std::lock_guard<SpinLock> hold(lock_);
  auto next = std::make_shared<Registry>(*registry_);
  Status added = next->types.add(type);
  if (!added) return added;
  registry_ = std::move(next);
  registry_version_.fetch_add(1, std::memory_order_release);
  return {};
}

Status MessengerRoot::add_handler(EbbId ebb, Handler handler) {
  if (ebb == kNullEbbId || handler.fn == nullptr)
    return Error(Errc::kInvalidArgument, "messenger: a handler needs an Ebb id and a function");
  std::lock_guard<SpinLock> hold(lock_);
  for (const auto& [id, h] : registry_->handlers)
    if (id == ebb) return Error(Errc::kAlreadyExists, "messenger: the Ebb already has a handler", ebb);
  auto next = std::make_shared<Registry>(*registry_);
  next->handlers.emplace_back(ebb, handler);
  registry_ = std::move(next);
  registry_version_.fetch_add(1, std::memory_order_release);
  return {};
}

void MessengerRoot::remove_handler(EbbId ebb) {
  std::lock_guard<SpinLock> hold(lock_);
  auto next = std::make_shared<Registry>(*registry_);
  std::erase_if(next->handlers, [ebb](const auto& entry) { return entry.first == ebb; });
  registry_ = std::move(next);
  registry_version_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const MessengerRoot::Registry> MessengerRoot::registry() const {
  std::lock_guard<SpinLock> hold(lock_);
  return registry_;
}

bool MessengerRoot::reachable(NodeId node) const {
  for (std::size_t i = 0; i < config_.members.size(); ++i)
    if (config_.members[i].id == node) return reachable_[i].load(std::memory_order_relaxed);
  return false;
}

bool MessengerRoot::known(NodeId node) const {
  for (std::size_t i = 0; i < config_.members.size(); ++i)
    if (config_.members[i].id == node) return known_[i].load(std::memory_order_relaxed);
  return false;
}

Future<MessengerCounters> MessengerRoot::counters() const {
  const EbbId messenger = id();
  return submit_to_all([messenger] { return Ref<Messenger>(messenger)->counters(); })
      .then([](std::vector<Result<MessengerCounters>> per_core) {
        MessengerCounters sum;
        for (const auto& c : per_core)
          if (c) sum += *c;
        return sum;
      });
}

Future<void> MessengerRoot::stop() {
  const EbbId messenger = id();
  return submit_to_all([messenger] { Ref<Messenger>(messenger)->shut(); }).then([](auto) {});
}

// ---- the rep ----

// Frames written together: what one turn of a core sends on one
// connection (a peer's requests, or the answers on a connection a peer
// dialed). The first frame of a turn has the caller queue an event that
// sends the batch once the events queued meanwhile have run; a batch of
// kBatchBytes goes at once (only small frames gain from waiting).
struct SendBatch {
  static constexpr std::size_t kBatchBytes = 64 << 10;
  net::IOBuf frames;
  bool flush_queued = false;

  // Adds a frame; true when the caller must queue the flush.
  bool add(net::IOBuf frame, net::Connection& connection, MessengerCounters& counters) {
    frames.append(std::move(frame));
    if (frames.length() >= kBatchBytes) {
      send(connection, counters);
      return false;
    }
    if (flush_queued) return false;
    flush_queued = true;
    return true;
  }
  // Writes the frames on `connection` if it is open; empty after.
  void send(net::Connection& connection, MessengerCounters& counters) {
    if (connection && !connection.closed() && !frames.empty()) {
      ++counters.batches_sent;
      (void)connection.send(std::move(frames));
    }
    frames.clear();
  }
};

struct Messenger::Peer {
  enum class State { kDown, kDialing, kUp };
  State state = State::kDown;
  net::Connection connection;
  FrameDecoder decoder;
  uint64_t generation = 0;  // callbacks of an older connection are ignored
  std::vector<net::IOBuf> waiting;  // frames sent while dialing
  std::size_t waiting_bytes = 0;
  uint64_t last_heard_ns = 0;
  uint64_t last_sent_ns = 0;
  uint64_t next_dial_ns = 0;
  std::chrono::milliseconds backoff{0};
  TimerId retry_timer = 0;
  bool heartbeat_out = false;
  bool introduced = false;  // the peer answered our hello
  std::vector<Promise<void>> writable_waiters;
  SendBatch batch;  // while up: this turn's frames (a burst of forwarded requests is one write)

  std::size_t queued() const {
    return waiting_bytes + batch.frames.length() + (state == State::kUp ? connection.send_queued() : 0);
  }
};

struct Messenger::Pending {
  std::size_t peer;
  TimerId timer;
  Promise<net::IOBuf> promise;
};

struct Inbound {
  net::Connection connection;
  FrameDecoder decoder;
  NodeId node = kNoNode;  // known after its hello
  std::size_t unanswered = 0;
  bool paused = false;
  bool logged = false;
  SendBatch answers;  // this turn's responses (one write for a burst's answers)

  // `counters`: the Messenger rep of this core's (it outlives its connections).
  void queue_response(net::IOBuf frame, const std::shared_ptr<Inbound>& self, MessengerCounters* counters) {
    if (!answers.add(std::move(frame), connection, *counters)) return;
    spawn_local([self, counters] {
      self->answers.flush_queued = false;
      self->answers.send(self->connection, *counters);
      self->update_reading();
    });
  }

  void update_reading() {
    const bool pause = connection.send_full() || unanswered >= kMaxUnanswered;
    if (pause == paused || connection.closed()) return;
    paused = pause;
    if (pause) connection.pause_receive();
    else connection.resume_receive();
  }
};

Messenger::Messenger(MessengerRoot& root) : root_(root) {
  peers_.reserve(root.config().members.size());
  for (std::size_t i = 0; i < root.config().members.size(); ++i) {
    peers_.push_back(std::make_unique<Peer>());
    peers_.back()->decoder = FrameDecoder(root.config().limits);
  }
}

Messenger::~Messenger() = default;

Result<Ref<Messenger>> Messenger::Create(MessengerConfig config) {
  Status valid = validate(config);
  if (!valid) return valid.error();
  if (config.dial == nullptr) return Error(Errc::kInvalidArgument, "messenger: the config has no way to dial peers");
  return MulticoreEbb<Messenger, MessengerRoot>::Create(std::move(config));
}

Messenger::Peer& Messenger::peer(std::size_t index) { return *peers_[index]; }

std::size_t Messenger::index_of(NodeId node) const {
  const auto& members = root_.config().members;
  for (std::size_t i = 0; i < members.size(); ++i)
    if (members[i].id == node) return i;
  return kNoIndex;
}

// ---- sending ----

Status Messenger::send(NodeId to, EbbId ebb, uint16_t type, uint16_t version, net::IOBuf payload) {
  FrameHeader header{.type = type, .type_version = version, .ebb = ebb, .source = self(), .destination = to};
  if (to == self()) {
    Frame frame{header, std::move(payload)};
    dispatch(std::move(frame), Responder{});
    return {};
  }
  const std::size_t index = index_of(to);
  if (index == kNoIndex) return Error(Errc::kInvalidArgument, "messenger: no such node in the cluster", to);
  return enqueue(index, header, std::move(payload));
}

Future<net::IOBuf> Messenger::call(NodeId to, EbbId ebb, uint16_t type, uint16_t version, net::IOBuf payload) {
  ++counters_.calls;
  FrameHeader header{.type = type, .type_version = version, .ebb = ebb, .source = self(), .destination = to,
                     .request_id = next_request_id()};
  if (to == self()) {
    Responder local;
    local.local_.emplace();
    Future<net::IOBuf> result = local.local_->get_future();
    local.request_ = header;
    local.request_id_ = header.request_id;
    local.messenger_ = this;
    dispatch(Frame{header, std::move(payload)}, std::move(local));
    return result;
  }
  const std::size_t index = index_of(to);
  if (index == kNoIndex) {
    ++counters_.failed_calls;
    return make_failed_future<net::IOBuf>(Error(Errc::kInvalidArgument, "messenger: no such node in the cluster", to));
  }
  // Pending before the frame goes out: a dial that fails at once fails it.
  const uint64_t id = header.request_id;
  Pending& p = pending_[id];
  p.peer = index;
  p.timer = 0;
  Future<net::IOBuf> result = p.promise.get_future();
  Status queued = enqueue(index, header, std::move(payload));
  if (!queued) {
    finish_call(id, queued.error(), false);
    return result;
  }
  auto it = pending_.find(id);
  if (it != pending_.end()) {
    it->second.timer = add_timer(root_.config().call_timeout, [this, id] {
                         if (pending_.count(id) == 0) return;
                         ++counters_.timeouts;
                         finish_call(id, Error(Errc::kTimedOut, "messenger: no answer from the node in time"), false);
                       }).value_or(0);
  }
  return result;
}

uint64_t Messenger::next_request_id() {
  // Unique on this node: the core in the top bits.
  return (static_cast<uint64_t>(this_core() + 1) << 48) | (next_request_++ & ((uint64_t{1} << 48) - 1));
}

Status Messenger::enqueue(std::size_t index, FrameHeader header, net::IOBuf payload) {
  if (stopped_) return Error(Errc::kShuttingDown, "messenger: stopped");
  Peer& p = peer(index);
  Result<net::IOBuf> frame = encode_frame(header, std::move(payload));
  if (!frame) return frame.error();
  if (p.queued() + frame->length() > root_.config().max_queued_bytes) {
    ++counters_.queue_full;
    return Error(Errc::kExhausted, "messenger: the queue to the node is full", header.destination);
  }
  ++counters_.frames_sent;
  if (p.state == Peer::State::kUp) {
    p.last_sent_ns = now();
    // Into this turn's batch for the peer (SendBatch): a burst of frames,
    // such as requests forwarded for pipelined clients, is one write.
    if (p.batch.add(std::move(*frame), p.connection, counters_)) {
      spawn_local([this, index] {
        Peer& q = peer(index);
        q.batch.flush_queued = false;
        q.batch.send(q.connection, counters_);  // lost() emptied it if the connection went
      });
    }
    return {};
  }
  p.waiting_bytes += frame->length();
  p.waiting.push_back(std::move(*frame));
  if (p.state == Peer::State::kDown) {
    if (now() >= p.next_dial_ns) dial(index);
    else schedule_redial(index);
  }
  return {};
}

Future<void> Messenger::until_writable(NodeId node) {
  const std::size_t index = index_of(node);
  if (index == kNoIndex)
    return make_failed_future<void>(Error(Errc::kInvalidArgument, "messenger: no such node in the cluster", node));
  Peer& p = peer(index);
  if (p.queued() < root_.config().max_queued_bytes / 2) return make_ready_future();
  p.writable_waiters.emplace_back();
  return p.writable_waiters.back().get_future();
}

// ---- connections we dial ----

void Messenger::schedule_redial(std::size_t index) {
  Peer& p = peer(index);
  if (p.retry_timer != 0 || stopped_) return;
  const uint64_t t = now();
  const uint64_t delay = p.next_dial_ns > t ? p.next_dial_ns - t : 0;
  p.retry_timer = add_timer(nanoseconds(delay), [this, index] {
                    Peer& q = peer(index);
                    q.retry_timer = 0;
                    if (q.state == Peer::State::kDown && !stopped_ && (watching_ || !q.waiting.empty())) dial(index);
                  }).value_or(0);
}

void Messenger::dial(std::size_t index) {
  Peer& p = peer(index);
  p.state = Peer::State::kDialing;
  const uint64_t generation = ++p.generation;
  root_.config_.dial(root_.config().members[index].address).on_result(
      [this, index, generation](Result<net::Connection>&& r) {
        Peer& q = peer(index);
        if (q.generation != generation) {
          if (r) r->abort();
          return;
        }
        if (!r) {
          ++counters_.connect_failures;
          lost(index, r.error());
          return;
        }
        connected(index, std::move(*r));
      });
}

void Messenger::connected(std::size_t index, net::Connection connection) {
  Peer& p = peer(index);
  if (stopped_) {
    connection.abort();
    return;
  }
  ++counters_.connects;
  p.state = Peer::State::kUp;
  p.connection = connection;
  p.decoder = FrameDecoder(root_.config().limits);
  p.last_heard_ns = p.last_sent_ns = now();
  p.heartbeat_out = false;
  p.introduced = false;
  const uint64_t generation = p.generation;
  connection.on_receive([this, index, generation](net::IOBuf bytes) {
    Peer& q = peer(index);
    if (q.generation != generation) return;
    Status fed = q.decoder.feed(std::move(bytes), [&](Frame f) {
      if (q.generation == generation) on_outbound_frame(index, std::move(f));
    });
    if (!fed && q.generation == generation) {
      ++counters_.framing_errors;
      lost(index, fed.error());
    }
  });
  connection.on_writable([this, index, generation] {
    if (peer(index).generation == generation) wake_writers(index);
  });
  connection.on_close([this, index, generation](const Status& why) {
    if (peer(index).generation != generation) return;
    lost(index, why ? Error(Errc::kUnreachable, "messenger: the node closed the connection")
                    : Error(Errc::kUnreachable, "messenger: the connection to the node was lost", why.error().code() == Errc::kSystem ? why.error().sys_errno() : -1));
  });

  // Introduce this node, then whatever waited for the connection.
  net::IOBuf hello = buffer_for(kHelloBytes);
  if (uint8_t* h = hello.push_back(kHelloBytes)) {
    store16(h, self());
    store64(h + 2, root_.incarnation());
    store32(h + 10, root_.members_digest_);
  }
  FrameHeader header{.type = kTypeHello, .type_version = 1, .source = self(),
                     .destination = root_.config().members[index].id, .request_id = next_request_id()};
  if (Result<net::IOBuf> frame = encode_frame(header, std::move(hello))) (void)connection.send(std::move(*frame));
  for (net::IOBuf& frame : p.waiting) (void)connection.send(std::move(frame));
  p.waiting.clear();
  p.waiting_bytes = 0;
  start_heartbeats();  // every core that talks to a peer watches its own connection
}

void Messenger::lost(std::size_t index, const Error& why) {
  Peer& p = peer(index);
  const bool was_up = p.state == Peer::State::kUp;
  ++p.generation;
  p.state = Peer::State::kDown;
  if (p.connection) {
    if (!p.connection.closed()) p.connection.abort();
    p.connection = {};
  }
  if (was_up) ++counters_.peer_losses;
  if (watching_) {  // core 0 keeps the view; other cores' connections come and go
    root_.reachable_[index].store(false, std::memory_order_relaxed);
    root_.known_[index].store(true, std::memory_order_relaxed);
  }
  // Back off: a peer that keeps failing is dialed less and less often.
  const auto& config = root_.config();
  p.backoff = p.introduced ? config.reconnect_min : std::min(config.reconnect_max, std::max(config.reconnect_min, p.backoff * 2));
  p.introduced = false;
  p.next_dial_ns = now() + ns(p.backoff);
  // Whatever waited on this peer fails now.
  p.waiting.clear();
  p.waiting_bytes = 0;
  p.batch.frames.clear();
  std::vector<uint64_t> failed;
  for (const auto& [id, pending] : pending_)
    if (pending.peer == index) failed.push_back(id);
  for (uint64_t id : failed) finish_call(id, Error(why.code() == Errc::kTimedOut ? Errc::kTimedOut : Errc::kUnreachable, why.message(), why.value()), true);
  wake_writers(index);
  if (watching_ && !stopped_) schedule_redial(index);
}

void Messenger::peer_announced(std::size_t index) {
  Peer& p = peer(index);
  if (stopped_ || p.state == Peer::State::kUp) return;
  if (p.state == Peer::State::kDown && !watching_ && p.waiting.empty()) {
    // Not in use on this core: the next send dials at once.
    p.backoff = std::chrono::milliseconds{0};
    p.next_dial_ns = 0;
    return;
  }
  if (p.retry_timer != 0) cancel_timer(p.retry_timer);
  p.retry_timer = 0;
  p.backoff = std::chrono::milliseconds{0};
  p.next_dial_ns = 0;
  dial(index);  // a dial still pending is abandoned (its generation is old)
}

void Messenger::wake_writers(std::size_t index) {
  std::vector<Promise<void>> waiters = std::move(peer(index).writable_waiters);
  for (Promise<void>& w : waiters) w.set_value();
}

void Messenger::on_outbound_frame(std::size_t index, Frame&& frame) {
  Peer& p = peer(index);
  ++counters_.frames_received;
  p.last_heard_ns = now();
  if ((frame.header.flags & kFlagResponse) == 0) {
    // Peers send requests on the connections they dialed, never on ours.
    ++counters_.framing_errors;
    lost(index, Error(Errc::kInvalidArgument, "messenger: the node sent a request on a connection it did not dial"));
    return;
  }
  if (frame.header.type == kTypeHello) {
    const NodeId expected = root_.config().members[index].id;
    if ((frame.header.flags & kFlagError) != 0 || frame.header.source != expected) {
      ++counters_.refused_peers;
      const Error why = (frame.header.flags & kFlagError) != 0
                            ? error_from(frame)
                            : Error(Errc::kInvalidArgument, "messenger: another node answered at the member's address",
                                    frame.header.source);
      char text[kErrorTextSize];
      log_warn("messenger: node %u: %s", expected, why.describe(text, sizeof text));
      lost(index, why);
      return;
    }
    p.introduced = true;
    p.backoff = std::chrono::milliseconds{0};
    if (watching_) {
      root_.reachable_[index].store(true, std::memory_order_relaxed);
      root_.known_[index].store(true, std::memory_order_relaxed);
    }
    return;
  }
  if (frame.header.type == kTypeHeartbeat) {
    p.heartbeat_out = false;
    if (watching_ && p.introduced) root_.reachable_[index].store(true, std::memory_order_relaxed);
    return;
  }
  if (pending_.count(frame.header.request_id) == 0) {
    ++counters_.late_responses;  // timed out already, or never asked
    return;
  }
  ++counters_.responses;
  if ((frame.header.flags & kFlagError) != 0) finish_call(frame.header.request_id, error_from(frame), true);
  else finish_call(frame.header.request_id, std::move(frame.payload), true);
}

void Messenger::finish_call(uint64_t request_id, Result<net::IOBuf> result, bool cancel) {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (cancel && p.timer != 0) cancel_timer(p.timer);
  if (!result) ++counters_.failed_calls;
  p.promise.set_result(std::move(result));
}

// ---- heartbeats and watching ----

void Messenger::watch_peers() {
  if (watching_) return;
  watching_ = true;
  for (std::size_t i = 0; i < peers_.size(); ++i)
    if (root_.config().members[i].id != self() && peer(i).state == Peer::State::kDown) dial(i);
  start_heartbeats();
}

void Messenger::start_heartbeats() {
  if (heartbeat_timer_ != 0 || stopped_) return;
  heartbeat_timer_ = add_periodic_timer(root_.config().heartbeat_interval / 2, [this] { heartbeat(); }).value_or(0);
}

void Messenger::heartbeat() {
  const auto& config = root_.config();
  const uint64_t t = now();
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    Peer& p = peer(i);
    if (p.state != Peer::State::kUp) continue;
    if (t - p.last_heard_ns > ns(config.peer_dead_after)) {
      log_warn("messenger: node %u stopped answering; dropping its connection", config.members[i].id);
      lost(i, Error(Errc::kTimedOut, "messenger: the node stopped answering", config.members[i].id));
      continue;
    }
    const bool quiet = t - p.last_heard_ns >= ns(config.heartbeat_interval) ||
                       t - p.last_sent_ns >= ns(config.heartbeat_interval);
    if (quiet && !p.heartbeat_out) {
      FrameHeader header{.type = kTypeHeartbeat, .type_version = 1, .source = self(),
                         .destination = config.members[i].id, .request_id = next_request_id()};
      if (Result<net::IOBuf> frame = encode_frame(header, net::IOBuf{})) {
        p.heartbeat_out = true;
        p.last_sent_ns = t;
        ++counters_.heartbeats;
        (void)p.connection.send(std::move(*frame));
      }
    }
  }
}

void Messenger::shut() {
  stopped_ = true;
  if (heartbeat_timer_ != 0) cancel_timer(heartbeat_timer_);
  heartbeat_timer_ = 0;
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    Peer& p = peer(i);
    if (p.retry_timer != 0) cancel_timer(p.retry_timer);
    p.retry_timer = 0;
    lost(i, Error(Errc::kShuttingDown, "messenger: stopped"));
  }
  std::vector<std::shared_ptr<Inbound>> inbound = std::move(inbound_);
  for (auto& in : inbound)
    if (!in->connection.closed()) in->connection.abort();
}

// ---- connections peers dialed ----

void Messenger::accept(net::Connection connection) {
  if (stopped_) {
    connection.abort();
    return;
  }
  auto in = std::make_shared<Inbound>();
  in->connection = connection;
  in->decoder = FrameDecoder(root_.config().limits);
  inbound_.push_back(in);
  Inbound* raw = in.get();
  connection.on_receive([this, raw](net::IOBuf bytes) {
    std::shared_ptr<Inbound> self_ref = find_inbound(raw);
    if (!self_ref) return;
    Status fed = raw->decoder.feed(std::move(bytes), [&](Frame f) {
      if (!raw->connection.closed()) on_inbound_frame(self_ref, std::move(f));
    });
    if (!fed) {
      ++counters_.framing_errors;
      char text[kErrorTextSize];
      log_warn("messenger: closing a connection from %s: %s", raw->connection.peer().to_string().c_str(),
               fed.error().describe(text, sizeof text));
      raw->connection.abort();
    }
  });
  connection.on_writable([this, raw] {
    if (std::shared_ptr<Inbound> in = find_inbound(raw)) in->update_reading();
  });
  connection.on_close([this, raw](const Status&) {
    std::erase_if(inbound_, [raw](const std::shared_ptr<Inbound>& in) { return in.get() == raw; });
  });
}

std::shared_ptr<Inbound> Messenger::find_inbound(const Inbound* raw) const {
  for (const auto& in : inbound_)
    if (in.get() == raw) return in;
  return nullptr;
}

void Messenger::refuse(const std::shared_ptr<Inbound>& in, const FrameHeader& request, Refusal refusal,
                       const Error& error) {
  if (request.request_id == 0) return;  // one-way: nobody to tell
  FrameHeader header = request;
  header.flags = kFlagResponse | kFlagError;
  header.source = self();
  header.destination = request.source;
  if (Result<net::IOBuf> frame = encode_frame(header, error_payload(refusal, error)))
    (void)in->connection.send(std::move(*frame));
}

void Messenger::on_inbound_frame(const std::shared_ptr<Inbound>& in, Frame&& frame) {
  ++counters_.frames_received;
  const FrameHeader& h = frame.header;
  if (in->node == kNoNode) {
    // The first frame must introduce a member of this cluster, from its address.
    const Member* m = root_.member(h.source);
    uint8_t p[kHelloBytes];
    const bool ok = h.type == kTypeHello && (h.flags & kFlagResponse) == 0 && frame.payload.length() == kHelloBytes &&
                    frame.payload.copy_out(0, p, sizeof p) && m != nullptr && h.source != self() &&
                    load16(p) == h.source && load32(p + 10) == root_.members_digest_ &&
                    (in->connection.peer().ip == m->address.ip);
    if (!ok) {
      ++counters_.refused_peers;
      log_warn("messenger: refusing a connection from %s that claims to be node %u (not a member, a wrong address, "
               "or another cluster's configuration)",
               in->connection.peer().to_string().c_str(), h.source);
      refuse(in, h, Refusal::kNotAMember, Error(Errc::kInvalidArgument, "not a member"));
      in->connection.close();
      return;
    }
    in->node = h.source;
    FrameHeader answer{.flags = kFlagResponse, .type = kTypeHello, .type_version = 1, .source = self(),
                       .destination = h.source, .request_id = h.request_id};
    if (Result<net::IOBuf> out = encode_frame(answer, net::IOBuf{})) (void)in->connection.send(std::move(*out));
    // The peer is alive: every core that waits out a backoff (or a dial
    // into the silence of its former self) dials it again now, so that
    // this node's view of it catches up with its view of this node.
    const EbbId messenger = root_.id();
    const std::size_t index = index_of(h.source);
    (void)spawn_on_all([messenger, index] { Ref<Messenger>(messenger)->peer_announced(index); });
    return;
  }
  if ((h.flags & kFlagResponse) != 0 || h.source != in->node) {
    ++counters_.framing_errors;
    log_warn("messenger: node %u sent a response, or another node's frame, on the connection it dialed; closing it",
             in->node);
    in->connection.abort();
    return;
  }
  if (h.type == kTypeHeartbeat) {
    FrameHeader answer = h;
    answer.flags = kFlagResponse;
    answer.source = self();
    answer.destination = h.source;
    if (Result<net::IOBuf> out = encode_frame(answer, net::IOBuf{})) (void)in->connection.send(std::move(*out));
    return;
  }
  Responder responder;
  if (h.request_id != 0) {
    responder.inbound_ = in;
    responder.request_ = h;
    responder.request_id_ = h.request_id;
    responder.messenger_ = this;
    ++in->unanswered;
    in->update_reading();
  }
  dispatch(std::move(frame), std::move(responder));
}

void Messenger::refresh_registry() {
  const uint64_t version = root_.registry_version_.load(std::memory_order_acquire);
  if (version == registry_version_) return;
  registry_ = root_.registry();
  registry_version_ = version;
}

void Messenger::dispatch(Frame&& frame, Responder responder) {
  refresh_registry();
  const FrameHeader h = frame.header;
  Status known = registry_->types.check(h);
  if (!known) {
    ++counters_.unknown_type;
    const bool unknown = registry_->types.find(h.type) == nullptr;
    responder.refuse(unknown ? Refusal::kUnknownType : Refusal::kUnsupportedVersion,
                     Error(Errc::kInvalidArgument, "", unknown ? h.type : h.type_version));
    return;
  }
  for (const auto& [ebb, handler] : registry_->handlers) {
    if (ebb == h.ebb) {
      handler.fn(handler.context, std::move(frame), std::move(responder));
      return;
    }
  }
  ++counters_.unknown_ebb;
  responder.refuse(Refusal::kUnknownEbb, Error(Errc::kNoSuchEbb, "", h.ebb));
}

// ---- Responder ----

Responder::Responder(Responder&& other) noexcept { *this = std::move(other); }

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this == &other) return *this;
  if (wants_answer()) refuse(Refusal::kUnanswered, Error(Errc::kBrokenPromise, ""));
  inbound_ = std::move(other.inbound_);
  local_ = std::move(other.local_);
  other.local_.reset();
  request_ = other.request_;
  request_id_ = other.request_id_;
  messenger_ = other.messenger_;
  other.request_id_ = 0;
  return *this;
}

Responder::~Responder() {
  if (wants_answer()) refuse(Refusal::kUnanswered, Error(Errc::kBrokenPromise, ""));
}

void Responder::respond(net::IOBuf payload) { answer(0, std::move(payload)); }

void Responder::fail(const Error& error) { refuse(Refusal::kHandlerFailed, error); }

void Responder::refuse(Refusal refusal, const Error& error) {
  if (!wants_answer()) return;
  if (local_) {
    FrameHeader h = request_;
    h.flags = kFlagResponse | kFlagError;
    request_id_ = 0;
    Frame frame{h, error_payload(refusal, error)};
    local_->set_error(error_from(frame));
    local_.reset();
    return;
  }
  answer(kFlagError, error_payload(refusal, error));
}

void Responder::answer(uint8_t flags, net::IOBuf payload) {
  if (!wants_answer()) return;
  request_id_ = 0;
  if (local_) {
    local_->set_value(std::move(payload));
    local_.reset();
    return;
  }
  std::shared_ptr<Inbound> in = std::move(inbound_);
  --in->unanswered;
  if (in->connection.closed()) return;  // the caller is gone; its calls failed there
  FrameHeader header = request_;
  header.flags = static_cast<uint8_t>(kFlagResponse | flags);
  header.source = request_.destination;
  header.destination = request_.source;
  if (Result<net::IOBuf> frame = encode_frame(header, std::move(payload))) {
    ++messenger_->counters_.frames_sent;
    in->queue_response(std::move(*frame), in, &messenger_->counters_);
  }
  in->update_reading();
}

}  // namespace ebb::messenger
