#pragma once
// Function<Sig>: a move-only callable with inline storage.
//
// Events, timer callbacks and continuations are stored in queues by the
// million; std::function would copy, may allocate for small lambdas and needs
// exceptions. A callable that fits kInlineBytes lives inside the object; a
// trivially copyable one is moved by memcpy, so queueing it costs a few stores.

#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "runtime/compiler.h"

namespace ebb {

template <class Signature, std::size_t kInlineBytes = 48>
class Function;

template <class R, class... Args, std::size_t kInlineBytes>
class Function<R(Args...), kInlineBytes> {
  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    // Both null for trivially copyable callables stored inline (memcpy moves).
    void (*relocate)(void* to, void* from);
    void (*destroy)(void* storage);
  };

  template <class F>
  static constexpr bool kInline = sizeof(F) <= kInlineBytes && alignof(F) <= alignof(void*) &&
                                  std::is_nothrow_move_constructible_v<F>;
  template <class F>
  static constexpr bool kTrivial = kInline<F> && std::is_trivially_copyable_v<F> &&
                                   std::is_trivially_destructible_v<F>;

  template <class F>
  static constexpr Ops kInlineOps = {
      [](void* s, Args&&... args) -> R {
        return (*static_cast<F*>(s))(std::forward<Args>(args)...);
      },
      kTrivial<F> ? nullptr
                  : +[](void* to, void* from) {
                      F* source = static_cast<F*>(from);
                      new (to) F(std::move(*source));
                      source->~F();
                    },
      kTrivial<F> ? nullptr : +[](void* s) { static_cast<F*>(s)->~F(); },
  };

  // Large callables live on the heap; the storage holds the pointer.
  template <class F>
  static constexpr Ops kHeapOps = {
      [](void* s, Args&&... args) -> R {
        return (**static_cast<F**>(s))(std::forward<Args>(args)...);
      },
      nullptr,  // moving the pointer is a memcpy
      [](void* s) { delete *static_cast<F**>(s); },
  };

 public:
  Function() = default;
  Function(std::nullptr_t) {}

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Function> &&
                                     std::is_invocable_r_v<R, D&, Args...>>>
  Function(F&& f) {  // NOLINT: implicit by design, like std::function
    if constexpr (kInline<D>) {
      new (storage_) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
      ops_ = &kHeapOps<D>;
    }
  }

  Function(Function&& other) noexcept { take(other); }
  Function& operator=(Function&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;
  ~Function() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }

  void reset() {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

 private:
  void take(Function& other) {
    ops_ = other.ops_;
    if (ops_ == nullptr) return;
    if (ops_->relocate == nullptr) std::memcpy(storage_, other.storage_, kInlineBytes);
    else ops_->relocate(storage_, other.storage_);
    other.ops_ = nullptr;
  }

  alignas(void*) unsigned char storage_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace ebb
