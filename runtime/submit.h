#pragma once
// Running a function on another core and getting its result back.

#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/future.h"
#include "runtime/spawn.h"

namespace ebb {

template <class F>
using submit_result_t = detail::future_value_t<std::invoke_result_t<std::decay_t<F>&>>;

// Runs fn() as an event on `core`; the Future (homed on the caller) gets what
// fn returns: a value, nothing, a Result, or a Future (chained). Fails with
// spawn_remote's errors.
template <class F>
Future<submit_result_t<F>> submit_to(CoreId core, F&& fn) {
  using R = submit_result_t<F>;
  Promise<R> promise;
  Future<R> result = promise.get_future();
  Status sent = spawn_remote(core, [promise = std::move(promise), fn = std::forward<F>(fn)]() mutable {
    detail::fulfill_with(promise, fn);
  });
  if (!sent) return make_failed_future<R>(sent.error());
  return result;
}

// Runs a copy of fn() on every core; the results come back in core order.
template <class F>
Future<std::vector<Result<submit_result_t<F>>>> submit_to_all(const F& fn) {
  std::vector<Future<submit_result_t<F>>> futures;
  const uint32_t cores = num_cores();
  futures.reserve(cores);
  for (CoreId core = 0; core < cores; ++core) futures.push_back(submit_to(core, F(fn)));
  return when_all(std::move(futures));
}

}  // namespace ebb
