#include "ebbs/memory/slab/slab_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "ebbs/memory/page/page_allocator.h"
#include "runtime/submit.h"
#include "tests/unit/ebbs/memory/memory_fixture.h"

namespace ebb::mem {
namespace {

using testing::MemoryFixture;

class SlabAllocatorTest : public MemoryFixture {};

TEST_F(SlabAllocatorTest, ObjectsAreAlignedDistinctAndKeepTheirContents) {
  start(2);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(40).value();  // rounds up to 48
  auto ok = on_core(0, [slabs] {
    EXPECT_EQ(slabs->object_size(), 48u);
    std::vector<char*> objects;
    for (int i = 0; i < 5000; ++i) {  // several slabs' worth
      auto* p = static_cast<char*>(slabs->allocate());
      if (p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
      std::memset(p, i & 0x7f, 48);
      objects.push_back(p);
    }
    for (std::size_t i = 0; i < objects.size(); ++i)
      for (int b = 0; b < 48; ++b)
        if (objects[i][b] != static_cast<char>(i & 0x7f)) return false;
    std::sort(objects.begin(), objects.end());
    for (std::size_t i = 1; i < objects.size(); ++i)
      if (objects[i - 1] + 48 > objects[i]) return false;  // overlap
    for (char* p : objects) slabs->free(p);
    return slabs->stats().objects_in_use == 0;
  });
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);
}

// Core 0 allocates, core 1 frees every object: they come back to core 0 in
// batches, and core 0 reuses them.
TEST_F(SlabAllocatorTest, FreesFromAnotherCoreReturnToTheOwner) {
  start(2);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(64).value();
  constexpr int kObjects = 10'000;
  auto objects = on_core(0, [slabs] {
    std::vector<void*> v;
    for (int i = 0; i < kObjects; ++i) v.push_back(slabs->allocate());
    return v;
  });
  ASSERT_TRUE(objects.ok());
  auto sent = on_core(1, [slabs, &objects] {
    for (void* p : *objects) slabs->free(p);
    return slabs->stats().remote_frees_sent;
  });
  EXPECT_LT(*sent, static_cast<uint64_t>(kObjects));  // the last batch is still filling
  // It goes out on core 1's flush timer (within 1 ms). Core 0 is idle, and
  // batches do not wake it: the next time it runs, it takes them back.
  eventually_on(1, [slabs] { return slabs->stats().remote_frees_sent == kObjects; });
  eventually_on(0, [slabs] { return slabs->stats().remote_frees_received == kObjects; });
  // The emptied slabs go back to the page allocator once idle for a trim
  // period, all but the current one and the watermark's four.
  eventually_on(0, [slabs] { return slabs->stats().slabs <= 5; });
  auto after = on_core(0, [slabs] {
    SlabStats s = slabs->stats();
    std::vector<void*> again;
    for (int i = 0; i < kObjects; ++i) again.push_back(slabs->allocate());
    const bool all = std::find(again.begin(), again.end(), nullptr) == again.end();
    for (void* p : again) slabs->free(p);
    return std::make_pair(s, all);
  });
  EXPECT_EQ(after->first.objects_in_use, 0u);
  EXPECT_GE(after->first.slabs_returned, after->first.slabs_taken - 5);
  EXPECT_TRUE(after->second);
}

// Emptied slabs stay while the core might reuse them; once they have stayed
// empty through a trim period, all but the watermark go back.
TEST_F(SlabAllocatorTest, IdleEmptySlabsGoBackDownToTheWatermark) {
  start(1);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(1024, 2).value();
  auto result = on_core(0, [slabs] {
    const std::size_t free_before = kPageAllocator->total_stats().free_pages;
    std::vector<void*> objects;
    for (int i = 0; i < 20 * 63; ++i) objects.push_back(slabs->allocate());  // ~20 slabs
    const SlabStats full = slabs->stats();
    for (void* p : objects) slabs->free(p);
    return std::make_tuple(full, free_before);
  });
  auto [full, free_before] = *result;
  EXPECT_GE(full.slabs, 20u);
  eventually_on(0, [slabs] { return slabs->stats().slabs <= 3; });  // current + watermark
  auto after = on_core(0, [slabs] {
    return std::make_pair(slabs->stats(), kPageAllocator->total_stats().free_pages);
  });
  auto [emptied, free_after] = *after;
  EXPECT_GE(emptied.slabs_returned, full.slabs - 3);
  EXPECT_GE(free_after + 3 * (kSlabBytes / kPageBytes), free_before);
  // And it keeps working.
  EXPECT_TRUE(on_core(0, [slabs] {
    void* p = slabs->allocate();
    slabs->free(p);
    return p != nullptr;
  }).value());
}

TEST_F(SlabAllocatorTest, ExhaustionReturnsNullAndTheAllocatorRecovers) {
  start_with_limit(1, 4u << 20, 2u << 20);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(4096).value();
  auto result = on_core(0, [slabs] {
    std::vector<void*> objects;
    while (void* p = slabs->allocate()) {
      objects.push_back(p);
      if (objects.size() > 10'000) break;
    }
    const std::size_t got = objects.size();
    const uint64_t failures = slabs->stats().failures;
    for (void* p : objects) slabs->free(p);
    void* again = slabs->allocate();
    const bool recovered = again != nullptr;
    slabs->free(again);
    return std::make_tuple(got, failures, recovered);
  });
  auto [got, failures, recovered] = *result;
  EXPECT_GT(got, 500u);   // most of 4 MiB
  EXPECT_LT(got, 1100u);  // but no more
  EXPECT_GE(failures, 1u);
  EXPECT_TRUE(recovered);
}

TEST_F(SlabAllocatorTest, AThreadThatIsNotACoreCanFree) {
  start(2);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(32).value();
  auto objects = on_core(1, [slabs] {
    std::vector<void*> v;
    for (int i = 0; i < 100; ++i) v.push_back(slabs->allocate());
    return v;
  });
  for (void* p : *objects) SlabAllocator::FreeOffCore(p);
  eventually_on(1, [slabs] { return slabs->stats().objects_in_use == 0; });
}

TEST_F(SlabAllocatorTest, TooLargeObjectsAreRefusedClearly) {
  start(1);
  EXPECT_DEATH((void)SlabAllocator::Create(40'000), "do not fit a 65536-byte slab twice");
}

#ifndef NDEBUG
using SlabAllocatorDeathTest = SlabAllocatorTest;

TEST_F(SlabAllocatorDeathTest, DoubleFreeOnTheOwnerPanics) {
  start(1);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(64).value();
  EXPECT_DEATH(run(0, [slabs] {
                 void* keep = slabs->allocate();  // so the slab stays in use
                 void* p = slabs->allocate();
                 slabs->free(p);
                 slabs->free(p);
                 (void)keep;
               }),
               "double free of 0x[0-9a-f]+ \\(64-byte objects\\)");
}

TEST_F(SlabAllocatorDeathTest, DoubleFreeFromAnotherCorePanicsOnTheOwner) {
  start(2);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(64).value();
  EXPECT_DEATH(
      {
        void* keep = on_core(0, [slabs] { return slabs->allocate(); }).value();
        void* p = on_core(0, [slabs] { return slabs->allocate(); }).value();
        run(1, [slabs, p] {
          slabs->free(p);
          slabs->free(p);
          slabs->flush_remote_frees();
        });
        run(0, [] {});  // core 0 takes the batch back on its next run
        std::this_thread::sleep_for(std::chrono::seconds(5));
        (void)keep;
      },
      "double free");
}

TEST_F(SlabAllocatorDeathTest, ACorruptedFreeListIsCaught) {
  start(1);
  const Ref<SlabAllocator> slabs = SlabAllocator::Create(64).value();
  EXPECT_DEATH(run(0, [slabs] {
                 void* a = slabs->allocate();
                 void* b = slabs->allocate();
                 slabs->free(a);
                 slabs->free(b);
                 // A use after free scribbles over the link in b.
                 *static_cast<uintptr_t*>(b) = 0xdeadbeef;
                 (void)slabs->allocate();  // takes b
                 (void)slabs->allocate();  // follows the bad link
               }),
               "corrupted free list");
}

TEST_F(SlabAllocatorDeathTest, FreeToTheWrongSizeIsCaught) {
  start(1);
  const Ref<SlabAllocator> small = SlabAllocator::Create(32).value();
  const Ref<SlabAllocator> large = SlabAllocator::Create(256).value();
  EXPECT_DEATH(run(0, [small, large] { large->free(small->allocate()); }),
               "is a 32-byte object, freed to the 256-byte allocator");
}
#endif

}  // namespace
}  // namespace ebb::mem
