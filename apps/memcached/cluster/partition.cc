#include "apps/memcached/cluster/partition.h"

#include <cstring>
#include <vector>

#include "apps/memcached/protocol/ascii.h"
#include "apps/memcached/protocol/binary.h"
#include "apps/memcached/protocol/meta.h"
#include "apps/memcached/server/session.h"
#include "runtime/bytes.h"
#include "runtime/log.h"
#include "runtime/platform.h"
#include "runtime/spawn.h"
#include "runtime/stats.h"
#include "runtime/timer.h"

namespace ebb::memcached {
namespace {

using messenger::NodeId;
using net::IOBuf;
using std::string_view;

constexpr string_view kServerError = "SERVER_ERROR cluster: the key's node cannot be reached\r\n";
constexpr string_view kEnd = "END\r\n";

// The words of a command line, one at a time (memcached splits on spaces).
class WordReader {
 public:
  explicit WordReader(string_view line) : line_(line) {}
  string_view next() {
    while (pos_ < line_.size() && line_[pos_] == ' ') ++pos_;
    const std::size_t start = pos_;
    while (pos_ < line_.size() && line_[pos_] != ' ') ++pos_;
    return line_.substr(start, pos_ - start);
  }
  string_view rest() const { return line_.substr(pos_); }

 private:
  string_view line_;
  std::size_t pos_ = 0;
};

// A decimal length, or -1 when the word is not one (the handler refuses it).
int64_t length_word(string_view w) {
  if (w.empty() || w.size() > 10) return -1;
  int64_t v = 0;
  for (char c : w) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool ends_with_noreply(string_view line) {
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  return line.size() >= 7 && line.substr(line.size() - 7) == "noreply";
}

// Binary protocol: opcodes whose reply on failure is a miss, and the quiet
// ones (no reply for a miss).
bool binary_is_get(uint8_t op) {
  return op == 0x00 || op == 0x09 || op == 0x0c || op == 0x0d || op == 0x1d || op == 0x1e || op == 0x23 ||
         op == 0x24;
}
bool binary_is_quiet_get(uint8_t op) { return op == 0x09 || op == 0x0d || op == 0x1e || op == 0x24; }

// A binary response with `status` and a short message, for `request`.
std::string binary_failure(const uint8_t* request, uint16_t status, string_view message) {
  std::string out(24 + message.size(), '\0');
  auto* h = reinterpret_cast<uint8_t*>(out.data());
  h[0] = 0x81;
  h[1] = request[1];
  store16(h + 6, status);
  store32(h + 8, static_cast<uint32_t>(message.size()));
  std::memcpy(h + 12, request + 12, 4);  // the opaque
  std::memcpy(h + 24, message.data(), message.size());
  return out;
}

}  // namespace

namespace {
std::vector<NodeId> member_ids(Ref<messenger::Messenger> messenger) {
  std::vector<NodeId> ids;
  for (const messenger::Member& m : messenger->root().config().members) ids.push_back(m.id);
  return ids;
}
}  // namespace

PartitionRoot::PartitionRoot(Ref<messenger::Messenger> messenger, EbbId cluster_id, Server& server,
                             std::chrono::nanoseconds settle)
    : DistributedRoot<Partition>(messenger, cluster_id),
      server_(server),
      ring_(member_ids(messenger)),
      members_(member_ids(messenger)),
      settle_ns_(static_cast<uint64_t>(settle.count())),
      changed_ns_(new std::atomic<uint64_t>[members_.size()]) {
  for (uint32_t i = 0; i < members_.size(); ++i) {
    if (members_[i] == messenger->self()) self_index_ = i;
    changed_ns_[i].store(0, std::memory_order_relaxed);
  }
  view_.store(uint64_t{1} << self_index_, std::memory_order_relaxed);
}

Result<Ref<Partition>> Partition::CreateOnNode(Ref<messenger::Messenger> messenger, Server& server,
                                               std::chrono::nanoseconds settle) {
  if (messenger->root().config().members.size() > Ring::kMaxMembers)
    return Error(Errc::kInvalidArgument, "memcached: a cluster of more than 64 nodes", 64);
  for (const messenger::MessageType& t : {messenger::MessageType{.id = kTypeRequest, .name = "memcached.request"},
                                          messenger::MessageType{.id = kTypeJoin, .name = "memcached.join"}}) {
    Status typed = messenger->root().add_type(t);
    if (!typed) return typed.error();
  }
  Result<Ref<Partition>> made = DistributedEbb::CreateOnNode(messenger, kClusterId, server, settle);
  if (!made) return made.error();
  // Core 0 watches the view, often enough that a node that came back finds
  // no stale copies of its keys elsewhere by the time it could die again.
  const EbbId id = made->id();
  Status watching = spawn_remote(0, [id] {
    (void)add_periodic_timer(std::chrono::milliseconds(20), [id] { Ref<Partition>(id)->watch_view(); });
  });
  if (!watching) return watching.error();
  return *made;
}

Placement Partition::place(string_view key) const {
  const PartitionRoot& r = root();
  const uint64_t up = r.view_.load(std::memory_order_relaxed);
  const uint64_t all = up | r.unknown_.load(std::memory_order_relaxed);
  const uint32_t h = Ring::hash(key);
  const uint32_t owner = r.ring_.owner(h, up);
  Placement p{.owner = owner == Ring::kNone ? messenger::kNoNode : r.members_[owner], .settled = true};
  // A member not yet reached nor failed could be the owner.
  if (all != up && r.ring_.owner(h, all) != owner) {
    p.settled = false;
    return p;
  }
  // An owner changed by a death or return within the settling time: other
  // nodes may not have seen it yet.
  const uint64_t now = platform::now_ns();
  uint64_t recent = 0;
  for (uint32_t i = 0; i < r.members_.size(); ++i)
    if (now - r.changed_ns_[i].load(std::memory_order_relaxed) < r.settle_ns_) recent |= uint64_t{1} << i;
  if (recent != 0 && r.ring_.owner(h, up ^ recent) != owner) {
    p.settled = false;
    return p;
  }
  // This node's key: only once whoever would hold it otherwise has let go.
  if (owner == r.self_index_) {
    const uint32_t interim = r.ring_.owner(h, all & ~(uint64_t{1} << r.self_index_));
    if (interim != Ring::kNone && ((r.joined_.load(std::memory_order_acquire) >> interim) & 1) == 0)
      p.settled = false;
  }
  return p;
}

Route Partition::route(const uint8_t* data, std::size_t length, bool binary, bool from_peer) {
  return binary ? route_binary(data, length, from_peer)
                : route_ascii(reinterpret_cast<const char*>(data), length, from_peer);
}

Route Partition::route_ascii(const char* data, std::size_t length, bool from_peer) {
  const void* newline = std::memchr(data, '\n', length < ascii::kMaxGetLine ? length : ascii::kMaxGetLine);
  if (newline == nullptr) return {};  // the handler waits for the line (or refuses it)
  const std::size_t line_bytes = static_cast<std::size_t>(static_cast<const char*>(newline) - data) + 1;
  string_view line(data, line_bytes - 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  WordReader words(line);
  const string_view command = words.next();
  const NodeId self = self_node();

  if (command == "flush_all") return route_to_all(data, line_bytes, from_peer);
  if (command == "get" || command == "gets")
    return route_multi_get(command, {}, words.rest(), line_bytes, from_peer);
  if (command == "gat" || command == "gats") {
    const string_view exptime = words.next();
    return route_multi_get(command, exptime, words.rest(), line_bytes, from_peer);
  }

  string_view key = words.next();
  if (key.empty() || key.size() > kMaxKeyLength) return {};
  std::size_t total = line_bytes;
  bool silent = false;
  char decoded[kMaxKeyLength];
  if (command == "set" || command == "add" || command == "replace" || command == "append" ||
      command == "prepend" || command == "cas") {
    (void)words.next();  // flags
    (void)words.next();  // exptime
    const int64_t bytes = length_word(words.next());
    if (bytes < 0 || static_cast<std::size_t>(bytes) > root().server().settings.item_size_max) return {};
    total += static_cast<std::size_t>(bytes) + 2;
    silent = ends_with_noreply(line);
  } else if (command == "delete" || command == "incr" || command == "decr" || command == "touch") {
    silent = ends_with_noreply(line);
  } else if (command == "mg" || command == "md" || command == "ma" || command == "ms" || command == "me") {
    if (command == "ms") {
      const int64_t bytes = length_word(words.next());
      if (bytes < 0 || static_cast<std::size_t>(bytes) > root().server().settings.item_size_max) return {};
      total += static_cast<std::size_t>(bytes) + 2;
    }
    // A base64 key (the b flag) lives where its bytes hash.
    for (string_view flag = words.next(); !flag.empty(); flag = words.next()) {
      if (flag == "b") {
        const std::size_t n = meta::base64_decode(key, decoded);
        if (n == 0) return {};  // the handler refuses it
        key = string_view(decoded, n);
        break;
      }
    }
  } else {
    return {};  // no key: this node answers
  }
  const Placement place = this->place(key);
  if (place.settled && place.owner == self) return {};
  if (from_peer) return {.kind = Route::Kind::kRefuse};
  if (length < total) return {.kind = Route::Kind::kNeedMore, .need = total};
  const string_view failure = silent ? string_view{} : kServerError;
  Route r{.kind = Route::Kind::kRemote, .consumed = total};
  r.reply = place.settled ? run_on(place.owner, data, total, failure) : unsettled(failure);
  return r;
}

Route Partition::route_multi_get(string_view command, string_view exptime, string_view keys, std::size_t consumed,
                                 bool from_peer) {
  const NodeId self = self_node();
  // Most gets are of keys this node owns: look before building anything.
  bool all_here = true;
  std::size_t count = 0;
  WordReader scan(keys);
  for (string_view key = scan.next(); !key.empty(); key = scan.next(), ++count) {
    if (key.size() > kMaxKeyLength) return {};  // the handler refuses the line
    if (all_here) {
      const Placement p = place(key);
      all_here = p.settled && p.owner == self;
    }
  }
  if (all_here || count == 0) return {};
  if (from_peer) return {.kind = Route::Kind::kRefuse};
  std::vector<Future<IOBuf>> pieces;
  pieces.reserve(count);
  WordReader each(keys);
  std::string one;
  for (string_view key = each.next(); !key.empty(); key = each.next()) {
    one.assign(command);
    if (!exptime.empty()) one.append(" ").append(exptime);
    one.append(" ").append(key).append("\r\n");
    // A piece is its VALUE block (if any) and END; a node that cannot be
    // reached, or a key whose owner is changing, gives a miss.
    const Placement p = place(key);
    pieces.push_back(p.settled ? run_on(p.owner, one.data(), one.size(), kEnd) : unsettled(kEnd));
  }
  Route r{.kind = Route::Kind::kRemote, .consumed = consumed};
  r.reply = when_all(std::move(pieces)).then([](std::vector<Result<IOBuf>> results) {
    IOBuf all;
    for (Result<IOBuf>& piece : results) {
      if (!piece) continue;
      if (piece->length() >= kEnd.size()) piece->trim_back(kEnd.size());
      all.append(std::move(*piece));
    }
    (void)all.append_copy(kEnd);
    return all;
  });
  return r;
}

Route Partition::route_to_all(const void* request, std::size_t length, bool from_peer) {
  if (from_peer) return {};  // the sender asked every node itself
  // This node's reply is the client's; the others run the request too, and
  // one that cannot be reached has nothing to flush that anyone can read.
  std::vector<Future<IOBuf>> all;
  all.push_back(run_on(self_node(), request, length, {}));
  // Every member in this node's view (the one routing uses), itself first.
  const PartitionRoot& pr = root();
  const uint64_t up = pr.view_.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < pr.members_.size(); ++i)
    if (i != pr.self_index_ && ((up >> i) & 1) != 0) all.push_back(run_on(pr.members_[i], request, length, {}));
  Route r{.kind = Route::Kind::kRemote, .consumed = length};
  r.reply = when_all(std::move(all)).then([](std::vector<Result<IOBuf>> replies) {
    return replies[0] ? std::move(*replies[0]) : IOBuf{};
  });
  return r;
}

Route Partition::route_binary(const uint8_t* data, std::size_t length, bool from_peer) {
  constexpr std::size_t kHeader = 24;
  if (length < kHeader || data[0] != 0x80) return {};
  const uint8_t op = data[1];
  const uint16_t key_length = load16(data + 2);
  const uint8_t extras = data[4];
  const uint32_t body = load32(data + 8);
  if (op == 0x08 || op == 0x18) {  // flush, flushq: every node
    if (length < kHeader + body) return {.kind = Route::Kind::kNeedMore, .need = kHeader + body};
    return route_to_all(data, kHeader + body, from_peer);
  }
  // stat's key is a stats group, and SASL's a mechanism: this node answers.
  if (key_length == 0 || op == 0x10 || (op >= 0x20 && op <= 0x22)) return {};
  if (key_length > kMaxKeyLength || extras + key_length > body ||
      body > root().server().settings.item_size_max + 1024)
    return {};
  const std::size_t total = kHeader + body;
  if (length < kHeader + extras + key_length) return {.kind = Route::Kind::kNeedMore, .need = total};
  const string_view key(reinterpret_cast<const char*>(data) + kHeader + extras, key_length);
  const Placement place = this->place(key);
  if (place.settled && place.owner == self_node()) return {};
  if (from_peer) return {.kind = Route::Kind::kRefuse};
  if (length < total) return {.kind = Route::Kind::kNeedMore, .need = total};
  std::string failure;
  if (binary_is_get(op)) {
    if (!binary_is_quiet_get(op)) failure = binary_failure(data, 0x0001, "Not found");
  } else {
    failure = binary_failure(data, 0x0086, "cluster: the key's node cannot be reached");
  }
  Route r{.kind = Route::Kind::kRemote, .consumed = total};
  r.reply = place.settled ? run_on(place.owner, data, total, failure) : unsettled(failure);
  return r;
}

Future<IOBuf> Partition::unsettled(string_view reply) {
  bump_counter(counters_.unsettled);
  IOBuf out;
  (void)out.append_copy(reply);
  return make_ready_future(std::move(out));
}

Future<IOBuf> Partition::run_on(NodeId node, const void* request, std::size_t length, string_view on_failure) {
  if (node == self_node()) return make_ready_future(run_here(static_cast<const uint8_t*>(request), length));
  bump_counter(counters_.forwarded);
  Result<IOBuf> payload = IOBuf::CopyOf(request, length, messenger::kFrameHeaderBytes);
  Future<IOBuf> answer = payload ? call(node, kTypeRequest, 1, std::move(*payload))
                                 : make_failed_future<IOBuf>(payload.error());
  Partition* self = this;  // this core's rep: the answer comes back on this core
  return std::move(answer).then([self, failure = std::string(on_failure)](Result<IOBuf>&& r) -> IOBuf {
    if (r) return std::move(*r);
    bump_counter(self->counters_.failed);
    IOBuf out;
    (void)out.append_copy(failure);
    return out;
  });
}

IOBuf Partition::run_here(const uint8_t* request, std::size_t length) {
  // A session of its own that runs this one request against this node's
  // store (never routed again: the sender decided).
  Session session(root().server(), this_core());
  IOBuf out;
  Session::Outcome outcome = session.receive(request, length, out);
  while (outcome == Session::Outcome::kPaused) outcome = session.resume(out);
  return out;
}

void Partition::on_message(messenger::Frame&& frame, messenger::Responder responder) {
  if (frame.header.type == kTypeJoin) {
    on_join(frame, std::move(responder));
    return;
  }
  const std::size_t n = frame.payload.length();
  Result<const uint8_t*> bytes = frame.payload.gather(n);
  if (!bytes || n == 0) {
    responder.fail(bytes ? Error(Errc::kInvalidArgument, "memcached: an empty request") : bytes.error());
    return;
  }
  // The sender's view made this node the key's owner; this node's own view
  // decides (the sender turns a refusal into a miss or SERVER_ERROR).
  const Route route = this->route(*bytes, n, (*bytes)[0] == 0x80, /*from_peer=*/true);
  if (route.kind != Route::Kind::kLocal) {
    bump_counter(counters_.refused);
    responder.fail(Error(Errc::kInvalidArgument, "memcached: this node does not own the key"));
    return;
  }
  bump_counter(counters_.served_for_peers);
  responder.respond(run_here(*bytes, n));
}

namespace {
// Drops the items whose owner, with the members `changed` present, is one
// of them: a newcomer's keys, or what is left of a departed member's.
struct DropContext {
  const Ring* ring;
  uint64_t with;
  uint64_t changed;
};
bool keep_unless_changed_owner(void* context, string_view key) {
  const auto* c = static_cast<const DropContext*>(context);
  const uint32_t owner = c->ring->owner(Ring::hash(key), c->with);
  return owner == Ring::kNone || ((c->changed >> owner) & 1) == 0;
}
}  // namespace

ClusterStats Partition::stats() const {
  const PartitionRoot& r = root();
  ClusterStats s;
  s.node = self_node();
  const uint64_t up = r.view_.load(std::memory_order_relaxed);
  const uint64_t unknown = r.unknown_.load(std::memory_order_relaxed);
  const uint64_t joined = r.joined_.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < r.members_.size(); ++i) {
    const char* state = i == r.self_index_ ? "self" : (up >> i) & 1 ? "up" : (unknown >> i) & 1 ? "unknown" : "down";
    s.members.push_back({r.members_[i], state, ((joined >> i) & 1) != 0});
  }
  r.for_each_rep([&s](CoreId, const Partition& rep) {
    const PartitionCounters& c = rep.counters_;
    s.forwarded += c.forwarded.load(std::memory_order_relaxed);
    s.served_for_peers += c.served_for_peers.load(std::memory_order_relaxed);
    s.failed += c.failed.load(std::memory_order_relaxed);
    s.refused += c.refused.load(std::memory_order_relaxed);
    s.dropped += c.dropped.load(std::memory_order_relaxed);
    s.unsettled += c.unsettled.load(std::memory_order_relaxed);
  });
  return s;
}

void Partition::watch_view() {
  PartitionRoot& r = root();
  const messenger::MessengerRoot& m = messenger().root();
  const uint64_t self_bit = uint64_t{1} << r.self_index_;
  uint64_t up = self_bit, unknown = 0;
  for (uint32_t i = 0; i < r.members_.size(); ++i) {
    if (i == r.self_index_) continue;
    if (m.reachable(r.members_[i])) up |= uint64_t{1} << i;
    else if (!m.known(r.members_[i])) unknown |= uint64_t{1} << i;
  }
  r.unknown_.store(unknown, std::memory_order_relaxed);
  const uint64_t before = r.view_.load(std::memory_order_relaxed);
  const uint64_t now = platform::now_ns();
  if (up != before) {
    const uint64_t changed = up ^ before;
    for (uint32_t i = 0; i < r.members_.size(); ++i)
      if ((changed >> i) & 1) r.changed_ns_[i].store(now, std::memory_order_relaxed);
    // Those that left must join again (their view of this node is unknown).
    r.joined_.fetch_and(~(changed & ~up), std::memory_order_acq_rel);
    r.view_.store(up, std::memory_order_relaxed);
    DropContext drop{&r.ring_, up | changed, changed};
    bump_counter(counters_.dropped, r.server().store.table().remove_unless(&keep_unless_changed_owner, &drop));
  }
  // Every reachable member that has not joined this node is asked to (it
  // answers once its own view holds this node).
  const uint64_t waiting = up & ~self_bit & ~r.joined_.load(std::memory_order_acquire) & ~r.joining_;
  for (uint32_t i = 0; i < r.members_.size(); ++i) {
    if (((waiting >> i) & 1) == 0) continue;
    r.joining_ |= uint64_t{1} << i;
    Result<IOBuf> payload = IOBuf::Create(1, messenger::kFrameHeaderBytes);
    if (!payload) continue;
    *payload->push_back(1) = ((r.ever_seen_ >> i) & 1) != 0 && ((before >> i) & 1) == 0 ? 1 : 0;
    const uint64_t bit = uint64_t{1} << i;
    PartitionRoot* root_ptr = &r;
    call(r.members_[i], kTypeJoin, 1, std::move(*payload)).on_result([root_ptr, bit](Result<IOBuf>&& answer) {
      root_ptr->joining_ &= ~bit;
      if (answer && (root_ptr->view_.load(std::memory_order_relaxed) & bit) != 0)
        root_ptr->joined_.fetch_or(bit, std::memory_order_acq_rel);
    });
  }
  r.ever_seen_ |= up;
  bool quiet = true;  // no change within the settling time
  for (uint32_t i = 0; i < r.members_.size(); ++i)
    quiet = quiet && now - r.changed_ns_[i].load(std::memory_order_relaxed) >= r.settle_ns_;
  if (!r.settled_said_ && quiet && unknown == 0 && (up & ~self_bit & ~r.joined_.load(std::memory_order_acquire)) == 0) {
    r.settled_said_ = true;
    log_info("memcached: cluster view settled: %d of %zu nodes reachable", __builtin_popcountll(up),
             r.members_.size());
  }
}

void Partition::on_join(const messenger::Frame& frame, messenger::Responder responder) {
  PartitionRoot& r = root();
  uint32_t index = 0;
  while (index < r.members_.size() && r.members_[index] != frame.header.source) ++index;
  const uint64_t bit = uint64_t{1} << index;
  // Not yet: this node must see the sender (and have dropped its keys) first.
  if (index == r.members_.size() || (r.view_.load(std::memory_order_relaxed) & bit) == 0) {
    responder.fail(Error(Errc::kUnreachable, "memcached: this node does not see the sender yet"));
    return;
  }
  uint8_t lost_sight = 0;
  (void)frame.payload.copy_out(0, &lost_sight, 1);
  if (lost_sight != 0) {
    // The sender had lost sight of this node: what it holds may be older
    // than what others served meanwhile.
    Store& store = r.server().store;
    store.table().flush(0, store.clock().now());
    log_warn("memcached: node %u had lost sight of this node: items dropped", frame.header.source);
  }
  // The sender sees this node and holds none of its keys.
  r.joined_.fetch_or(bit, std::memory_order_acq_rel);
  responder.respond({});
}


}  // namespace ebb::memcached
