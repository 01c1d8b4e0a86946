#pragma once
// Future<T> / Promise<T>: a value (or an Error) that arrives later.
//
// A Future belongs to the core that made its Promise (its home). On the home
// core every operation is plain single-threaded code with no atomics. A
// Promise may be completed, or dropped, anywhere: from another core or thread
// the completion is sent to the home core as an event, which wakes it. A
// Future made on a thread that is not a core has no home and uses a tiny
// lock instead (those are rare: a main thread waiting on the runtime).
//
// Ways to consume a Future (each consumes it):
//   f.then(fn)          fn takes T (errors skip fn and pass through) or
//                       Result<T>; it may return a value, a Result or a Future
//   f.on_result(fn)     calls fn(Result<T>&&) once ready
//   f.block()           waits: parks the event on a core; sleeps off a core
//   co_await f          in a coroutine returning Future<U>
// Continuations run on the home core, inline when the value arrives.
// A Promise dropped without a value completes its Future with
// Errc::kBrokenPromise; completing a Promise twice is a panic.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/core.h"
#include "runtime/fiber.h"
#include "runtime/function.h"
#include "runtime/panic.h"
#include "runtime/result.h"
#include "runtime/spawn.h"

namespace ebb {

template <class T>
class Future;
template <class T>
class Promise;

namespace detail {

// Queue fn on `core` whatever the shutdown phase; false when no runtime runs.
bool post(CoreId core, Event fn);
// Off-core waiting (hosted threads that are not cores).
void wait_while_zero(std::atomic<uint32_t>& flag);
void wake_waiter(std::atomic<uint32_t>& flag);
[[noreturn]] EBB_COLD void future_misuse(const char* what, CoreId home);

struct FutureStateBase {
  explicit FutureStateBase(CoreId home_core) : home(home_core) {}
  // Off-core states (home == kNoCore) are shared between threads: a spin lock
  // around a few stores. Home states are touched on the home core only.
  void lock() {
    if (home == kNoCore)
      while (spin.exchange(true, std::memory_order_acquire)) __builtin_ia32_pause();
  }
  void unlock() {
    if (home == kNoCore) spin.store(false, std::memory_order_release);
  }
  // True when the caller may touch the state directly.
  bool here() const { return home == kNoCore || home == this_core(); }

  const CoreId home;
  bool has_result = false;
  bool has_continuation = false;
  bool promise_done = false;
  bool future_done = false;
  std::atomic<bool> spin{false};
};

template <class T>
struct FutureState : FutureStateBase {
  explicit FutureState(CoreId home_core) : FutureStateBase(home_core) {}
  ~FutureState() {
    if (has_result) result.~Result<T>();
  }
  union {
    Result<T> result;  // valid when has_result
  };
  Function<void(Result<T>&&)> continuation;
};

// Completes `s` (the promise side), on its home core or under its lock.
template <class T>
void complete_here(FutureState<T>* s, Result<T>&& r) {
  s->lock();
  s->promise_done = true;
  if (s->has_continuation) {
    Function<void(Result<T>&&)> k = std::move(s->continuation);
    s->unlock();
    delete s;  // the future side handed its part to the continuation
    k(std::move(r));
  } else if (s->future_done) {
    s->unlock();
    delete s;  // nobody is waiting any more
  } else {
    new (&s->result) Result<T>(std::move(r));
    s->has_result = true;
    s->unlock();
  }
}

template <class T>
void complete(FutureState<T>* s, Result<T>&& r) {
  if (s->here()) {
    complete_here(s, std::move(r));
    return;
  }
  // From another core or thread: the home core completes it.
  if (!post(s->home, [s, r = std::move(r)]() mutable { complete_here(s, std::move(r)); })) {
    future_misuse("a Promise completed after its runtime shut down", s->home);
  }
}

// The future side hands over its part: k runs with the result.
template <class T>
void attach_here(FutureState<T>* s, Function<void(Result<T>&&)>&& k) {
  s->lock();
  s->future_done = true;
  if (s->has_result) {
    Result<T> r = std::move(s->result);
    s->result.~Result<T>();
    s->has_result = false;
    const bool last = s->promise_done;
    s->unlock();
    if (last) delete s;
    k(std::move(r));
  } else {
    s->continuation = std::move(k);
    s->has_continuation = true;
    s->unlock();
  }
}

template <class T>
void drop_here(FutureState<T>* s) {
  s->lock();
  s->future_done = true;
  const bool last = s->promise_done;
  s->unlock();
  if (last) delete s;
}

template <class T>
struct FutureValue {
  using type = T;
};
template <class T>
struct FutureValue<Future<T>> {
  using type = T;
};
template <class T>
struct FutureValue<Result<T>> {
  using type = T;
};
// The T of the Future that returning an R from a continuation produces.
template <class R>
using future_value_t = typename FutureValue<std::remove_cvref_t<R>>::type;

template <class T>
struct IsFuture : std::false_type {};
template <class T>
struct IsFuture<Future<T>> : std::true_type {};
template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {};

// Completes p with whatever fn() returns: nothing, a value, a Result or a
// Future (which is chained).
template <class U, class F>
void fulfill_with(Promise<U>& p, F&& fn);

}  // namespace detail

template <class T>
class Promise {
 public:
  // Its Future's home is the calling core (none off a core).
  Promise() : state_(new detail::FutureState<T>(this_core())) {}
  Promise(Promise&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)),
        future_taken_(other.future_taken_) {}
  Promise& operator=(Promise&& other) noexcept {
    if (this != &other) {
      abandon();
      state_ = std::exchange(other.state_, nullptr);
      future_taken_ = other.future_taken_;
    }
    return *this;
  }
  Promise(const Promise&) = delete;
  Promise& operator=(const Promise&) = delete;
  ~Promise() { abandon(); }

