#include "runtime/hosted/fd_watch.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>

#include "tests/support/runtime_fixture.h"

namespace ebb {
namespace {

using testing::RuntimeFixture;

class FdWatchTest : public RuntimeFixture {
 protected:
  void SetUp() override {
    start(2);
    ASSERT_EQ(pipe2(fds_, O_NONBLOCK), 0);
  }
  void TearDown() override {
    RuntimeFixture::TearDown();
    close(fds_[0]);
    close(fds_[1]);
  }
  int fds_[2];
};

TEST_F(FdWatchTest, ReadinessRunsTheCallbackOnTheWatchingCore) {
  std::atomic<int> reads{0};
  std::atomic<CoreId> where{kNoCore};
  const int read_end = fds_[0];
  auto watched = on_core(1, [&] {
    return hosted::watch_fd(read_end, EPOLLIN, [&, read_end](uint32_t ready) {
      EXPECT_TRUE(ready & EPOLLIN);
      char buf[64];
      while (read(read_end, buf, sizeof buf) > 0) {
      }
      where = this_core();
      reads++;
    });
  });
  ASSERT_TRUE(watched.ok());
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  while (reads.load() == 0) std::this_thread::yield();
  EXPECT_EQ(where.load(), 1u);
  ASSERT_EQ(write(fds_[1], "y", 1), 1);
  while (reads.load() < 2) std::this_thread::yield();
  auto removed = on_core(1, [&] { return hosted::unwatch_fd(read_end); });
  EXPECT_TRUE(removed.ok());
  ASSERT_EQ(write(fds_[1], "z", 1), 1);
  run(1, [] {});
  run(1, [] {});
  EXPECT_EQ(reads.load(), 2);
}

TEST_F(FdWatchTest, ErrorsAreValues) {
  const int read_end = fds_[0];
  auto results = on_core(0, [read_end] {
    std::vector<Status> r;
    r.push_back(hosted::watch_fd(read_end, EPOLLIN, [](uint32_t) {}));
    r.push_back(hosted::watch_fd(read_end, EPOLLIN, [](uint32_t) {}));  // twice
    r.push_back(hosted::unwatch_fd(12345));                              // never watched
    r.push_back(hosted::watch_fd(-1, EPOLLIN, [](uint32_t) {}));        // bad fd
    r.push_back(hosted::modify_fd(read_end, EPOLLIN | EPOLLOUT));
    r.push_back(hosted::unwatch_fd(read_end));
    return r;
  });
  ASSERT_EQ(results->size(), 6u);
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_EQ((*results)[1].error().code(), Errc::kAlreadyExists);
  EXPECT_EQ((*results)[2].error().code(), Errc::kInvalidArgument);
  EXPECT_EQ((*results)[3].error().code(), Errc::kSystem);
  EXPECT_EQ((*results)[3].error().sys_errno(), EBADF);
  EXPECT_TRUE((*results)[4].ok());
  EXPECT_TRUE((*results)[5].ok());
  Status off = hosted::watch_fd(read_end, EPOLLIN, [](uint32_t) {});
  EXPECT_EQ(off.error().code(), Errc::kNotOnCore);
}

TEST_F(FdWatchTest, ACallbackCanUnwatchItself) {
  std::atomic<int> calls{0};
  const int read_end = fds_[0];
  run(0, [&, read_end] {
    EXPECT_TRUE(hosted::watch_fd(read_end, EPOLLIN, [&, read_end](uint32_t) {
                  calls++;
                  EXPECT_TRUE(hosted::unwatch_fd(read_end).ok());  // level-triggered: would repeat
                }).ok());
  });
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  while (calls.load() == 0) std::this_thread::yield();
  for (int i = 0; i < 10; ++i) run(0, [] {});
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace ebb
