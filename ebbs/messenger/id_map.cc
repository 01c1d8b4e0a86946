#include "ebbs/messenger/id_map.h"

#include <algorithm>
#include <mutex>

#include "runtime/bytes.h"
#include "runtime/hash.h"

namespace ebb::messenger {
namespace {

uint32_t name_hash(std::string_view name) { return fnv1a(name); }

Status check_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes)
    return Error(Errc::kInvalidArgument, "id map: a name must have 1 to 200 bytes", static_cast<int64_t>(name.size()));
  return {};
}

// Request: the id (bind; else 0), then the name. Response: the id.
constexpr std::size_t kIdBytes = 4;

}  // namespace

IdMapRoot::IdMapRoot(Ref<Messenger> messenger, EbbId cluster_id)
    : DistributedRoot<IdMap>(messenger, cluster_id),
      next_id_(first_cluster_id_of(messenger->self())),
      end_id_(first_cluster_id_of(messenger->self()) + kClusterIdsPerNode) {
  for (const Member& m : messenger->root().config().members) members_.push_back(m.id);
  std::sort(members_.begin(), members_.end());
}

Result<Ref<IdMap>> IdMap::CreateOnNode(Ref<Messenger> messenger) {
  MessengerRoot& m = messenger->root();
  for (const MessageType& t : {MessageType{.id = kTypeIdResolve, .name = "idmap.resolve"},
                               MessageType{.id = kTypeIdBind, .name = "idmap.bind"},
                               MessageType{.id = kTypeIdLookup, .name = "idmap.lookup"}}) {
    Status added = m.add_type(t);
    if (!added) return added.error();
  }
  return DistributedEbb::CreateOnNode(messenger, kIdMapClusterId);
}

Result<EbbId> IdMap::allocate() {
  EbbId id = root_.next_id_.load(std::memory_order_relaxed);
  do {
    if (id >= root_.end_id_)
      return Error(Errc::kExhausted, "id map: this node's block of cluster ids is used up", self_node());
  } while (!root_.next_id_.compare_exchange_weak(id, id + 1, std::memory_order_relaxed));
  return id;
}

NodeId IdMap::home_of(std::string_view name) const {
  return root_.members_[name_hash(name) % root_.members_.size()];
}

Future<EbbId> IdMap::resolve(std::string_view name) { return ask(kTypeIdResolve, name, kNullEbbId); }
Future<EbbId> IdMap::lookup(std::string_view name) { return ask(kTypeIdLookup, name, kNullEbbId); }

Future<EbbId> IdMap::bind(std::string_view name, EbbId id) {
  if (!is_cluster_id(id)) return make_failed_future<EbbId>(Error(Errc::kInvalidArgument, "id map: not a cluster-wide id", id));
  return ask(kTypeIdBind, name, id);
}

Future<EbbId> IdMap::ask(uint16_t type, std::string_view name, EbbId id) {
  Status ok = check_name(name);
  if (!ok) return make_failed_future<EbbId>(ok.error());
  std::string key(name);
  auto cached = cache_.find(key);
  if (cached != cache_.end()) {
    if (type != kTypeIdBind || cached->second == id) return make_ready_future(cached->second);
    return make_failed_future<EbbId>(Error(Errc::kAlreadyExists, "id map: the name has another id", cached->second));
  }
  Result<net::IOBuf> payload = net::IOBuf::Create(kIdBytes + name.size(), kFrameHeaderBytes);
  if (!payload) return make_failed_future<EbbId>(payload.error());
  store32(payload->push_back(kIdBytes), id);
  std::copy(name.begin(), name.end(), payload->push_back(name.size()));
  IdMap* self = this;  // this core's rep: the answer comes back on this core
  return call(home_of(name), type, 1, std::move(*payload))
      .then([self, key = std::move(key)](Result<net::IOBuf>&& r) mutable -> Result<EbbId> {
        if (!r) return r.error();
        uint8_t b[kIdBytes];
        if (r->length() != kIdBytes || !r->copy_out(0, b, kIdBytes))
          return Error(Errc::kInvalidArgument, "id map: a malformed answer from the name's home");
        const EbbId id = load32(b);
        self->cache_.emplace(std::move(key), id);
        return id;
      });
}

Result<EbbId> IdMap::answer_at_home(uint16_t type, const std::string& name, EbbId id) {
  std::lock_guard<SpinLock> hold(root_.lock_);
  auto it = root_.names_.find(name);
  if (it != root_.names_.end()) {
    if (type == kTypeIdBind && it->second != id)
      return Error(Errc::kAlreadyExists, "id map: the name has another id", it->second);
    return it->second;
  }
  if (type == kTypeIdLookup) return Error(Errc::kNoSuchEbb, "id map: no Ebb has this name");
  if (type == kTypeIdResolve) {
    Result<EbbId> fresh = allocate();
    if (!fresh) return fresh.error();
    id = *fresh;
  }
  root_.names_.emplace(name, id);
  return id;
}

void IdMap::on_message(Frame&& frame, Responder responder) {
  uint8_t b[kIdBytes];
  const std::size_t n = frame.payload.length();
  if (n <= kIdBytes || n > kIdBytes + kMaxNameBytes || !frame.payload.copy_out(0, b, kIdBytes)) {
    responder.fail(Error(Errc::kInvalidArgument, "id map: a malformed request"));
    return;
  }
  std::string name(n - kIdBytes, '\0');
  (void)frame.payload.copy_out(kIdBytes, name.data(), name.size());
  if (home_of(name) != self_node()) {  // the members disagree on who keeps it
    responder.fail(Error(Errc::kInvalidArgument, "id map: this node is not the name's home", self_node()));
    return;
  }
  Result<EbbId> id = answer_at_home(frame.header.type, name, load32(b));
  if (!id) {
    responder.fail(id.error());
    return;
  }
  Result<net::IOBuf> out = net::IOBuf::Create(kIdBytes, kFrameHeaderBytes);
  if (!out) {
    responder.fail(out.error());
    return;
  }
  store32(out->push_back(kIdBytes), *id);
  responder.respond(std::move(*out));
}

}  // namespace ebb::messenger
