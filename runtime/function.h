#pragma once
// Function<Sig>: a move-only callable with inline storage.
//
// Events, timer callbacks and continuations are stored in queues by the
// million; std::function would copy, may allocate for small lambdas and needs
// exceptions. A callable that fits kInlineBytes lives inside the object; a
// trivially copyable one is moved by memcpy, so queueing it costs a few stores.

#include <cstdint>
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
    // Null when moving is copying the first `words` words (trivially copyable
    // callables stored inline, and the pointer to a heap one).
    void (*relocate)(void* to, void* from);
    void (*destroy)(void* storage);
    std::size_t words;
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
      (sizeof(F) + sizeof(uint64_t) - 1) / sizeof(uint64_t),
  };

  // Large callables live on the heap; the storage holds the pointer.
  template <class F>
  static constexpr Ops kHeapOps = {
      [](void* s, Args&&... args) -> R {
        return (**static_cast<F**>(s))(std::forward<Args>(args)...);
      },
      nullptr,  // moving is copying the pointer
      [](void* s) { delete *static_cast<F**>(s); },
      1,
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

  // True when it holds an F stored inline: lets a queue recognise one kind
  // of entry and handle it without an indirect call.
  template <class F>
  bool holds() const {
    return ops_ == &kInlineOps<F>;
  }
  template <class F>
  F& get() {
    return *reinterpret_cast<F*>(storage_);
  }

  R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }

  void reset() {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

 private:
  void take(Function& other) {
    ops_ = other.ops_;
    if (ops_ == nullptr) return;
    if (ops_->relocate == nullptr) {
      // Only the words in use, one by one: events are moved twice on their
      // way through a queue, and a fixed 48-byte memcpy compiled to `rep movs`.
      for (std::size_t i = 0; i < ops_->words; ++i) words_[i] = other.words_[i];
    } else {
      ops_->relocate(storage_, other.storage_);
    }
    other.ops_ = nullptr;
  }

  static_assert(kInlineBytes % sizeof(uint64_t) == 0, "inline storage is whole words");
  static constexpr std::size_t kWords = kInlineBytes / sizeof(uint64_t);
  union {
    unsigned char storage_[kInlineBytes];
    uint64_t words_[kWords];
  };
  const Ops* ops_ = nullptr;
};

}  // namespace ebb
