#pragma once
// Result<T>: a value or an Error. Status is Result<void>.

#include <new>
#include <type_traits>
#include <utility>

#include "runtime/error.h"
#include "runtime/panic.h"

namespace ebb {

namespace detail {
[[noreturn]] EBB_COLD void result_has_error(const Error& error);
}  // namespace detail

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use Result<T*>");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;

  Result(const T& value) : ok_(true) { new (&value_) T(value); }
  Result(T&& value) : ok_(true) { new (&value_) T(std::move(value)); }
  Result(const Error& error) : ok_(false) { new (&error_) Error(error); }
  template <class... Args>
  explicit Result(std::in_place_t, Args&&... args) : ok_(true) {
    new (&value_) T(std::forward<Args>(args)...);
  }

  Result(const Result& other) : ok_(other.ok_) {
    if (ok_) new (&value_) T(other.value_);
    else new (&error_) Error(other.error_);
  }
  Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(other.ok_) {
    if (ok_) new (&value_) T(std::move(other.value_));
    else new (&error_) Error(other.error_);
  }
  Result& operator=(const Result& other) {
    if (this != &other) {
      destroy();
      construct_from(other);
    }
    return *this;
  }
  Result& operator=(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      destroy();
      ok_ = other.ok_;
      if (ok_) new (&value_) T(std::move(other.value_));
      else new (&error_) Error(other.error_);
    }
    return *this;
  }
  ~Result() { destroy(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }

  // value() on an error is a bug in the caller: it panics with the error's text.
  T& value() & {
    if (EBB_UNLIKELY(!ok_)) detail::result_has_error(error_);
    return value_;
  }
  const T& value() const& {
    if (EBB_UNLIKELY(!ok_)) detail::result_has_error(error_);
    return value_;
  }
  T&& value() && {
    if (EBB_UNLIKELY(!ok_)) detail::result_has_error(error_);
    return std::move(value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

  const Error& error() const {
    EBB_CHECK(!ok_, "Result::error() called on a value");
    return error_;
  }

 private:
  void destroy() {
    if (ok_) value_.~T();
  }
  void construct_from(const Result& other) {
    ok_ = other.ok_;
    if (ok_) new (&value_) T(other.value_);
    else new (&error_) Error(other.error_);
  }

  union {
    T value_;
    Error error_;
  };
  bool ok_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() : error_(Errc::kInvalidArgument, nullptr), ok_(true) {}
  Result(const Error& error) : error_(error), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {
    if (EBB_UNLIKELY(!ok_)) detail::result_has_error(error_);
  }
  const Error& error() const {
    EBB_CHECK(!ok_, "Result::error() called on a value");
    return error_;
  }

 private:
  Error error_;
  bool ok_;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace ebb
