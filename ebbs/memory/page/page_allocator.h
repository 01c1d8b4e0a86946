#pragma once
// PageAllocator: blocks of 4 KiB pages (2^order of them, up to 256 MiB), from
// buddy allocators over regions that the platform hands out (hosted: mmap,
// with huge pages when granted; native: the boot memory map).
//
// An Ebb with a rep per NUMA node: every core's table points at its node's
// rep, whose lock guards that node's regions. A block may be freed from any
// core; it goes back to the node that owns its region.
//
//   Result<void*> block = mem::kPageAllocator->allocate(order, BlockTag::kLarge);
//   mem::kPageAllocator->free(*block);

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ebbs/memory/page/buddy.h"
#include "runtime/platform.h"
#include "runtime/ref.h"
#include "runtime/result.h"
#include "runtime/spin_lock.h"
#include "runtime/static_ids.h"

namespace ebb::mem {

// Freed blocks of this order (32 MiB) and above give their pages back to the
// platform.
inline constexpr uint32_t kDiscardOrder = 13;

struct PageAllocatorOptions {
  // Taken from the platform at a time, as a node needs more (a multiple of
  // 2 MiB); 0: the platform's choice (platform::default_region_bytes()).
  std::size_t region_bytes = 0;
  // All nodes together never take more than this; 0: until the platform refuses.
  std::size_t limit_bytes = 0;
};

struct PageStats {
  std::size_t regions = 0;
  std::size_t reserved_bytes = 0;  // taken from the platform
  std::size_t total_pages = 0;     // usable for blocks
  std::size_t free_pages = 0;
  std::size_t free_blocks[kMaxOrder + 1] = {};
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t failures = 0;  // allocations refused (exhaustion)

  PageStats& operator+=(const PageStats& other);
};

class PageAllocatorRoot;

// The rep of one NUMA node.
class PageAllocator {
 public:
  // A block of 2^order pages, aligned to its size. Errc::kExhausted when the
  // node has no block that large and may take no more memory;
  // Errc::kInvalidArgument for an order above kMaxOrder.
  Result<void*> allocate(uint32_t order, BlockTag tag = BlockTag::kNone);
  // Any block from any node's allocate(). A pointer that is not a live block
  // (a double free, a foreign pointer) is a panic that says so.
  void free(void* block);

  // About any address: is it in a region of this page allocator, and for the
  // start of a live block, what is its order and tag.
  bool owns(const void* p) const;
  uint32_t order_of(const void* block) const;
  BlockTag tag_of(const void* block) const;

  // This node's figures; total_stats() sums every node.
  PageStats stats();
  PageStats total_stats();
  uint32_t node() const { return node_; }

  // A reclaimer gives back memory that its allocator holds unused on the
  // calling core (empty slabs) and says how many blocks it freed. When an
  // allocation finds no memory, the reclaimers run on that core and the
  // allocation is tried once more. Set up before main; at most 4.
  using Reclaimer = std::size_t (*)();
  static void AddReclaimer(Reclaimer reclaimer);

  // Sets the options before the first use (then the Ebb is built with them).
  // Errc::kAlreadyExists once it is in use. Before a Runtime starts: for the
  // next Runtime's page allocator (with a malloc replacement, which builds
  // it as every core starts, the only time that works).
  static Status Configure(const PageAllocatorOptions& options);

  // For any thread (a malloc replacement must answer off the cores too):
  enum class Ownership { kForeign, kLive, kGone };
  // Whose is p: memory of the live page allocator, memory it had before the
  // runtime shut down (unmapped since), or neither.
  static Ownership Owner(const void* p);
  // Order and tag of a live block, and its free, from any thread.
  static uint32_t OrderOfAnywhere(const void* block);
  static BlockTag TagOfAnywhere(const void* block);
  static void FreeAnywhere(void* block);
  // From now on the regions of a page allocator that is destroyed stay as
  // they are (mapped, readable, never reused): objects there may still be
  // read, and Owner() tells their pointers (kGone) from any other. For a
  // malloc replacement; it keeps the memory of every runtime the process runs.
  static void KeepAddressesOfRetiredRegions();

  EBB_COLD static PageAllocator* HandleFault(EbbId id);
  EBB_COLD static Result<PageAllocator*> TryHandleFault(EbbId id);

 private:
  friend class PageAllocatorRoot;
  PageAllocator(PageAllocatorRoot& root, uint32_t node) : root_(root), node_(node) {}
  ~PageAllocator();
  Status grow(std::size_t bytes_needed);
  Result<platform::MemoryRegion> take_region(std::size_t bytes);
  // Gives this node's regions with no block out back to the platform (with
  // the lock held); returns how many.
  std::size_t release_empty_regions();
  Result<void*> allocate_or_grow(uint32_t order, BlockTag tag);

  static constexpr std::size_t kMaxRegions = 64;
  PageAllocatorRoot& root_;
  const uint32_t node_;
  SpinLock lock_;
  BuddyRegion* regions_[kMaxRegions] = {};
  platform::MemoryRegion memory_[kMaxRegions] = {};
  std::size_t region_count_ = 0;
  PageStats counts_;
};

inline constexpr Ref<PageAllocator> kPageAllocator(ids::kPageAllocatorId);

}  // namespace ebb::mem
