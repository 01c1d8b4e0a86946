#include "ebbs/memory/page/buddy.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace ebb::mem {
namespace {

// 32 MiB of plain memory, 2 MiB aligned by over-mapping.
class BuddyTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kBytes = std::size_t{32} << 20;
  void SetUp() override {
    raw_ = mmap(nullptr, kBytes + (2u << 20), PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT_NE(raw_, MAP_FAILED);
    const uintptr_t aligned = (reinterpret_cast<uintptr_t>(raw_) + (2u << 20) - 1) & ~uintptr_t{(2u << 20) - 1};
    base_ = reinterpret_cast<void*>(aligned);
  }
  void TearDown() override { munmap(raw_, kBytes + (2u << 20)); }
  void* raw_ = nullptr;
  void* base_ = nullptr;
};

TEST_F(BuddyTest, BlocksAreAlignedToTheirSizeAndDoNotOverlap) {
  BuddyRegion region(base_, kBytes);
  std::vector<std::pair<char*, std::size_t>> blocks;
  // Two of every order up to 2 MiB (the region's alignment guarantees those).
  for (uint32_t order = 0; order_bytes(order) <= (2u << 20); ++order) {
    for (int i = 0; i < 2; ++i) {
      void* b = region.allocate(order, BlockTag::kLarge);
      ASSERT_NE(b, nullptr) << "order " << order;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % order_bytes(order), 0u) << "order " << order;
      EXPECT_EQ(region.order_of(b), order);
      EXPECT_EQ(region.tag_of(b), BlockTag::kLarge);
      blocks.emplace_back(static_cast<char*>(b), order_bytes(order));
    }
  }
  std::sort(blocks.begin(), blocks.end());
  for (std::size_t i = 1; i < blocks.size(); ++i)
    EXPECT_LE(blocks[i - 1].first + blocks[i - 1].second, blocks[i].first);
  EXPECT_TRUE(region.check_consistency());
}

TEST_F(BuddyTest, FreeingEverythingCoalescesBackToWhereItStarted) {
  BuddyRegion region(base_, kBytes);
  const std::size_t free_at_start = region.free_pages();
  std::vector<std::size_t> blocks_at_start;
  uint32_t biggest = 0;
  for (uint32_t order = 0; order <= kMaxOrder; ++order) {
    blocks_at_start.push_back(region.free_blocks(order));
    if (region.free_blocks(order) != 0) biggest = order;
  }
  std::vector<void*> blocks;
  while (void* b = region.allocate(0, BlockTag::kNone)) blocks.push_back(b);  // exhaust
  EXPECT_EQ(region.free_pages(), 0u);
  EXPECT_EQ(blocks.size(), free_at_start);
  EXPECT_EQ(region.allocate(0, BlockTag::kNone), nullptr);  // exhausted: null, no crash
  std::shuffle(blocks.begin(), blocks.end(), std::mt19937(7));
  for (void* b : blocks) ASSERT_TRUE(region.free(b));
  EXPECT_EQ(region.free_pages(), free_at_start);
  for (uint32_t order = 0; order <= kMaxOrder; ++order)
    EXPECT_EQ(region.free_blocks(order), blocks_at_start[order]) << "order " << order;
  EXPECT_TRUE(region.check_consistency());
  EXPECT_NE(region.allocate(biggest, BlockTag::kNone), nullptr);  // works after exhaustion
}

// The largest order, in a region big enough to hold one aligned: address
// space only (nothing but the metadata is touched).
TEST(BuddyLargest, TheLargestOrderIsAlignedAndCoalescesBack) {
  const std::size_t bytes = 2 * order_bytes(kMaxOrder);
  void* raw = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  {
    BuddyRegion region(raw, bytes);
    ASSERT_EQ(region.free_blocks(kMaxOrder), 1u);
    char* top = static_cast<char*>(region.allocate(kMaxOrder, BlockTag::kLarge));
    ASSERT_NE(top, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(top) % order_bytes(kMaxOrder), 0u);
    top[0] = 1;  // its ends are usable
    top[order_bytes(kMaxOrder) - 1] = 2;
    EXPECT_EQ(region.allocate(kMaxOrder, BlockTag::kLarge), nullptr);
    void* small = region.allocate(0, BlockTag::kNone);  // the rest still serves
    ASSERT_NE(small, nullptr);
    EXPECT_TRUE(region.free(top));
    EXPECT_TRUE(region.free(small));
    EXPECT_EQ(region.free_blocks(kMaxOrder), 1u);
    EXPECT_TRUE(region.check_consistency());
  }
  munmap(raw, bytes);
}

TEST_F(BuddyTest, RefusesWhatItDidNotHandOut) {
  BuddyRegion region(base_, kBytes);
  void* b = region.allocate(2, BlockTag::kNone);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(region.free(static_cast<char*>(b) + kPageBytes));  // inside a block
  EXPECT_FALSE(region.free(static_cast<char*>(b) + 8));           // not page aligned
  int local = 0;
  EXPECT_FALSE(region.free(&local));  // foreign
  EXPECT_FALSE(region.free(base_));   // the metadata
  EXPECT_TRUE(region.free(b));
  EXPECT_FALSE(region.free(b));  // double free
  EXPECT_TRUE(region.check_consistency());
}

// Random allocations and frees against a shadow map of what is live.
TEST_F(BuddyTest, RandomMixAgainstAShadowMap) {
  BuddyRegion region(base_, kBytes);
  std::mt19937_64 rng(42);
  std::map<char*, uint32_t> live;  // block -> order
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      const uint32_t order = static_cast<uint32_t>(rng() % 6);
      char* b = static_cast<char*>(region.allocate(order, BlockTag::kNone));
      if (b == nullptr) continue;
      auto next = live.lower_bound(b);
      if (next != live.end()) {
        ASSERT_LE(b + order_bytes(order), next->first);
      }
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + order_bytes(prev->second), b);
      }
      b[0] = static_cast<char>(order);  // touch it
      live.emplace(b, order);
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      ASSERT_EQ(it->first[0], static_cast<char>(it->second));
      ASSERT_TRUE(region.free(it->first));
      live.erase(it);
    }
    if (step % 1000 == 0) {
      ASSERT_TRUE(region.check_consistency());
    }
  }
  std::size_t used = 0;
  for (auto& [b, order] : live) used += std::size_t{1} << order;
  EXPECT_EQ(region.free_pages() + used, region.total_pages());
}

}  // namespace
}  // namespace ebb::mem
