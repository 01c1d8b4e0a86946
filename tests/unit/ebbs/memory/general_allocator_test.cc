#include "ebbs/memory/general/general_allocator.h"

#include <gtest/gtest.h>
#ifndef EBB_PLATFORM_NATIVE
#include <sys/mman.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "runtime/submit.h"
#include "tests/unit/ebbs/memory/memory_fixture.h"

namespace ebb::mem {
namespace {

using testing::MemoryFixture;

class GeneralAllocatorTest : public MemoryFixture {};

// Every size from 1 byte to past the slab classes: usable, aligned, its own.
TEST_F(GeneralAllocatorTest, EverySizeIsUsableAndAligned) {
  start(2);
  auto ok = on_core(0, [] {
    std::vector<std::pair<char*, std::size_t>> live;
    for (std::size_t size = 1; size <= 40'000; size += (size < 1024 ? 1 : 97)) {
      auto* p = static_cast<char*>(mem::malloc(size));
      if (p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
      if (usable_size(p) < size) return false;
      std::memset(p, static_cast<int>(size & 0xff), size);
      live.emplace_back(p, size);
    }
    std::sort(live.begin(), live.end());
    for (std::size_t i = 1; i < live.size(); ++i)
      if (live[i - 1].first + live[i - 1].second > live[i].first) return false;
    for (auto& [p, size] : live) {
      for (std::size_t b = 0; b < size; b += 61)
        if (p[b] != static_cast<char>(size & 0xff)) return false;
      mem::free(p);
    }
    return true;
  });
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);
}

TEST_F(GeneralAllocatorTest, ReallocKeepsTheContents) {
  start(1);
  auto ok = on_core(0, [] {
    auto* p = static_cast<unsigned char*>(mem::malloc(10));
    for (int i = 0; i < 10; ++i) p[i] = static_cast<unsigned char>(i);
    std::size_t size = 10;
    // Grow through small classes into large blocks, then shrink back.
    for (std::size_t next : {100u, 1000u, 9000u, 70'000u, 300'000u, 5000u, 50u, 7u}) {
      p = static_cast<unsigned char*>(mem::realloc(p, next));
      if (p == nullptr) return false;
      for (std::size_t i = 0; i < std::min(size, next); ++i)
        if (p[i] != static_cast<unsigned char>(i)) return false;
      for (std::size_t i = size; i < next; ++i) p[i] = static_cast<unsigned char>(i);
      size = next;
    }
    EXPECT_EQ(mem::realloc(p, 0), nullptr);  // frees
    void* fresh = mem::realloc(nullptr, 33);
    const bool works = fresh != nullptr;
    mem::free(fresh);
    return works;
  });
  EXPECT_TRUE(*ok);
}

TEST_F(GeneralAllocatorTest, SizedFreeCallocAndAlignment) {
  start(1);
  auto ok = on_core(0, [] {
    for (std::size_t size : {1u, 48u, 1000u, 8192u, 20'000u}) {
      void* p = mem::malloc(size);
      mem::free_sized(p, size);
    }
    auto* zeros = static_cast<unsigned char*>(mem::calloc(300, 7));
    for (int i = 0; i < 2100; ++i)
      if (zeros[i] != 0) return false;
    mem::free(zeros);
    EXPECT_EQ(mem::calloc(SIZE_MAX / 2, 3), nullptr);  // overflow: refused
    for (std::size_t alignment : {16u, 32u, 64u, 128u, 4096u, 65536u, 2u << 20}) {
      for (std::size_t size : {1u, 100u, 5000u}) {
        void* p = mem::aligned_alloc(alignment, size);
        if (p == nullptr || reinterpret_cast<uintptr_t>(p) % alignment != 0) return false;
        std::memset(p, 1, size);
        mem::free(p);
      }
    }
    EXPECT_EQ(mem::aligned_alloc(48, 10), nullptr);  // not a power of two
    return true;
  });
  EXPECT_TRUE(*ok);
}

TEST_F(GeneralAllocatorTest, ConstantSizesUseTheirClassDirectly) {
  start(1);
  auto ok = on_core(0, [] {
    void* a = allocate<64>();
    void* b = mem::malloc(64);
    const bool same_slab_kind = Slab::of(a)->object_size == 64 && Slab::of(b)->object_size == 64;
    deallocate<64>(a);
    mem::free(b);
    void* big = allocate<100'000>();
    deallocate<100'000>(big);
    return same_slab_kind;
  });
  EXPECT_TRUE(*ok);
}

// A random mix on every core, frees often on another core than the
// allocation's, checked against a shadow of what each block should hold.
TEST_F(GeneralAllocatorTest, RandomMixAcrossCoresAgainstAShadowMap) {
  start(3);
  struct Block {
    unsigned char* p;
    std::size_t size;
    unsigned char fill;
  };
  constexpr int kRounds = 30;
  std::vector<Block> handoff[3];  // blocks handed to core i to free
  std::atomic<int> errors{0};
  for (int round = 0; round < kRounds; ++round) {
    auto done = on_core(0, [&, round] {
      return submit_to_all([&, round] {
        const CoreId core = this_core();
        std::mt19937_64 rng(round * 31 + core);
        // Free what others handed over, checking the contents.
        for (Block& b : handoff[core]) {
          for (std::size_t i = 0; i < b.size; i += 13)
            if (b.p[i] != b.fill) errors++;
          if (rng() % 2) mem::free(b.p);
          else mem::free_sized(b.p, b.size);
        }
        handoff[core].clear();
        std::map<unsigned char*, Block> mine;
        for (int step = 0; step < 400; ++step) {
          if (mine.empty() || rng() % 3 != 0) {
            const std::size_t size = rng() % 8 == 0 ? 9000 + rng() % 30'000 : 1 + rng() % 2000;
            auto* p = static_cast<unsigned char*>(mem::malloc(size));
            if (p == nullptr) {
              errors++;
              continue;
            }
            const auto fill = static_cast<unsigned char>(rng());
            std::memset(p, fill, size);
            auto next = mine.lower_bound(p);
            if (next != mine.end() && p + size > next->first) errors++;
            mine[p] = Block{p, size, fill};
          } else {
            auto it = mine.begin();
            std::advance(it, static_cast<long>(rng() % mine.size()));
            for (std::size_t i = 0; i < it->second.size; i += 13)
              if (it->second.p[i] != it->second.fill) errors++;
            mem::free(it->first);
            mine.erase(it);
          }
        }
        return mine;
      });
    });
    ASSERT_TRUE(done.ok());
    // Hand each core's survivors to the next core.
    for (CoreId core = 0; core < 3; ++core)
      for (auto& [p, b] : (*done)[core].value()) handoff[(core + 1) % 3].push_back(b);
  }
  auto cleanup = on_core(0, [&] {
    return submit_to_all([&] {
      for (Block& b : handoff[this_core()]) mem::free(b.p);
      handoff[this_core()].clear();
    });
  });
  EXPECT_TRUE(cleanup.ok());
  EXPECT_EQ(errors.load(), 0);
}

TEST_F(GeneralAllocatorTest, ExhaustionReturnsNullAndTheAllocatorRecovers) {
  start_with_limit(1, 8u << 20, 2u << 20);
  auto result = on_core(0, [] {
    std::vector<void*> blocks;
    int nulls = 0;
    for (int i = 0; i < 100'000 && nulls < 3; ++i) {
      void* p = mem::malloc(i % 2 ? 3000 : 70'000);
      if (p == nullptr) ++nulls;
      else blocks.push_back(p);
    }
    const GeneralStats exhausted = kGeneralAllocator->stats();
    for (void* p : blocks) mem::free(p);
    void* small = mem::malloc(100);
    void* large = mem::malloc(100'000);
    const bool recovered = small != nullptr && large != nullptr;
    mem::free(small);
    mem::free(large);
    return std::make_tuple(nulls, exhausted.failures, recovered);
  });
  auto [nulls, failures, recovered] = *result;
  EXPECT_EQ(nulls, 3);
  EXPECT_GE(failures, 3u);
  EXPECT_TRUE(recovered);
}

// Big blocks up to the page allocator's largest order; beyond it, null (and
// a failure counted), and the allocator goes on. A freed big block's pages go
// back to the system: none of them is resident afterwards.
TEST_F(GeneralAllocatorTest, BigBlocksUpToTheLargestOrderAndTheirPagesGoBack) {
  start(1);
  auto result = on_core(0, [] {
    const std::size_t big = order_bytes(kMaxOrder) - 100;  // rounds up to the largest order
    auto* p = static_cast<char*>(mem::malloc(big));
    const bool got = p != nullptr && usable_size(p) >= big &&
                     reinterpret_cast<uintptr_t>(p) % order_bytes(kMaxOrder) == 0;
    // Touch 64 MiB of it, then free it: those pages are no longer resident.
    // (Native: the image's RAM is its own, with no one to give pages back to.)
    constexpr std::size_t kTouched = std::size_t{64} << 20;
    if (p != nullptr) std::memset(p, 0x5a, kTouched);
    mem::free(p);
#ifndef EBB_PLATFORM_NATIVE
    std::vector<unsigned char> resident(kTouched / kPageBytes);
    const bool looked = p != nullptr && mincore(p, kTouched, resident.data()) == 0;
    std::size_t still = 0;
    for (unsigned char r : resident) still += r & 1;
#else
    const bool looked = true;
    const std::size_t still = 0;
#endif
    const uint64_t failures_before = kGeneralAllocator->stats().failures;
    void* too_big = mem::malloc(order_bytes(kMaxOrder) + 1);
    const uint64_t failures_after = kGeneralAllocator->stats().failures;
    void* after = mem::malloc(5 << 20);
    const bool recovered = after != nullptr;
    mem::free(after);
    return std::make_tuple(got, looked, still, too_big == nullptr,
                           failures_after - failures_before, recovered);
  });
  ASSERT_TRUE(result.ok());
  auto [got, looked, still, refused, failures, recovered] = *result;
  EXPECT_TRUE(got);
  EXPECT_TRUE(looked);
  EXPECT_EQ(still, 0u);
  EXPECT_TRUE(refused);
  EXPECT_EQ(failures, 1u);
  EXPECT_TRUE(recovered);
}

// Memory held as empty slabs of one size class is not lost to the others:
// when the page allocator runs out, the core's empty slabs go back at once.
TEST_F(GeneralAllocatorTest, RunningOutTakesBackEmptySlabsOfOtherClasses) {
  start_with_limit(1, 8u << 20, 2u << 20);
  auto result = on_core(0, [] {
    std::vector<void*> small;
    while (void* p = mem::malloc(1000)) small.push_back(p);  // all of memory
    for (void* p : small) mem::free(p);  // empty slabs, held for now
    std::vector<void*> other;
    while (void* p = mem::malloc(3000)) other.push_back(p);  // another class
    for (void* p : other) mem::free(p);
    return std::make_pair(small.size() * 1008, other.size() * 3008);
  });
  ASSERT_TRUE(result.ok());
  auto [small_bytes, other_bytes] = *result;
  EXPECT_GT(small_bytes, 4u << 20);
  // The second class got most of what the first had (not just what was left).
  EXPECT_GT(other_bytes, small_bytes * 3 / 4);
}

TEST_F(GeneralAllocatorTest, StatsAddUp) {
  start(2);
  // Counted from a baseline: where malloc is the Ebbs' too (the native
  // image), the vector and the runtime have objects of their own.
  auto stats = on_core(0, [] {
    std::vector<void*> v;
    v.reserve(100);
    GeneralStats base = kGeneralAllocator->stats();
    for (int i = 0; i < 100; ++i) v.push_back(mem::malloc(100));
    void* large = mem::malloc(1 << 20);
    GeneralStats s = kGeneralAllocator->stats();
    for (void* p : v) mem::free(p);
    mem::free(large);
    GeneralStats t = kGeneralAllocator->stats();
    return std::make_tuple(base, s, t);
  });
  auto [base, s, t] = *stats;
  EXPECT_EQ(s.small.objects_in_use - base.small.objects_in_use, 100u);
  EXPECT_EQ(s.large_allocations - base.large_allocations, 1u);
  EXPECT_EQ(s.large_bytes_in_use - base.large_bytes_in_use, 1u << 20);
  EXPECT_EQ(t.small.objects_in_use, base.small.objects_in_use);
  EXPECT_EQ(t.large_bytes_in_use, base.large_bytes_in_use);
}

#ifndef NDEBUG
using GeneralAllocatorDeathTest = GeneralAllocatorTest;

TEST_F(GeneralAllocatorDeathTest, DoubleFreeOfASmallObjectPanics) {
  start(1);
  EXPECT_DEATH(run(0, [] {
                 void* keep = mem::malloc(100);
                 void* p = mem::malloc(100);
                 mem::free(p);
                 mem::free(p);
                 mem::free(keep);
               }),
               "double free");
}

TEST_F(GeneralAllocatorDeathTest, DoubleFreeOfALargeBlockPanics) {
  start(1);
  EXPECT_DEATH(run(0, [] {
                 void* p = mem::malloc(100'000);
                 mem::free(p);
                 mem::free(p);
               }),
               "not an allocation of the general allocator");
}

TEST_F(GeneralAllocatorDeathTest, AForeignPointerPanics) {
  start(1);
  EXPECT_DEATH(run(0, [] {
                 int on_the_stack = 0;
                 mem::free(&on_the_stack);
               }),
               "not memory of the general allocator \\(a foreign pointer\\)");
}
#endif

}  // namespace
}  // namespace ebb::mem
