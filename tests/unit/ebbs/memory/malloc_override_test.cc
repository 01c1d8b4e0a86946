// With ebb_malloc_override linked in, malloc and operator new on a core are
// the Ebb allocators; elsewhere they are the platform's heap (glibc's
// hosted, the boot heap native, where every image links the override).

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ebbs/memory/general/general_allocator.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::mem {
namespace {

using testing::RuntimeFixture;
using Ownership = PageAllocator::Ownership;

class MallocOverrideTest : public RuntimeFixture {
 protected:
  // Each core builds its allocator reps in its first event, and the
  // runtime's start waits for that: the first work from here finds them.
  void SetUp() override { start(2); }
};

TEST_F(MallocOverrideTest, OnACoreMallocAndNewAreEbbMemory) {
  auto owners = on_core(0, [] {
    void* p = std::malloc(100);
    auto* q = new std::string(200, 'x');  // the string's buffer too
    auto v = std::make_unique<std::vector<int>>(1000, 7);
    const bool ours = PageAllocator::Owner(p) == Ownership::kLive &&
                      PageAllocator::Owner(q) == Ownership::kLive &&
                      PageAllocator::Owner(q->data()) == Ownership::kLive &&
                      PageAllocator::Owner(v->data()) == Ownership::kLive &&
                      malloc_usable_size(p) >= 100;
    std::free(p);
    delete q;
    return ours;
  });
  EXPECT_TRUE(*owners);
  void* off = std::malloc(100);  // this thread is not a core
  EXPECT_EQ(PageAllocator::Owner(off), Ownership::kForeign);
  EXPECT_GE(malloc_usable_size(off), 100u);
  std::free(off);
}

TEST_F(MallocOverrideTest, MemoryCrossesBetweenCoresAndThreads) {
  // Allocated on core 0, freed on core 1; allocated off-core, freed on a
  // core; allocated on a core, freed and reallocated off-core.
  auto made = on_core(0, [] {
    std::vector<char*> v;
    for (int i = 0; i < 2000; ++i) {
      char* p = static_cast<char*>(std::malloc(64 + i % 3000));
      std::memset(p, i & 0xff, 64);
      v.push_back(p);
    }
    return v;
  });
  ASSERT_TRUE(made.ok());
  auto& blocks = *made;
  auto freed = on_core(1, [&blocks] {
    for (std::size_t i = 0; i < blocks.size() / 2; ++i) {
      if (blocks[i][0] != static_cast<char>(i & 0xff)) return false;
      std::free(blocks[i]);
    }
    return true;
  });
  EXPECT_TRUE(*freed);
  for (std::size_t i = blocks.size() / 2; i < blocks.size(); ++i) {
    char* grown = static_cast<char*>(std::realloc(blocks[i], 10'000));  // off-core: moves to the platform's heap
    ASSERT_NE(grown, nullptr);
    EXPECT_EQ(grown[0], static_cast<char>(i & 0xff));
    EXPECT_EQ(PageAllocator::Owner(grown), Ownership::kForeign);
    std::free(grown);
  }
  void* platform_block = std::malloc(300);
  EXPECT_TRUE(on_core(1, [platform_block] { std::free(platform_block); }).ok());
}

TEST_F(MallocOverrideTest, AlignedAndZeroedAllocation) {
  struct alignas(256) Wide {
    char bytes[256];
  };
  auto ok = on_core(0, [] {
    auto* w = new Wide();
    void* p = nullptr;
    const bool aligned = reinterpret_cast<uintptr_t>(w) % 256 == 0 &&
                         posix_memalign(&p, 4096, 5000) == 0 &&
                         reinterpret_cast<uintptr_t>(p) % 4096 == 0;
    auto* zeros = static_cast<unsigned char*>(std::calloc(100, 10));
    bool zeroed = true;
    for (int i = 0; i < 1000; ++i) zeroed = zeroed && zeros[i] == 0;
    delete w;
    std::free(p);
    std::free(zeros);
    return aligned && zeroed && posix_memalign(&p, 3, 10) == EINVAL;
  });
  EXPECT_TRUE(*ok);
}

TEST_F(MallocOverrideTest, ContainersChurnOnEveryCore) {
  auto ok = on_core(0, [] {
    return submit_to_all([] {
      std::map<int, std::string> m;
      for (int i = 0; i < 5000; ++i) m[i] = std::string(i % 300, 'a' + i % 26);
      for (int i = 0; i < 5000; i += 2) m.erase(i);
      std::size_t total = 0;
      for (auto& [k, v] : m) total += v.size();
      return total > 0;
    });
  });
  ASSERT_TRUE(ok.ok());
  for (auto& r : *ok) EXPECT_TRUE(r.value());
}

// A pointer from a runtime that has shut down: its memory is gone, and
// free() must let it be rather than hand it to the platform's heap.
TEST(MallocOverrideShutdown, FreeAfterShutdownIsHarmless) {
  void* stale = nullptr;
  {
    Runtime runtime({.cores = 1});
    stale = runtime.run_on(0, [] { return std::malloc(48); }).value();
    EXPECT_EQ(PageAllocator::Owner(stale), Ownership::kLive);
  }
  EXPECT_EQ(PageAllocator::Owner(stale), Ownership::kGone);
  std::free(stale);  // ignored
  void* fresh = std::malloc(48);
  EXPECT_EQ(PageAllocator::Owner(fresh), Ownership::kForeign);
  std::free(fresh);
}

// A runtime that gave all its memory back before it shut down leaves no
// region behind: its addresses may serve the next one (the native image's
// RAM would otherwise run out after a few runtimes).
TEST(MallocOverrideShutdown, RegionsWithNothingLeftInThemAreGivenBack) {
  uintptr_t freed = 0;  // only the address: the block is gone
  {
    Runtime runtime({.cores = 1});
    freed = runtime.run_on(0, [] {
      void* p = std::malloc(order_bytes(10));  // a large block of a region of its own making
      const auto address = reinterpret_cast<uintptr_t>(p);
      std::free(p);
      return address;
    }).value();
  }
  EXPECT_EQ(PageAllocator::Owner(reinterpret_cast<void*>(freed)), Ownership::kForeign);
}

}  // namespace
}  // namespace ebb::mem
