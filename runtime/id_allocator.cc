#include "runtime/id_allocator.h"

#include <deque>
#include <unordered_set>

#include "runtime/spin_lock.h"

namespace ebb::ids {
namespace {

struct Allocator {
  SpinLock mutex;  // short sections, on cores and off them; no <mutex> in the image
  EbbId next_fresh = kFirstLocalId;
  std::deque<EbbId> quarantine;           // oldest first
  std::unordered_set<EbbId> outstanding;  // handed out, not released
};

Allocator& allocator() {
  static Allocator instance;
  return instance;
}

}  // namespace

Result<EbbId> allocate_local() {
  Allocator& a = allocator();
  SpinLockGuard lock(a.mutex);
  EbbId id;
  if (a.quarantine.size() > kIdQuarantine) {
    id = a.quarantine.front();
    a.quarantine.pop_front();
  } else if (a.next_fresh < kFirstClusterId) {
    id = a.next_fresh++;
  } else if (!a.quarantine.empty()) {
    id = a.quarantine.front();
    a.quarantine.pop_front();
  } else {
    return Error(Errc::kExhausted, "no node-local EbbIds left");
  }
  a.outstanding.insert(id);
  return id;
}

void release_local(EbbId id) {
  Allocator& a = allocator();
  SpinLockGuard lock(a.mutex);
  EBB_CHECK(a.outstanding.erase(id) == 1,
            "EbbId %u released but it is not an allocated node-local id (released twice?)", id);
  a.quarantine.push_back(id);
}

std::size_t local_ids_in_use() {
  Allocator& a = allocator();
  SpinLockGuard lock(a.mutex);
  return a.outstanding.size();
}

void detail::reset_local_ids() {
  Allocator& a = allocator();
  SpinLockGuard lock(a.mutex);
  a.next_fresh = kFirstLocalId;
  a.quarantine.clear();
  a.outstanding.clear();
}

}  // namespace ebb::ids
