#pragma once
// Ref<T>: how code reaches an Ebb. Trivially copyable and constexpr from an
// id, so a Ref is as cheap to store and pass as the id itself.
//
// operator-> loads the calling core's translation-table slot for the id and,
// when it is set, returns it: inline, one load and one branch. On a miss it
// calls T::HandleFault(id) (out of line, cold), which finds or builds this
// core's rep, installs it and returns it. T provides HandleFault and
// TryHandleFault; the patterns (SharedEbb, MulticoreEbb) do.

#include "runtime/compiler.h"
#include "runtime/ebb_id.h"
#include "runtime/result.h"
#include "runtime/translation_table.h"
#include "runtime/type_name.h"

namespace ebb {

template <class T>
class Ref {
 public:
  constexpr Ref() = default;
  constexpr explicit Ref(EbbId id) : id_(id) {}

  constexpr EbbId id() const { return id_; }
  constexpr bool valid() const { return id_ != kNullEbbId; }

  EBB_ALWAYS_INLINE T* operator->() const { return &get(); }
  EBB_ALWAYS_INLINE T& operator*() const { return get(); }

  // This core's rep. A miss that cannot be served (off a core, a destroyed
  // Ebb, a wrong type) is a panic that names the problem.
  EBB_ALWAYS_INLINE T& get() const {
    void* rep = translation::lookup(id_);
    if (EBB_LIKELY(rep != nullptr)) return *static_cast<T*>(rep);
    return *T::HandleFault(id_);
  }

  // Like get(), but such failures come back as an Error: for code that may
  // outlive the Ebb (a timer, a late reply) and wants to notice.
  Result<T*> try_get() const {
    void* rep = translation::lookup(id_);
    if (EBB_LIKELY(rep != nullptr)) return static_cast<T*>(rep);
    return T::TryHandleFault(id_);
  }

  friend constexpr bool operator==(Ref, Ref) = default;

 private:
  EbbId id_ = kNullEbbId;
};

namespace detail {
// Shared by every pattern's fault path: checks that the caller is on a core
// and counts the fault.
Status begin_fault(EbbId id);
// A failed fault from Ref::get(): a panic that explains the error.
[[noreturn]] EBB_COLD void fault_failed(EbbId id, const char* type_name, const Error& error);

// HandleFault in terms of TryHandleFault: the rep, or that panic.
template <class T>
EBB_ALWAYS_INLINE T* rep_or_panic(EbbId id, const Result<T*>& rep) {
  if (EBB_UNLIKELY(!rep)) fault_failed(id, type_name_cstr<T>(), rep.error());
  return *rep;
}
}  // namespace detail

}  // namespace ebb