  // Once per Promise.
  Future<T> get_future();

  template <class U>
    requires(!std::is_void_v<T>)
  void set_value(U&& value) {
    set_result(Result<T>(std::forward<U>(value)));
  }
  void set_value()
    requires std::is_void_v<T>
  {
    set_result(Result<T>());
  }
  void set_error(const Error& error) { set_result(Result<T>(error)); }
  void set_result(Result<T>&& result) {
    if (EBB_UNLIKELY(state_ == nullptr))
      panic("Promise completed twice (or used after being moved from)");
    detail::FutureState<T>* s = std::exchange(state_, nullptr);
    if (!future_taken_) {
      delete s;  // no Future was ever made: nobody can see the value
      return;
    }
    detail::complete(s, std::move(result));
  }

  // False once completed or moved from.
  bool pending() const { return state_ != nullptr; }

 private:
  void abandon() {
    if (state_ != nullptr)
      set_result(Result<T>(Error(Errc::kBrokenPromise, "Promise dropped without a value")));
  }
  detail::FutureState<T>* state_;
  bool future_taken_ = false;
};

namespace detail {
template <class T>
struct CoroutinePromise;
template <class T>
struct FutureAwaiter;
}  // namespace detail

template <class T>
class [[nodiscard]] Future {
 public:
  using value_type = T;
  using promise_type = detail::CoroutinePromise<T>;

