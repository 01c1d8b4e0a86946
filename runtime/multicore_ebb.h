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
#include "runtime/id_allocator.h"
#include "runtime/panic.h"
#include "runtime/ref.h"
#include "runtime/root_registry.h"
#include "runtime/translation_table.h"
#include "runtime/type_name.h"

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
};

template <class Rep, class Root = MulticoreRoot<Rep>>
class MulticoreEbb {
 public:
  // Makes Root(args...) under a fresh node-local id; reps come on first use.
  template <class... Args>
  static Result<Ref<Rep>> Create(Args&&... root_args) {
    Result<EbbId> id = ids::allocate_local();
    if (!id) return id.error();
    Status made = CreateWithId(*id, std::forward<Args>(root_args)...);
    if (!made) {
      ids::release_local(*id);
      return made.error();
    }
    return Ref<Rep>(*id);
  }

  // Makes Root(args...) under a static id.
  template <class... Args>
  static Status CreateWithId(EbbId id, Args&&... root_args) {
    static_assert(std::is_base_of_v<MulticoreRoot<Rep>, Root>,
                  "a MulticoreEbb's Root must derive from MulticoreRoot<Rep>");
    Root* root = new Root(std::forward<Args>(root_args)...);
    Status added = roots::add(id, root, root_type());
    if (!added) delete root;
    return added;
  }

  // See roots::destroy.
  static Future<void> Destroy(EbbId id) { return roots::destroy(id); }

  // The root of a live Ebb (for enumerating its reps), or an Error.
  static Result<Root*> RootOf(EbbId id) {
    Result<void*> root = roots::find(id, root_type());
    if (!root) return root.error();
    return static_cast<Root*>(*root);
  }

  EBB_COLD static Rep* HandleFault(EbbId id) {
    Result<Rep*> rep = TryHandleFault(id);
    if (EBB_UNLIKELY(!rep)) detail::fault_failed(id, type_name_cstr<Rep>(), rep.error());
    return *rep;
  }

  EBB_COLD static Result<Rep*> TryHandleFault(EbbId id) {
    Status ok = detail::begin_fault(id);
    if (!ok) return ok.error();
    Result<void*> found = roots::find(id, root_type());
    if (!found) return found.error();
    Root& root = *static_cast<Root*>(*found);
    const CoreId core = this_core();
    std::atomic<Rep*>& slot = root.reps_[core];
    Rep* rep = slot.load(std::memory_order_relaxed);
    if (rep == nullptr) {
      if constexpr (std::is_constructible_v<Rep, Root&>) rep = new Rep(root);
      else rep = new Rep();
      slot.store(rep, std::memory_order_release);
    }
    translation::install(id, rep);
    return rep;
  }

  // A builder for faults on a static id with no root yet, when Root can be
  // made without arguments.
  static constexpr Result<void*> (*builder())(EbbId) {
    if constexpr (std::is_default_constructible_v<Root>)
      return [](EbbId) -> Result<void*> { return static_cast<void*>(new Root()); };
    else
      return nullptr;
  }

  static const roots::RootType& root_type() {
    static constexpr roots::RootType kType = {
        type_name_cstr<Rep>(),
        [](void* root) { delete static_cast<Root*>(root); },
        builder(),
    };
    return kType;
  }
};

}  // namespace ebb
