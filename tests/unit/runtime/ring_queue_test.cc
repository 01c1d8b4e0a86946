#include "runtime/ring_queue.h"

#include <gtest/gtest.h>

#include <memory>

namespace ebb::detail {
namespace {

TEST(RingQueue, FifoAcrossGrowthAndWraparound) {
  RingQueue<int> q;
  int next_in = 0, next_out = 0;
  // Interleave so the ring wraps many times while it grows.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 300; ++i) q.push(next_in++);
    for (int i = 0; i < 250; ++i) EXPECT_EQ(q.pop(), next_out++);
  }
  while (!q.empty()) EXPECT_EQ(q.pop(), next_out++);
  EXPECT_EQ(next_in, next_out);
}

TEST(RingQueue, DestroysWhatIsLeft) {
  auto shared = std::make_shared<int>(1);
  {
    RingQueue<std::shared_ptr<int>> q;
    for (int i = 0; i < 1000; ++i) q.push(std::shared_ptr<int>(shared));
    EXPECT_EQ(shared.use_count(), 1001);
    q.pop();
  }
  EXPECT_EQ(shared.use_count(), 1);
}

}  // namespace
}  // namespace ebb::detail