  Future() = default;
  Future(Future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(Future&& other) noexcept {
    if (this != &other) {
      drop();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;
  ~Future() { drop(); }

  // False for a default-made or consumed Future.
  bool valid() const { return state_ != nullptr; }
  // True when the result is there (on the home core, or off-core states).
  bool ready() const {
    if (state_ == nullptr || !state_->here()) return false;
    state_->lock();
    const bool has = state_->has_result;
    state_->unlock();
    return has;
  }

  // Calls k(Result<T>&&) once the result is there: now if it is, else on the
  // home core when it arrives. Consumes the Future. From another core the
  // attachment is sent to the home core first.
  void on_result(Function<void(Result<T>&&)> k) {
    detail::FutureState<T>* s = take("on_result");
    if (s->here()) {
      detail::attach_here(s, std::move(k));
    } else if (!detail::post(s->home, [s, k = std::move(k)]() mutable {
                 detail::attach_here(s, std::move(k));
               })) {
      detail::future_misuse("Future::on_result after its runtime shut down", s->home);
    }
  }

  // then(fn): see the top of this file.
  template <class F>
  auto then(F&& fn);

  // Waits for the result. In an event: parks it (the core runs other events
  // meanwhile), on the Future's home core only. Off a core: sleeps.
  Result<T> block();

 private:
  friend class Promise<T>;
  explicit Future(detail::FutureState<T>* s) : state_(s) {}

  detail::FutureState<T>* take(const char* what) {
    if (EBB_UNLIKELY(state_ == nullptr))
      panic("Future::%s on an empty Future (default-made, moved from or consumed)", what);
    return std::exchange(state_, nullptr);
  }
  void drop() {
    detail::FutureState<T>* s = std::exchange(state_, nullptr);
    if (s == nullptr) return;
    if (s->here()) detail::drop_here(s);
    else detail::post(s->home, [s] { detail::drop_here(s); });
  }

  // The result of a ready() Future; consumes it.
  Result<T> take_ready() {
    detail::FutureState<T>* s = take("take_ready");
    s->lock();
    Result<T> r = std::move(s->result);
    s->result.~Result<T>();
    s->has_result = false;
    s->future_done = true;
    const bool last = s->promise_done;
    s->unlock();
    if (last) delete s;
    return r;
  }
  friend struct detail::FutureAwaiter<T>;

  detail::FutureState<T>* state_ = nullptr;
};

template <class T>
Future<T> Promise<T>::get_future() {
  if (EBB_UNLIKELY(state_ == nullptr || future_taken_))
    panic("Promise::get_future called twice (or after completion)");
  future_taken_ = true;
  return Future<T>(state_);
}

template <class T>
Future<T> make_ready_future(T value) {
  Promise<T> p;
  Future<T> f = p.get_future();
  p.set_value(std::move(value));
  return f;
}
inline Future<void> make_ready_future() {
  Promise<void> p;
  Future<void> f = p.get_future();
  p.set_value();
  return f;
}
template <class T>
Future<T> make_failed_future(const Error& error) {
  Promise<T> p;
  Future<T> f = p.get_future();
  p.set_error(error);
  return f;
}

// ---- then -------------------------------------------------------------------

namespace detail {

template <class U, class F>
void fulfill_with(Promise<U>& p, F&& fn) {
  using R = std::invoke_result_t<F&&>;
  if constexpr (std::is_void_v<R>) {
    std::forward<F>(fn)();
    p.set_value();
  } else if constexpr (IsFuture<std::remove_cvref_t<R>>::value) {
    R inner = std::forward<F>(fn)();
    inner.on_result([p = std::move(p)](Result<U>&& r) mutable { p.set_result(std::move(r)); });
  } else if constexpr (IsResult<std::remove_cvref_t<R>>::value) {
    p.set_result(std::forward<F>(fn)());
  } else {
    p.set_value(std::forward<F>(fn)());
  }
}

// What calling a continuation F with a Result<T> (or its value) returns.
template <class T, class F>
struct ThenCall {
  static constexpr bool kTakesResult = std::is_invocable_v<F&, Result<T>&&>;
  template <class G = F>
  static auto returns() {
    if constexpr (kTakesResult) return std::type_identity<std::invoke_result_t<G&, Result<T>&&>>{};
    else if constexpr (std::is_void_v<T>) return std::type_identity<std::invoke_result_t<G&>>{};
    else return std::type_identity<std::invoke_result_t<G&, T&&>>{};
  }
  using type = typename decltype(returns())::type;
};

}  // namespace detail

template <class T>
template <class F>
auto Future<T>::then(F&& fn) {
  using Call = detail::ThenCall<T, std::decay_t<F>>;
  using U = detail::future_value_t<typename Call::type>;
  Promise<U> next;
  Future<U> result = next.get_future();
  on_result([next = std::move(next), fn = std::forward<F>(fn)](Result<T>&& r) mutable {
    if constexpr (Call::kTakesResult) {
      detail::fulfill_with(next, [&] { return fn(std::move(r)); });
    } else {
      if (!r.ok()) {
        next.set_error(r.error());
        return;
      }
      if constexpr (std::is_void_v<T>) detail::fulfill_with(next, [&] { return fn(); });
      else detail::fulfill_with(next, [&] { return fn(std::move(r).value()); });
    }
  });
  return result;
}

// ---- block ------------------------------------------------------------------

template <class T>
Result<T> Future<T>::block() {
  detail::FutureState<T>* s = state_;
  if (EBB_UNLIKELY(s == nullptr)) take("block");
  if (s->home != kNoCore && s->home != this_core())
    detail::future_misuse("Future::block away from the Future's home core", s->home);
  if (ready()) return take_ready();  // no switch, no wait
  std::optional<Result<T>> slot;
  if (on_core()) {
    EventContext context;
    on_result([&slot, &context](Result<T>&& r) {
      slot.emplace(std::move(r));
      unpark(context);
    });
    park(context);
  } else {
    std::atomic<uint32_t> done{0};
    on_result([&slot, &done](Result<T>&& r) {
      slot.emplace(std::move(r));
      detail::wake_waiter(done);
    });
    detail::wait_while_zero(done);
  }
  return std::move(*slot);
}

// ---- combinators --------------------------------------------------------------

// Completes when every future has: the results in order, errors included.
template <class T>
Future<std::vector<Result<T>>> when_all(std::vector<Future<T>> futures) {
  using Results = std::vector<Result<T>>;
  if (futures.empty()) return make_ready_future(Results{});
  struct Join {
    Results results;
    std::atomic<std::size_t> remaining;
    Promise<Results> done;
  };
  auto* join = new Join{Results(), {futures.size()}, Promise<Results>()};
  join->results.reserve(futures.size());
  for (std::size_t i = 0; i < futures.size(); ++i)
    join->results.emplace_back(Error(Errc::kCancelled, "when_all: not completed"));
  Future<Results> all = join->done.get_future();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    futures[i].on_result([join, i](Result<T>&& r) {
      join->results[i] = std::move(r);
      if (join->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        join->done.set_value(std::move(join->results));
        delete join;
      }
    });
  }
  return all;
}

// Variadic: a tuple of results, one per argument.
template <class... Ts>
Future<std::tuple<Result<Ts>...>> when_all(Future<Ts>... futures) {
  using Results = std::tuple<Result<Ts>...>;
  struct Join {
    Results results{Result<Ts>(Error(Errc::kCancelled, "when_all: not completed"))...};
    std::atomic<std::size_t> remaining{sizeof...(Ts)};
    Promise<Results> done;
  };
  auto* join = new Join();
  Future<Results> all = join->done.get_future();
  auto arm = [join]<std::size_t I, class U>(std::integral_constant<std::size_t, I>, Future<U>& f) {
    f.on_result([join](Result<U>&& r) {
      std::get<I>(join->results) = std::move(r);
      if (join->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        join->done.set_value(std::move(join->results));
        delete join;
      }
    });
  };
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (arm(std::integral_constant<std::size_t, I>{}, futures), ...);
  }(std::index_sequence_for<Ts...>{});
  return all;
}

template <class T>
struct WhenAny {
  std::size_t index;  // which future completed first
  Result<T> result;
};

// Completes with the first future to complete; the others are ignored.
// Errc::kInvalidArgument for an empty list.
template <class T>
Future<WhenAny<T>> when_any(std::vector<Future<T>> futures) {
  if (futures.empty())
    return make_failed_future<WhenAny<T>>(Error(Errc::kInvalidArgument, "when_any of no futures"));
  struct Race {
    std::atomic<bool> won{false};
    std::atomic<std::size_t> remaining;
    Promise<WhenAny<T>> done;
  };
  auto* race = new Race{{false}, {futures.size()}, Promise<WhenAny<T>>()};
  Future<WhenAny<T>> first = race->done.get_future();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    futures[i].on_result([race, i](Result<T>&& r) {
      if (!race->won.exchange(true, std::memory_order_acq_rel))
        race->done.set_value(WhenAny<T>{i, std::move(r)});
      if (race->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) delete race;
    });
  }
  return first;
}

