#include "runtime/root_registry.h"

#include <algorithm>
#include <mutex>  // std::unique_lock, over the SpinLock
#include <unordered_map>

#include "runtime/fiber.h"
#include "runtime/id_allocator.h"
#include "runtime/log.h"
#include "runtime/rcu.h"
#include "runtime/spawn.h"
#include "runtime/spin_lock.h"
#include "runtime/translation_table.h"

namespace ebb::roots {
namespace {

enum class State : uint8_t { kBuilding, kLive, kDying };

struct Entry {
  State state;
  void* root;
  const RootType* type;
  uint64_t sequence;                     // creation order, for teardown
  std::vector<EventContext*> waiters;    // cores parked while it is built
};

struct Registry {
  SpinLock mutex;  // short sections, on cores and off them; no <mutex> in the image
  std::unordered_map<EbbId, Entry> entries;
  uint64_t next_sequence = 0;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

void wake_all(std::vector<EventContext*>& waiters) {
  for (EventContext* w : waiters) unpark(*w);
  waiters.clear();
}

// Finishes a destroy on the core whose clear was last.
struct DestroyJob {
  EbbId id;
  void* root;
  const RootType* type;
  std::atomic<uint32_t> cores_left;
  Promise<void> done;
};

void finish_destroy(DestroyJob* job) {
  job->type->destroy(job->root);
  {
    Registry& r = registry();
    SpinLockGuard lock(r.mutex);
    r.entries.erase(job->id);
  }
  if (is_local_id(job->id)) ids::release_local(job->id);
  job->done.set_value();
  delete job;
}

void core_cleared(DestroyJob* job) {
  if (job->cores_left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Every core has dropped its rep; events that could still hold one were
  // running before that, so one grace period covers them all.
  call_rcu([job] { finish_destroy(job); });
}

}  // namespace

Status add(EbbId id, void* root, const RootType& type) {
  if (id == kNullEbbId) return Error(Errc::kInvalidArgument, "roots::add: the null EbbId");
  Registry& r = registry();
  SpinLockGuard lock(r.mutex);
  auto [it, inserted] = r.entries.try_emplace(id);
  if (!inserted) return Error(Errc::kAlreadyExists, "roots::add: the EbbId already has a root", id);
  it->second = Entry{State::kLive, root, &type, r.next_sequence++, {}};
  return {};
}

Result<void*> find(EbbId id, const RootType& type) {
  Registry& r = registry();
  std::unique_lock<SpinLock> lock(r.mutex);
  for (;;) {
    auto it = r.entries.find(id);
    if (it == r.entries.end()) {
      if (!is_static_id(id) || type.build == nullptr)
        return Error(Errc::kNoSuchEbb, "no Ebb has this id (never created, or destroyed)", id);
      // First use of a static id: build its root, outside the lock (the
      // builder may block). Other cores that fault meanwhile wait below.
      r.entries.try_emplace(id, Entry{State::kBuilding, nullptr, &type, 0, {}});
      lock.unlock();
      Result<void*> built = type.build(id);
      lock.lock();
      Entry& e = r.entries.at(id);
      wake_all(e.waiters);
      if (!built) {
        r.entries.erase(id);
        return built.error();
      }
      e.root = *built;
      e.state = State::kLive;
      // Numbered now, not when the build began: Ebbs the builder made in the
      // meantime count as older, so teardown (newest first) keeps them
      // alive for this one's destructor.
      e.sequence = r.next_sequence++;
      return *built;
    }
    Entry& e = it->second;
    if (e.type != &type)
      return Error(Errc::kWrongEbbType, "a Ref's type does not match the Ebb's type", id);
    switch (e.state) {
      case State::kLive:
        return e.root;
      case State::kDying:
        return Error(Errc::kEbbDestroyed, "the Ebb has been destroyed", id);
      case State::kBuilding: {
        if (!on_core())
          return Error(Errc::kNotOnCore, "an Ebb being built was looked up off any core", id);
        EventContext waiter;
        e.waiters.push_back(&waiter);
        lock.unlock();
        park(waiter);
        lock.lock();
        break;  // look again: it may have failed, or be destroyed already
      }
    }
  }
}

const char* type_name_of(EbbId id) {
  Registry& r = registry();
  SpinLockGuard lock(r.mutex);
  auto it = r.entries.find(id);
  return it == r.entries.end() ? nullptr : it->second.type->name;
}

Future<void> destroy(EbbId id) {
  const uint32_t cores = num_cores();
  if (cores == 0)
    return make_failed_future<void>(Error(Errc::kShuttingDown, "destroy: no runtime is running", id));
  DestroyJob* job;
  {
    Registry& r = registry();
    SpinLockGuard lock(r.mutex);
    auto it = r.entries.find(id);
    if (it == r.entries.end())
      return make_failed_future<void>(Error(Errc::kNoSuchEbb, "destroy: no Ebb has this id", id));
    Entry& e = it->second;
    if (e.state != State::kLive) {
      return make_failed_future<void>(Error(Errc::kEbbDestroyed,
                                            e.state == State::kDying
                                                ? "destroy: the Ebb is already being destroyed"
                                                : "destroy: the Ebb is still being built",
                                            id));
    }
    e.state = State::kDying;
    job = new DestroyJob{id, e.root, e.type, {cores}, Promise<void>()};
  }
  Future<void> done = job->done.get_future();
  // Each core drops its rep from its own table (only the owner writes it).
  for (CoreId core = 0; core < cores; ++core) {
    if (!ebb::detail::post(core, [job, id] {
          translation::clear(id);
          core_cleared(job);
        })) {
      core_cleared(job);  // no runtime: nothing to clear there
    }
  }
  return done;
}

namespace detail {

std::vector<EbbId> live_ids_for_teardown() {
  Registry& r = registry();
  SpinLockGuard lock(r.mutex);
  std::vector<std::pair<uint64_t, EbbId>> order;
  for (auto& [id, e] : r.entries)
    if (e.state == State::kLive) order.emplace_back(e.sequence, id);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const bool a_static = is_static_id(a.second), b_static = is_static_id(b.second);
    if (a_static != b_static) return b_static;  // node-local ids first
    return a.first > b.first;                   // newest first
  });
  std::vector<EbbId> ids;
  ids.reserve(order.size());
  for (auto& [sequence, id] : order) ids.push_back(id);
  return ids;
}

void reset() {
  Registry& r = registry();
  SpinLockGuard lock(r.mutex);
  r.entries.clear();
  r.next_sequence = 0;
}

std::size_t entry_count() {
  Registry& r = registry();
  SpinLockGuard lock(r.mutex);
  return r.entries.size();
}

}  // namespace detail
}  // namespace ebb::roots
