#pragma once
// MulticoreEbb<Rep, Root>: an Ebb with a rep per core, made on the core's
// first use. The root holds what the reps share and can enumerate them.
//
//   class Counter;
//   class CounterRoot : public ebb::MulticoreRoot<Counter> { ... };
//   class Counter : public ebb::MulticoreEbb<Counter, CounterRoot> {
//    public:
//     explicit Counter(CounterRoot& root);   // or default-constructible
//     void increment() { ++count_; }          // core-local: no atomics
//   };
//
// A rep is built inside the fault, on its own core, and its constructor must
// not block (the root's may: static ids build their root on first use, and
// cores that fault meanwhile wait).

#include <atomic>
#include <type_traits>
#include <utility>

#include "runtime/core.h"
#include "runtime/panic.h"
#include "runtime/ref.h"
#include "runtime/root_registry.h"
#include "runtime/translation_table.h"

namespace ebb {

template <class Rep, class Root>
class MulticoreEbb;

// Base of every MulticoreEbb root: the per-core rep map.
template <class Rep>
class MulticoreRoot {
 public:
  MulticoreRoot() : cores_(num_cores()), reps_(new std::atomic<Rep*>[cores_]) {
    EBB_CHECK(cores_ > 0, "a MulticoreEbb root was made with no runtime running");
    for (uint32_t c = 0; c < cores_; ++c) reps_[c].store(nullptr, std::memory_order_relaxed);
  }
  MulticoreRoot(const MulticoreRoot&) = delete;
  MulticoreRoot& operator=(const MulticoreRoot&) = delete;
  ~MulticoreRoot() {
    for (uint32_t c = 0; c < cores_; ++c) delete reps_[c].load(std::memory_order_acquire);
    delete[] reps_;
  }

  uint32_t cores() const { return cores_; }
  // The Ebb's id (known once a core has used it: reps may read it).
  EbbId id() const { return id_.load(std::memory_order_relaxed); }
  // `core`'s rep, or null while that core has not used the Ebb.
  Rep* rep_on(CoreId core) const {
    return core < cores_ ? reps_[core].load(std::memory_order_acquire) : nullptr;
  }
  // f(CoreId, Rep&) for every rep made so far. The reps keep running: read
  // what they share with their cores through atomics or events.
  template <class F>
  void for_each_rep(F&& f) const {
    for (uint32_t c = 0; c < cores_; ++c)
      if (Rep* rep = reps_[c].load(std::memory_order_acquire)) f(CoreId{c}, *rep);
  }
  std::size_t rep_count() const {
    std::size_t n = 0;
    for_each_rep([&n](CoreId, Rep&) { ++n; });
    return n;
  }

 private:
  template <class, class>
  friend class MulticoreEbb;
  uint32_t cores_;
  std::atomic<Rep*>* reps_;
  std::atomic<EbbId> id_{kNullEbbId};
};

template <class Rep, class Root = MulticoreRoot<Rep>>
class MulticoreEbb {
 public:
  // Makes Root(args...) under a fresh node-local id; reps come on first use.
  template <class... Args>
  static Result<Ref<Rep>> Create(Args&&... root_args) {
    static_assert(std::is_base_of_v<MulticoreRoot<Rep>, Root>,
                  "a MulticoreEbb's Root must derive from MulticoreRoot<Rep>");
    Result<EbbId> id = roots::make_root_with_local_id<Root, Rep>(std::forward<Args>(root_args)...);
    if (!id) return id.error();
    return Ref<Rep>(*id);
  }

  // Makes Root(args...) under a static id.
  template <class... Args>
  static Status CreateWithId(EbbId id, Args&&... root_args) {
    static_assert(std::is_base_of_v<MulticoreRoot<Rep>, Root>,
                  "a MulticoreEbb's Root must derive from MulticoreRoot<Rep>");
    return roots::make_root<Root, Rep>(id, std::forward<Args>(root_args)...);
  }

  // See roots::destroy.
  static Future<void> Destroy(EbbId id) { return roots::destroy(id); }

  // The root of a live Ebb (for enumerating its reps), or an Error.
  static Result<Root*> RootOf(EbbId id) {
    Result<void*> root = roots::find(id, roots::root_type_of<Root, Rep>());
    if (!root) return root.error();
    return static_cast<Root*>(*root);
  }

  EBB_COLD static Rep* HandleFault(EbbId id) { return detail::rep_or_panic(id, TryHandleFault(id)); }


  EBB_COLD static Result<Rep*> TryHandleFault(EbbId id) {
    Status ok = detail::begin_fault(id);
    if (!ok) return ok.error();
    Result<Root*> root = RootOf(id);
    if (!root) return root.error();
    std::atomic<Rep*>& slot = (*root)->reps_[this_core()];
    Rep* rep = slot.load(std::memory_order_relaxed);
    if (rep == nullptr) {
      (*root)->id_.store(id, std::memory_order_relaxed);
      if constexpr (std::is_constructible_v<Rep, Root&>) rep = new Rep(**root);
      else rep = new Rep();
      slot.store(rep, std::memory_order_release);
    }
    translation::install(id, rep);
    return rep;
  }
};

}  // namespace ebb