// ---- coroutines ---------------------------------------------------------------

namespace detail {

template <class T>
struct FutureAwaiter {
  Future<T> future;
  std::optional<Result<T>> result;

  bool await_ready() const { return future.ready(); }
  void await_suspend(std::coroutine_handle<> handle) {
    // Not ready, and on the home core nothing can complete it before the
    // continuation is attached; it resumes the coroutine when the value comes.
    future.on_result([this, handle](Result<T>&& r) {
      result.emplace(std::move(r));
      handle.resume();
    });
  }
  Result<T> await_resume() {
    if (!result) return future.take_ready();
    return std::move(*result);
  }
};

template <class T>
struct CoroutinePromiseBase {
  Promise<T> promise;
  Future<T> get_return_object() { return promise.get_future(); }
  std::suspend_never initial_suspend() noexcept { return {}; }
  std::suspend_never final_suspend() noexcept { return {}; }
  void unhandled_exception() { panic("exception escaped a coroutine"); }
};

template <class T>
struct CoroutinePromise : CoroutinePromiseBase<T> {
  // `co_return value;`, `co_return error;` or `co_return result;`
  void return_value(Result<T> r) { this->promise.set_result(std::move(r)); }
};

template <>
struct CoroutinePromise<void> : CoroutinePromiseBase<void> {
  void return_void() { this->promise.set_value(); }
};

}  // namespace detail

// `Result<T> r = co_await std::move(future);` (also works on temporaries).
template <class T>
detail::FutureAwaiter<T> operator co_await(Future<T>&& future) {
  return detail::FutureAwaiter<T>{std::move(future), std::nullopt};
}

}  // namespace ebb
