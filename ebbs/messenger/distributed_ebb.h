#pragma once
// DistributedEbb<Rep, Root>: an Ebb with one identity across the cluster
// (a cluster-wide EbbId, ebbs/messenger/cluster_ids.h) and a part on each
// node that is itself a MulticoreEbb: a rep per core, made on first use.
//
// Each node makes its part with the same cluster id; frames the Messenger
// receives for that id go to on_message() of this node's rep on the core
// that received them. A rep reaches the same Ebb on another node with
// call() (a Future of the answer) or send() (one way):
//
//   class Counter : public DistributedEbb<Counter> {
//    public:
//     explicit Counter(DistributedRoot<Counter>& root) : DistributedEbb(root) {}
//     Future<net::IOBuf> read_on(NodeId node) { return call(node, kRead, 1, {}); }
//     void on_message(messenger::Frame&& frame, messenger::Responder responder) { ... }
//   };
//   Ref<Counter> c = Counter::CreateOnNode(messenger, cluster_id).value();
//
// Inside a node the rep's own id is node-local (translation tables stay
// dense); the cluster id is what travels. Message types are the app's to
// register on the Messenger (root().add_type).

#include <utility>

#include "ebbs/messenger/cluster_ids.h"
#include "ebbs/messenger/messenger.h"
#include "runtime/multicore_ebb.h"

namespace ebb::messenger {

template <class Rep>
class DistributedRoot : public MulticoreRoot<Rep> {
 public:
  DistributedRoot(Ref<Messenger> messenger, EbbId cluster_id) : messenger_(messenger), cluster_id_(cluster_id) {}
  Ref<Messenger> messenger() const { return messenger_; }
  EbbId cluster_id() const { return cluster_id_; }

 private:
  Ref<Messenger> messenger_;
  EbbId cluster_id_;
};

namespace detail {
// Hands a frame to the rep of the Ebb whose node-local id is `context`.
template <class Rep>
void deliver_to_rep(void* context, Frame&& frame, Responder responder) {
  const auto local = static_cast<EbbId>(reinterpret_cast<uintptr_t>(context));
  Result<Rep*> rep = Ref<Rep>(local).try_get();
  if (!rep) {
    responder.fail(rep.error());  // destroyed while frames were in flight
    return;
  }
  (*rep)->on_message(std::move(frame), std::move(responder));
}
}  // namespace detail

template <class Rep, class Root = DistributedRoot<Rep>>
class DistributedEbb : public MulticoreEbb<Rep, Root> {
 public:
  // This node's part of the Ebb `cluster_id` (the same id on every node):
  // Root(messenger, cluster_id, root_args...) under a node-local id, and
  // the Messenger's handler for cluster_id. kAlreadyExists when this node
  // has a part of that id already; kInvalidArgument for an id that is not
  // cluster-wide.
  template <class... Args>
  static Result<Ref<Rep>> CreateOnNode(Ref<Messenger> messenger, EbbId cluster_id, Args&&... root_args) {
    if (!is_cluster_id(cluster_id))
      return Error(Errc::kInvalidArgument, "distributed Ebb: not a cluster-wide id", cluster_id);
    Result<Ref<Rep>> made =
        MulticoreEbb<Rep, Root>::Create(messenger, cluster_id, std::forward<Args>(root_args)...);
    if (!made) return made.error();
    const Handler handler{&detail::deliver_to_rep<Rep>,
                          reinterpret_cast<void*>(static_cast<uintptr_t>(made->id()))};
    Status added = messenger->root().add_handler(cluster_id, handler);
    if (!added) {
      (void)MulticoreEbb<Rep, Root>::Destroy(made->id());
      return added.error();
    }
    return *made;
  }

 protected:
  explicit DistributedEbb(Root& root) : root_(root) {}

  Root& root() const { return root_; }
  Messenger& messenger() const { return *root_.messenger(); }
  NodeId self_node() const { return messenger().self(); }
  // To this Ebb's part on `node` (this node included: handled here, at once).
  Future<net::IOBuf> call(NodeId node, uint16_t type, uint16_t version, net::IOBuf payload) const {
    return messenger().call(node, root_.cluster_id(), type, version, std::move(payload));
  }
  Status send(NodeId node, uint16_t type, uint16_t version, net::IOBuf payload) const {
    return messenger().send(node, root_.cluster_id(), type, version, std::move(payload));
  }

 private:
  Root& root_;
};

}  // namespace ebb::messenger
