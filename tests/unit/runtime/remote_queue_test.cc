#include "runtime/remote_queue.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ebb::detail {
namespace {

struct Item : RemoteLink {
  int producer;
  int sequence;
};

TEST(RemoteQueue, EmptyPopsNull) {
  RemoteQueue q;
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_FALSE(q.might_have_work());
}

TEST(RemoteQueue, SingleThreadFifo) {
  RemoteQueue q;
  std::vector<Item> items(100);
  for (int i = 0; i < 100; ++i) {
    items[i].sequence = i;
    q.push(&items[i]);
  }
  EXPECT_TRUE(q.might_have_work());
  for (int i = 0; i < 100; ++i) {
    auto* item = static_cast<Item*>(q.pop());
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->sequence, i);
  }
  EXPECT_EQ(q.pop(), nullptr);
}

// Many producers, one consumer: nothing lost, each producer's items in order.
TEST(RemoteQueue, ManyProducersKeepPerProducerOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 50'000;
  RemoteQueue q;
  std::vector<std::vector<Item>> items(kProducers);
  for (auto& v : items) v = std::vector<Item>(kPerProducer);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        items[p][i].producer = p;
        items[p][i].sequence = i;
        q.push(&items[p][i]);
      }
    });
  }
  std::vector<int> next(kProducers, 0);
  int received = 0;
  while (received < kProducers * kPerProducer) {
    RemoteLink* link = q.pop();
    if (link == nullptr) continue;
    auto* item = static_cast<Item*>(link);
    ASSERT_EQ(item->sequence, next[item->producer]) << "producer " << item->producer;
    ++next[item->producer];
    ++received;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(q.pop(), nullptr);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kPerProducer);
}

}  // namespace
}  // namespace ebb::detail
