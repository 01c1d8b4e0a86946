#include "runtime/function.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>

namespace ebb {
namespace {

struct Tracked {
  static inline int alive = 0;
  Tracked() { ++alive; }
  Tracked(const Tracked&) { ++alive; }
  Tracked(Tracked&&) noexcept { ++alive; }
  ~Tracked() { --alive; }
};

TEST(Function, EmptyByDefault) {
  Function<void()> f;
  EXPECT_FALSE(f);
  Function<void()> g = nullptr;
  EXPECT_FALSE(g);
}

TEST(Function, CallsSmallLambdaWithArguments) {
  int base = 10;
  Function<int(int, int)> add = [base](int a, int b) { return base + a + b; };
  ASSERT_TRUE(add);
  EXPECT_EQ(add(1, 2), 13);
}

TEST(Function, LargeCallableGoesToTheHeapAndStillWorks) {
  std::array<int, 64> big{};
  big[63] = 7;
  Function<int()> f = [big] { return big[63]; };
  Function<int()> moved = std::move(f);
  EXPECT_FALSE(f);
  EXPECT_EQ(moved(), 7);
}

TEST(Function, MoveOnlyCaptures) {
  auto owned = std::make_unique<int>(42);
  Function<int()> f = [p = std::move(owned)] { return *p; };
  Function<int()> g;
  g = std::move(f);
  EXPECT_EQ(g(), 42);
}

TEST(Function, DestroysCapturesExactlyOnceAcrossMoves) {
  {
    Function<void()> a = [t = Tracked()] { (void)t; };
    EXPECT_EQ(Tracked::alive, 1);
    Function<void()> b = std::move(a);
    Function<void()> c;
    c = std::move(b);
    EXPECT_EQ(Tracked::alive, 1);
    c.reset();
    EXPECT_EQ(Tracked::alive, 0);
    EXPECT_FALSE(c);
  }
  {
    std::array<Tracked, 8> many;
    Function<void()> heap = [many] { (void)many; };
    EXPECT_EQ(Tracked::alive, 16);
  }
  EXPECT_EQ(Tracked::alive, 0);
}

TEST(Function, MutableStateSurvivesBetweenCalls) {
  Function<int()> counter = [n = 0]() mutable { return ++n; };
  counter();
  counter();
  EXPECT_EQ(counter(), 3);
}

}  // namespace
}  // namespace ebb
