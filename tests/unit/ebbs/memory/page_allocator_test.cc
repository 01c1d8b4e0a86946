#include "ebbs/memory/page/page_allocator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "runtime/submit.h"
#include "tests/unit/ebbs/memory/memory_fixture.h"

namespace ebb::mem {
namespace {

using testing::MemoryFixture;

class PageAllocatorTest : public MemoryFixture {};

TEST_F(PageAllocatorTest, AllocatesAlignedBlocksOnEveryCore) {
  start(4);
  auto ok = on_core(0, [] {
    return submit_to_all([] {
      for (uint32_t order = 0; order <= kMaxOrder; ++order) {
        Result<void*> b = kPageAllocator->allocate(order, BlockTag::kLarge);
        if (!b) return false;
        // All of it is usable (the big ones: their first and last pages).
        char* block = static_cast<char*>(*b);
        const std::size_t bytes = order_bytes(order);
        if (order <= 9) {
          std::memset(block, 0xab, bytes);
        } else {
          std::memset(block, 0xab, kPageBytes);
          std::memset(block + bytes - kPageBytes, 0xab, kPageBytes);
        }
        if (reinterpret_cast<uintptr_t>(*b) % order_bytes(order) != 0) return false;
        if (kPageAllocator->order_of(*b) != order || kPageAllocator->tag_of(*b) != BlockTag::kLarge)
          return false;
        kPageAllocator->free(*b);
      }
      return true;
    });
  });
  ASSERT_TRUE(ok.ok());
  for (auto& core : *ok) EXPECT_TRUE(core.value());
}

TEST_F(PageAllocatorTest, ABlockMayBeFreedOnAnotherCore) {
  start(2);
  auto block = on_core(0, [] { return kPageAllocator->allocate(3); });
  ASSERT_TRUE(block.ok());
  void* b = *block;
  EXPECT_TRUE(on_core(1, [b] {
                EXPECT_TRUE(kPageAllocator->owns(b));
                kPageAllocator->free(b);
              }).ok());
  auto stats = on_core(0, [] { return kPageAllocator->total_stats(); });
  EXPECT_EQ(stats->allocations, 1u);
  EXPECT_EQ(stats->frees, 1u);
  EXPECT_EQ(stats->free_pages, stats->total_pages);
}

// A small limit: exhaustion is an Error, and freeing makes room again.
TEST_F(PageAllocatorTest, ExhaustionIsAnErrorAndTheAllocatorRecovers) {
  start_with_limit(2, 8u << 20, 2u << 20);
  auto outcome = on_core(1, [] {
    std::vector<void*> blocks;
    Error last(Errc::kCancelled, "none");
    for (;;) {
      Result<void*> b = kPageAllocator->allocate(4);  // 64 KiB
      if (!b) {
        last = b.error();
        break;
      }
      blocks.push_back(*b);
      if (blocks.size() > 1000) break;  // the limit did not hold
    }
    const std::size_t got = blocks.size();
    for (void* b : blocks) kPageAllocator->free(b);
    Result<void*> again = kPageAllocator->allocate(4);
    if (again) kPageAllocator->free(*again);
    return std::make_tuple(got, last.code(), again.ok(), kPageAllocator->total_stats());
  });
  ASSERT_TRUE(outcome.ok());
  auto [got, code, again, stats] = *outcome;
  EXPECT_GT(got, 50u);    // most of 8 MiB in 64 KiB blocks
  EXPECT_LT(got, 130u);   // and no more than 8 MiB
  EXPECT_EQ(code, Errc::kExhausted);
  EXPECT_TRUE(again);
  EXPECT_GE(stats.failures, 1u);
  EXPECT_LE(stats.reserved_bytes, 8u << 20);
}

// At the limit, regions with nothing left in them go back so that a block
// larger than any of them can be had (their memory merges at the platform).
TEST_F(PageAllocatorTest, EmptyRegionsGoBackForALargerBlock) {
  start_with_limit(1, 8u << 20, 2u << 20);
  auto outcome = on_core(0, [] {
    std::vector<void*> small;  // 4 KiB blocks until the limit's 2 MiB regions are all taken
    small.reserve(4096);       // (where malloc is the Ebbs', the vector stays in the first region)
    for (;;) {
      Result<void*> b = kPageAllocator->allocate(0);
      if (!b) break;
      small.push_back(*b);
    }
    const std::size_t regions_full = kPageAllocator->stats().regions;
    for (void* b : small) kPageAllocator->free(b);
    Result<void*> big = kPageAllocator->allocate(9);  // 2 MiB: a region of 6 MiB, more than any free
    const std::size_t regions_after = kPageAllocator->stats().regions;
    const bool inside = big && kPageAllocator->owns(*big) && kPageAllocator->order_of(*big) == 9;
    if (big) kPageAllocator->free(*big);
    return std::make_tuple(regions_full, big.ok(), inside, regions_after, kPageAllocator->total_stats());
  });
  ASSERT_TRUE(outcome.ok());
  auto [regions_full, got_big, inside, regions_after, stats] = *outcome;
  EXPECT_EQ(regions_full, 4u);
  EXPECT_TRUE(got_big);
  EXPECT_TRUE(inside);
  EXPECT_LT(regions_after, regions_full);
  EXPECT_LE(stats.reserved_bytes, 8u << 20);
}

TEST_F(PageAllocatorTest, BadOrdersAndForeignQueriesAreHarmless) {
  start(1);
  auto r = on_core(0, [] {
    Result<void*> too_big = kPageAllocator->allocate(kMaxOrder + 1);
    int local = 0;
    return std::make_tuple(too_big.ok() ? Errc::kCancelled : too_big.error().code(),
                           kPageAllocator->owns(&local), kPageAllocator->tag_of(&local));
  });
  EXPECT_EQ(std::get<0>(*r), Errc::kInvalidArgument);
  EXPECT_FALSE(std::get<1>(*r));
  EXPECT_EQ(std::get<2>(*r), BlockTag::kNone);
}

TEST_F(PageAllocatorTest, ConfigureAfterFirstUseIsRefused) {
  start(1);
  ASSERT_TRUE(on_core(0, [] { return kPageAllocator->allocate(0).ok(); }).ok());
  Status late = PageAllocator::Configure({});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code(), Errc::kAlreadyExists);
}

using PageAllocatorDeathTest = PageAllocatorTest;

TEST_F(PageAllocatorDeathTest, DoubleFreePanics) {
  start(1);
  EXPECT_DEATH(run(0, [] {
                 void* b = kPageAllocator->allocate(1).value();
                 kPageAllocator->free(b);
                 kPageAllocator->free(b);
               }),
               "not a live block \\(a double free");
}

TEST_F(PageAllocatorDeathTest, ForeignPointerPanics) {
  start(1);
  EXPECT_DEATH(run(0, [] {
                 static char not_ours[8192];
                 kPageAllocator->free(not_ours);
               }),
               "a foreign pointer");
}

}  // namespace
}  // namespace ebb::mem
