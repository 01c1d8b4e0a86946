#pragma once
// SharedEbb<T>: an Ebb with one rep per node, shared by every core (each
// core's table points at the same object). For state that is mostly read, or
// guarded by its own synchronization.
//
//   class Config : public ebb::SharedEbb<Config> { ... };
//   auto config = Config::Create(args...).value();   // Ref<Config>
//   config->get(...);                                 // from any core
//
// A static id (runtime/static_ids.h) whose T is default-constructible is
// built on its first use, exactly once.

#include <type_traits>
#include <utility>

#include "runtime/id_allocator.h"
#include "runtime/ref.h"
#include "runtime/root_registry.h"
#include "runtime/translation_table.h"
#include "runtime/type_name.h"

namespace ebb {

template <class T>
class SharedEbb {
 public:
  // Makes T(args...) under a fresh node-local id.
  template <class... Args>
  static Result<Ref<T>> Create(Args&&... args) {
    Result<EbbId> id = ids::allocate_local();
    if (!id) return id.error();
    T* rep = new T(std::forward<Args>(args)...);
    Status added = roots::add(*id, rep, root_type());
    if (!added) {
      delete rep;
      ids::release_local(*id);
      return added.error();
    }
    return Ref<T>(*id);
  }

  // Makes T(args...) under a static id.
  template <class... Args>
  static Status CreateWithId(EbbId id, Args&&... args) {
    T* rep = new T(std::forward<Args>(args)...);
    Status added = roots::add(id, rep, root_type());
    if (!added) delete rep;
    return added;
  }

  // See roots::destroy.
  static Future<void> Destroy(EbbId id) { return roots::destroy(id); }

  EBB_COLD static T* HandleFault(EbbId id) {
    Result<T*> rep = TryHandleFault(id);
    if (EBB_UNLIKELY(!rep)) detail::fault_failed(id, type_name_cstr<T>(), rep.error());
    return *rep;
  }

  EBB_COLD static Result<T*> TryHandleFault(EbbId id) {
    Status ok = detail::begin_fault(id);
    if (!ok) return ok.error();
    Result<void*> root = roots::find(id, root_type());
    if (!root) return root.error();
    translation::install(id, *root);
    return static_cast<T*>(*root);
  }

  // A builder for faults on a static id with no root yet, when T can be
  // made without arguments.
  static constexpr Result<void*> (*builder())(EbbId) {
    if constexpr (std::is_default_constructible_v<T>)
      return [](EbbId) -> Result<void*> { return static_cast<void*>(new T()); };
    else
      return nullptr;
  }

  static const roots::RootType& root_type() {
    static constexpr roots::RootType kType = {
        type_name_cstr<T>(),
        [](void* root) { delete static_cast<T*>(root); },
        builder(),
    };
    return kType;
  }
};

}  // namespace ebb
