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

#include "runtime/ref.h"
#include "runtime/root_registry.h"
#include "runtime/translation_table.h"

namespace ebb {

template <class T>
class SharedEbb {
 public:
  // Makes T(args...) under a fresh node-local id.
  template <class... Args>
  static Result<Ref<T>> Create(Args&&... args) {
    Result<EbbId> id = roots::make_root_with_local_id<T, T>(std::forward<Args>(args)...);
    if (!id) return id.error();
    return Ref<T>(*id);
  }

  // Makes T(args...) under a static id.
  template <class... Args>
  static Status CreateWithId(EbbId id, Args&&... args) {
    return roots::make_root<T, T>(id, std::forward<Args>(args)...);
  }

  // See roots::destroy.
  static Future<void> Destroy(EbbId id) { return roots::destroy(id); }

  EBB_COLD static T* HandleFault(EbbId id) { return detail::rep_or_panic(id, TryHandleFault(id)); }

  EBB_COLD static Result<T*> TryHandleFault(EbbId id) {
    Status ok = detail::begin_fault(id);
    if (!ok) return ok.error();
    Result<void*> root = roots::find(id, roots::root_type_of<T, T>());
    if (!root) return root.error();
    translation::install(id, *root);
    return static_cast<T*>(*root);
  }
};

}  // namespace ebb
