#pragma once
// IdMap: cluster-wide EbbIds and the names that lead to them, a
// distributed Ebb (kIdMapClusterId) with a part on every node.
//
//   Ref<IdMap> ids = IdMap::CreateOnNode(messenger).value();
//   EbbId fresh = ids->allocate().value();             // from this node's block
//   ids->resolve("memcached.ring").then(...);           // the same id on every node
//
// allocate() needs nobody: each node hands out its own block of ids
// (cluster_ids.h). A name lives at its home node (a hash of the name over
// the members, so every node agrees which): resolve() asks the home, which
// gives the name an id from its block the first time and the same id ever
// after; bind() gives a name an id of the caller's choosing; lookup() only
// reads. Answers are cached per core. A home that cannot be reached is an
// Error (kUnreachable, kTimedOut), never a different id; a home that
// restarts forgets its names, so Ebbs that must outlive any node take a
// well-known id instead (cluster_ids.h).

#include <string>
#include <string_view>
#include <unordered_map>

#include "ebbs/messenger/cluster_ids.h"
#include "ebbs/messenger/distributed_ebb.h"
#include "runtime/spin_lock.h"

namespace ebb::messenger {

inline constexpr uint16_t kTypeIdResolve = 10;
inline constexpr uint16_t kTypeIdBind = 11;
inline constexpr uint16_t kTypeIdLookup = 12;
inline constexpr std::size_t kMaxNameBytes = 200;

class IdMap;

class IdMapRoot : public DistributedRoot<IdMap> {
 public:
  IdMapRoot(Ref<Messenger> messenger, EbbId cluster_id);

 private:
  friend class IdMap;
  std::vector<NodeId> members_;  // sorted: every node picks the same home
  std::atomic<EbbId> next_id_;
  EbbId end_id_;
  SpinLock lock_;
  std::unordered_map<std::string, EbbId> names_;  // the names this node is home to
};

class IdMap : public DistributedEbb<IdMap, IdMapRoot> {
 public:
  explicit IdMap(IdMapRoot& root) : DistributedEbb(root), root_(root) {}

  // This node's part (and the Messenger's message types for it).
  static Result<Ref<IdMap>> CreateOnNode(Ref<Messenger> messenger);

  // A cluster-wide id no other node hands out; kExhausted when this node's
  // block is used up.
  Result<EbbId> allocate();
  // The name's id, given at its home the first time it is asked for.
  Future<EbbId> resolve(std::string_view name);
  // Gives the name this id: kAlreadyExists (the value: the id it has) when
  // it has another.
  Future<EbbId> bind(std::string_view name, EbbId id);
  // The name's id: kNoSuchEbb when it has none.
  Future<EbbId> lookup(std::string_view name);
  // Which node keeps the name.
  NodeId home_of(std::string_view name) const;

  void on_message(Frame&& frame, Responder responder);

 private:
  Future<EbbId> ask(uint16_t type, std::string_view name, EbbId id);
  Result<EbbId> answer_at_home(uint16_t type, const std::string& name, EbbId id);

  IdMapRoot& root_;
  std::unordered_map<std::string, EbbId> cache_;  // this core's answers
};

}  // namespace ebb::messenger
