#pragma once
// The machine-wide root registry: EbbId -> the Ebb's root (its shared state,
// which knows how to make and find reps). The fault path of every Ebb pattern
// goes through here; so do creation and destruction. Not a hot path: the
// translation tables cache the result per core.

#include <cstdint>
#include <vector>

#include "runtime/ebb_id.h"
#include "runtime/future.h"
#include "runtime/result.h"

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

namespace detail {
// Live ids in teardown order: node-local ids newest first, then static ids
// newest first (a later Ebb may use an earlier one from its destructor).
std::vector<EbbId> live_ids_for_teardown();
// Forgets every entry without destroying (after teardown, or an abort).
void reset();
std::size_t entry_count();
}  // namespace detail

}  // namespace ebb::roots
