#include "runtime/result.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

namespace ebb {
namespace {

TEST(Result, HoldsAValue) {
  Result<int> r = 5;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  EXPECT_EQ(r.value_or(9), 5);
}

TEST(Result, HoldsAnError) {
  Result<int> r = Error(Errc::kNoSuchCore, "no such core", 7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNoSuchCore);
  EXPECT_EQ(r.error().value(), 7);
  EXPECT_EQ(r.value_or(9), 9);
}

TEST(Result, MovesMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(3));
  Result<std::unique_ptr<int>> moved = std::move(r);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(**moved, 3);
  std::unique_ptr<int> taken = std::move(moved).value();
  EXPECT_EQ(*taken, 3);
}

TEST(Result, AssignmentSwitchesBetweenValueAndError) {
  Result<std::string> r = std::string("hello");
  r = Error(Errc::kCancelled, "cancelled");
  EXPECT_FALSE(r.ok());
  r = std::string("again");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "again");
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status failed = Error(Errc::kShuttingDown, "bye");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), Errc::kShuttingDown);
}

TEST(Error, DescribeNamesMessageValueErrnoAndCode) {
  char text[kErrorTextSize];
  Error e(Errc::kNoSuchCore, "spawn_remote: no such core", 9);
  EXPECT_STREQ(e.describe(text, sizeof text), "spawn_remote: no such core (9) [no such core]");
  Error sys = Error::from_errno("open failed", ENOENT);
  EXPECT_NE(std::strstr(sys.describe(text, sizeof text), "No such file or directory"), nullptr);
  char tiny[8];
  EXPECT_EQ(std::strlen(e.describe(tiny, sizeof tiny)), 7u);  // truncated, still terminated
}

TEST(ResultDeathTest, ValueOfAnErrorPanicsWithItsText) {
  Result<int> r = Error(Errc::kExhausted, "pool is empty");
  EXPECT_DEATH((void)r.value(), "Result::value\\(\\) on an error: pool is empty");
}

}  // namespace
}  // namespace ebb
