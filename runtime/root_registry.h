#pragma once
// The machine-wide root registry: EbbId -> the Ebb's root (its shared state,
// which knows how to make and find reps). The fault path of every Ebb pattern
// goes through here; so do creation and destruction. Not a hot path: the
// translation tables cache the result per core.

#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/ebb_id.h"
#include "runtime/future.h"
#include "runtime/id_allocator.h"
#include "runtime/result.h"
#include "runtime/type_name.h"

namespace ebb::roots {

// How the registry treats the roots of one Ebb type; one static instance per
// type, whose address is the type's identity (no RTTI needed).
struct RootType {
  const char* name;
  // Deletes the root and every rep it owns.
  void (*destroy)(void* root);
  // Builds the root of a static id on its first use (may block), or null
  // when this type cannot be built on a fault.
  Result<void*> (*build)(EbbId id);
};

// Registers a root made by the caller. Errc::kAlreadyExists when the id has one.
Status add(EbbId id, void* root, const RootType& type);

// The root of `id`: builds it on first use for a static id whose type can
// (exactly once machine-wide: a core that faults meanwhile waits, parked).
// Errors: kNoSuchEbb, kEbbDestroyed, kWrongEbbType (with `type` expected).
Result<void*> find(EbbId id, const RootType& type);

// The type name registered for `id`, or null.
const char* type_name_of(EbbId id);

// Destroys an Ebb: faults on it fail at once; every core drops its rep from
// its table; after an RCU grace period the root and reps are deleted (on a
// core) and a node-local id is released for reuse. The Future completes then.
// Errors: kNoSuchEbb, kEbbDestroyed (already on its way), kShuttingDown.
Future<void> destroy(EbbId id);

// The argument of a root constructor that a fault on a static id calls: one
// constructor can then serve a range of static ids, each its own way.
struct OnFirstUse {
  EbbId id;
};

// The RootType of roots of class Root, named after Named (the T of the
// Ref<T> that users hold). A fault on a static id with no root yet builds a
// Root(OnFirstUse{id}), or else a Root(), when Root can be made so.
template <class Root, class Named>
const RootType& root_type_of() {
  static constexpr RootType kType = {
      type_name_cstr<Named>(),
      [](void* root) { delete static_cast<Root*>(root); },
      [] {
        if constexpr (std::is_constructible_v<Root, OnFirstUse>)
          return +[](EbbId id) -> Result<void*> {
            return static_cast<void*>(new Root(OnFirstUse{id}));
          };
        else if constexpr (std::is_default_constructible_v<Root>)
          return +[](EbbId) -> Result<void*> { return static_cast<void*>(new Root()); };
        else
          return static_cast<Result<void*> (*)(EbbId)>(nullptr);
      }(),
  };
  return kType;
}

// Makes Root(args...) and registers it under `id` (or deletes it again).
template <class Root, class Named, class... Args>
Status make_root(EbbId id, Args&&... args) {
  Root* root = new Root(std::forward<Args>(args)...);
  Status added = add(id, root, root_type_of<Root, Named>());
  if (!added) delete root;
  return added;
}

// The same under a fresh node-local id, which it returns.
template <class Root, class Named, class... Args>
Result<EbbId> make_root_with_local_id(Args&&... args) {
  Result<EbbId> id = ids::allocate_local();
  if (!id) return id.error();
  Status made = make_root<Root, Named>(*id, std::forward<Args>(args)...);
  if (!made) {
    ids::release_local(*id);
    return made.error();
  }
  return *id;
}

namespace detail {
// Live ids in teardown order: node-local ids newest first, then static ids
// newest first (a later Ebb may use an earlier one from its destructor).
std::vector<EbbId> live_ids_for_teardown();
// Forgets every entry without destroying (after teardown, or an abort).
void reset();
std::size_t entry_count();
}  // namespace detail

}  // namespace ebb::roots
