#include "runtime/future.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "runtime/fiber.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::RuntimeFixture;

class FutureTest : public RuntimeFixture {
 protected:
  void SetUp() override { start(3); }
};

TEST_F(FutureTest, ThenChainsValuesResultsAndFutures) {
  auto r = on_core(0, [] {
    Promise<int> p;
    Future<std::string> chained =
        p.get_future()
            .then([](int x) { return x * 2; })                          // value
            .then([](int x) -> Result<int> { return x + 1; })           // Result
            .then([](int x) { return make_ready_future(x * 10); })      // Future
            .then([](Result<int> r) { return std::to_string(*r); });    // takes Result
    p.set_value(4);
    return chained;
  });
  EXPECT_EQ(*r, "90");
}

TEST_F(FutureTest, ErrorsSkipValueContinuations) {
  auto r = on_core(0, [] {
    int calls = 0;
    Future<int> f = make_failed_future<int>(Error(Errc::kTimedOut, "too slow"))
                        .then([&calls](int x) {
                          ++calls;
                          return x;
                        })
                        .then([&calls](int x) {
                          ++calls;
                          return x;
                        });
    Result<int> out = f.block();
    EXPECT_EQ(calls, 0);
    return out;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimedOut);
}

TEST_F(FutureTest, ContinuationsCanRecoverFromErrors) {
  auto r = on_core(0, [] {
    return make_failed_future<int>(Error(Errc::kCancelled, "x")).then([](Result<int> r) {
      return r.ok() ? *r : -1;
    });
  });
  EXPECT_EQ(*r, -1);
}

TEST_F(FutureTest, VoidFutures) {
  auto r = on_core(1, [] {
    Promise<void> p;
    Future<int> f = p.get_future().then([] { return 5; });
    p.set_value();
    return f;
  });
  EXPECT_EQ(*r, 5);
}

TEST_F(FutureTest, ReadyFutureIsReady) {
  auto r = on_core(0, [] {
    Future<int> f = make_ready_future(3);
    EXPECT_TRUE(f.ready());
    EXPECT_TRUE(f.valid());
    Result<int> v = f.block();  // no park: it is ready
    EXPECT_FALSE(f.valid());
    return *v;
  });
  EXPECT_EQ(*r, 3);
}

// Completed on core 2, waited on by a parked event on core 0: the
// completion wakes core 0 and the waiter resumes there.
TEST_F(FutureTest, CompletionOnAnotherCoreWakesTheWaiter) {
  for (int round = 0; round < 100; ++round) {
    auto r = on_core(0, [] {
      Promise<int> p;
      Future<int> f = p.get_future();
      EXPECT_TRUE(spawn_remote(2, [p = std::move(p)]() mutable { p.set_value(this_core()); }).ok());
      Result<int> v = f.block();
      EXPECT_EQ(this_core(), 0u);
      return v;
    });
    EXPECT_EQ(r.value(), 2);
  }
}

TEST_F(FutureTest, ThenContinuationRunsOnTheHomeCore) {
  auto r = on_core(1, [] {
    Promise<int> p;
    Future<CoreId> where = p.get_future().then([](int) { return this_core(); });
    EXPECT_TRUE(spawn_remote(0, [p = std::move(p)]() mutable { p.set_value(1); }).ok());
    return where;
  });
  EXPECT_EQ(*r, 1u);
}

TEST_F(FutureTest, OffCoreThreadsBlockOnFutures) {
  Promise<int> p;  // made off a core: no home
  Future<int> f = p.get_future();
  std::thread completer([p = std::move(p)]() mutable {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    p.set_value(77);
  });
  EXPECT_EQ(f.block().value(), 77);
  completer.join();
}

TEST_F(FutureTest, ACoreCanWaitOnAFutureMadeOffCore) {
  Promise<int> p;
  Future<int> f = p.get_future();
  auto waiter = submit_to(2, [f = std::move(f)]() mutable { return f.block(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  p.set_value(8);
  EXPECT_EQ(waiter.block().value(), 8);
}

TEST_F(FutureTest, DroppedPromiseBreaksTheFuture) {
  auto r = on_core(0, [] {
    Future<int> f;
    {
      Promise<int> p;
      f = p.get_future();
    }
    return f.block();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kBrokenPromise);
  // Dropped on another core, too.
  auto remote = on_core(0, [] {
    Promise<int> p;
    Future<int> f = p.get_future();
    EXPECT_TRUE(spawn_remote(1, [p = std::move(p)] {}).ok());
    return f.block();
  });
  EXPECT_EQ(remote.error().code(), Errc::kBrokenPromise);
}

TEST_F(FutureTest, DroppedFutureAndUnusedPromiseDoNotLeak) {
  run(0, [] {
    Promise<std::unique_ptr<int>> p;
    { Future<std::unique_ptr<int>> f = p.get_future(); }
    p.set_value(std::make_unique<int>(1));  // nobody listens: freed (ASan checks)
    Promise<int> never_asked;
    never_asked.set_value(3);
  });
}

TEST_F(FutureTest, WhenAllKeepsOrderAndErrors) {
  auto r = on_core(0, [] {
    std::vector<Promise<int>> promises(5);
    std::vector<Future<int>> futures;
    for (auto& p : promises) futures.push_back(p.get_future());
    Future<std::vector<Result<int>>> all = when_all(std::move(futures));
    // Complete out of order, from several cores, one with an error.
    for (int i : {3, 0, 4, 1}) {
      EXPECT_TRUE(spawn_remote(i % 3, [p = std::move(promises[i]), i]() mutable {
                    p.set_value(i * 10);
                  }).ok());
    }
    promises[2].set_error(Error(Errc::kExhausted, "none left"));
    return all;
  });
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);
  for (int i : {0, 1, 3, 4}) EXPECT_EQ((*r)[i].value(), i * 10);
  EXPECT_EQ((*r)[2].error().code(), Errc::kExhausted);
}

TEST_F(FutureTest, WhenAllOfNothingIsReady) {
  auto r = on_core(0, [] { return when_all(std::vector<Future<int>>{}); });
  EXPECT_TRUE(r->empty());
}

TEST_F(FutureTest, VariadicWhenAll) {
  auto r = on_core(0, [] {
    Promise<std::string> text;
    Future<std::tuple<Result<int>, Result<std::string>, Result<void>>> all =
        when_all(submit_to(1, [] { return 1; }), text.get_future(), submit_to(2, [] {}));
    text.set_value("two");
    return all;
  });
  EXPECT_EQ(std::get<0>(*r).value(), 1);
  EXPECT_EQ(std::get<1>(*r).value(), "two");
  EXPECT_TRUE(std::get<2>(*r).ok());
}

TEST_F(FutureTest, WhenAnyTakesTheFirst) {
  auto r = on_core(0, [] {
    std::vector<Promise<int>> promises(3);
    std::vector<Future<int>> futures;
    for (auto& p : promises) futures.push_back(p.get_future());
    Future<WhenAny<int>> first = when_any(std::move(futures));
    promises[1].set_value(11);
    promises[0].set_value(10);  // too late, ignored
    return first.then([](WhenAny<int> w) { return std::make_pair(w.index, w.result.value()); });
  });
  EXPECT_EQ(r->first, 1u);
  EXPECT_EQ(r->second, 11);
  auto empty = on_core(0, [] { return when_any(std::vector<Future<int>>{}); });
  EXPECT_FALSE(empty.ok());
}

// C++20 coroutines: co_await suspends without blocking the core.
Future<int> add_remotely(int a, int b) {
  Result<int> x = co_await submit_to(1, [a] { return a; });
  Result<int> y = co_await submit_to(2, [b] { return b; });
  if (!x || !y) co_return Error(Errc::kCancelled, "lost an operand");
  co_return *x + *y;
}

Future<void> count_to(int n, int* out) {
  for (int i = 0; i < n; ++i) {
    Status s = co_await submit_to(this_core(), [] {});
    if (!s) co_return;
    ++*out;
  }
}

TEST_F(FutureTest, CoroutinesAwaitFutures) {
  auto r = on_core(0, [] { return add_remotely(20, 22); });
  EXPECT_EQ(*r, 42);
  auto counted = on_core(0, [] {
    auto n = std::make_shared<int>(0);
    return count_to(100, n.get()).then([n] { return *n; });
  });
  EXPECT_EQ(*counted, 100);
}

Future<int> fails() { co_return Error(Errc::kExhausted, "nothing"); }
TEST_F(FutureTest, CoroutinesReturnErrors) {
  auto r = on_core(0, [] { return fails(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kExhausted);
}

TEST_F(FutureTest, SubmitToAllReturnsResultsInCoreOrder) {
  auto r = on_core(1, [] { return submit_to_all([] { return this_core() * 100; }); });
  ASSERT_EQ(r->size(), 3u);
  for (CoreId c = 0; c < 3; ++c) EXPECT_EQ((*r)[c].value(), c * 100);
}

using FutureDeathTest = FutureTest;

TEST_F(FutureDeathTest, CompletingAPromiseTwicePanics) {
  EXPECT_DEATH(run(0, [] {
                 Promise<int> p;
                 Future<int> f = p.get_future();
                 p.set_value(1);
                 p.set_value(2);
               }),
               "Promise completed twice");
}

TEST_F(FutureDeathTest, BlockingAwayFromTheHomeCorePanics) {
  EXPECT_DEATH(run(0, [] {
                 Promise<int> p;
                 Future<int> f = p.get_future();
                 (void)submit_to(1, [f = std::move(f)]() mutable { return f.block(); }).block();
               }),
               "away from the Future's home core");
}

TEST_F(FutureDeathTest, GetFutureTwicePanics) {
  EXPECT_DEATH(run(0, [] {
                 Promise<int> p;
                 Future<int> a = p.get_future();
                 Future<int> b = p.get_future();
               }),
               "get_future called twice");
}

}  // namespace
}  // namespace ebb
