#pragma once
// Node-local EbbIds.
//
// Ids stay dense (translation tables are arrays indexed by id), so freed ids
// are reused; but a freed id waits in a FIFO quarantine until kIdQuarantine
// other ids have been freed after it. A stale Ref to a destroyed Ebb therefore
// meets "no such Ebb" (a clear error) rather than some new Ebb, for as long as
// the table size allows.

#include <cstddef>

#include "runtime/ebb_id.h"
#include "runtime/result.h"

namespace ebb::ids {

inline constexpr std::size_t kIdQuarantine = 1024;

// A fresh node-local id, or Errc::kExhausted when the local range is used up.
Result<EbbId> allocate_local();
// Returns an id for reuse. Only ids from allocate_local; twice is a panic.
void release_local(EbbId id);
// Ids handed out and not released.
std::size_t local_ids_in_use();

namespace detail {
// Forget every id (the runtime calls this when it shuts down).
void reset_local_ids();
}  // namespace detail

}  // namespace ebb::ids
