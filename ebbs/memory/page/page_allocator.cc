#include "ebbs/memory/page/page_allocator.h"

#include <iterator>
#include <new>
#include <utility>

#include "runtime/root_registry.h"
#include "runtime/spawn.h"
#include "runtime/translation_table.h"

namespace ebb::mem {

class PageAllocatorRoot;

namespace {
// The live root, for threads that are not cores (Owner, FreeAnywhere).
std::atomic<PageAllocatorRoot*> g_root{nullptr};
std::atomic<bool> g_keep_addresses{false};  // see KeepAddressesOfRetiredRegions
std::atomic<PageAllocator::Reclaimer> g_reclaimers[4];

// Options given to Configure before the Runtime started, for its allocator.
SpinLock g_saved_lock;
PageAllocatorOptions g_saved_options;

PageAllocatorOptions take_saved_options() {
  SpinLockGuard guard(g_saved_lock);
  return std::exchange(g_saved_options, PageAllocatorOptions{});
}

// Regions of page allocators that are gone (a runtime that shut down):
// a malloc replacement may still be handed their pointers.
struct RetiredRange {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
};
constexpr std::size_t kRetiredRanges = 256;
RetiredRange g_retired[kRetiredRanges];
std::atomic<std::size_t> g_retired_count{0};

void retire_range(uintptr_t begin, uintptr_t end) {
  const std::size_t i = g_retired_count.load(std::memory_order_relaxed);
  if (i == kRetiredRanges) return;  // only a malloc replacement cares, and only for a while
  g_retired[i].begin.store(begin, std::memory_order_relaxed);
  g_retired[i].end.store(end, std::memory_order_relaxed);
  g_retired_count.store(i + 1, std::memory_order_release);
}
}  // namespace

// Shared by the node reps: the options, the reps, and a table of every region
// so that any core can find which node owns a block. The table is append-only
// (a region given back keeps its slot, with an empty range), so readers need
// no lock.
class PageAllocatorRoot {
 public:
  // Built by a fault on the id: with the options saved for this Runtime.
  PageAllocatorRoot() : PageAllocatorRoot(take_saved_options()) {}
  explicit PageAllocatorRoot(const PageAllocatorOptions& options)
      : options_(with_defaults(options)), node_count_(platform::numa_nodes()) {
    EBB_CHECK(options_.region_bytes % platform::kRegionAlignment == 0 && options_.region_bytes != 0,
              "PageAllocator: region_bytes must be a positive multiple of 2 MiB (got %zu)",
              options_.region_bytes);
    nodes_ = new PageAllocator*[node_count_];
    for (uint32_t n = 0; n < node_count_; ++n) nodes_[n] = new PageAllocator(*this, n);
    // Only the first: a second one (a Configure too late) is deleted unregistered.
    PageAllocatorRoot* none = nullptr;
    g_root.compare_exchange_strong(none, this, std::memory_order_acq_rel);
  }
  ~PageAllocatorRoot() {
    PageAllocatorRoot* self = this;
    g_root.compare_exchange_strong(self, nullptr, std::memory_order_acq_rel);
    const std::size_t count = region_count_.load(std::memory_order_acquire);
    // Only ranges whose addresses stay reserved: others may be mapped anew.
    if (g_keep_addresses.load(std::memory_order_relaxed)) {
      for (std::size_t i = 0; i < count; ++i) {
        const uintptr_t begin = regions_[i].begin.load(std::memory_order_relaxed);
        const uintptr_t end = regions_[i].end.load(std::memory_order_relaxed);
        if (begin != end && !regions_[i].buddy->empty()) retire_range(begin, end);
      }
    }
    for (uint32_t n = 0; n < node_count_; ++n) delete nodes_[n];
    delete[] nodes_;
  }

  static PageAllocatorOptions with_defaults(PageAllocatorOptions options) {
    if (options.region_bytes == 0) options.region_bytes = platform::default_region_bytes();
    return options;
  }

  PageAllocator& node(uint32_t n) { return *nodes_[n < node_count_ ? n : 0]; }
  uint32_t node_count() const { return node_count_; }
  const PageAllocatorOptions& options() const { return options_; }

  // begin == end: a region given back (release_empty_regions). Readers on
  // other threads look only for live blocks, which a region given back has
  // none of, so a stale read finds nothing it should not.
  struct RegionEntry {
    std::atomic<uintptr_t> begin{0};
    std::atomic<uintptr_t> end{0};
    PageAllocator* owner = nullptr;
    BuddyRegion* buddy = nullptr;
  };

  const RegionEntry* find(const void* p) const {
    const auto address = reinterpret_cast<uintptr_t>(p);
    const std::size_t count = region_count_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < count; ++i)
      if (address >= regions_[i].begin.load(std::memory_order_relaxed) &&
          address < regions_[i].end.load(std::memory_order_relaxed))
        return &regions_[i];
    return nullptr;
  }

  // Slots are not reused (readers hold no lock): releases and grows use them up.
  bool full() const { return region_count_.load(std::memory_order_relaxed) == kMaxRegions; }
  // With the table not full (grow checks first).
  void publish(uintptr_t begin, uintptr_t end, PageAllocator* owner, BuddyRegion* buddy) {
    const std::size_t i = region_count_.load(std::memory_order_relaxed);
    regions_[i].owner = owner;
    regions_[i].buddy = buddy;
    regions_[i].begin.store(begin, std::memory_order_relaxed);
    regions_[i].end.store(end, std::memory_order_relaxed);
    region_count_.store(i + 1, std::memory_order_release);
  }
  // The entry of the region at `begin` names no addresses any more (its slot
  // is not reused: readers run without a lock).
  void unpublish(uintptr_t begin) {
    const std::size_t count = region_count_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < count; ++i) {
      // The live entry: an earlier region at the same base was given back
      // already (the platform hands a base out again).
      if (regions_[i].begin.load(std::memory_order_relaxed) != begin ||
          regions_[i].end.load(std::memory_order_relaxed) == begin)
        continue;
      regions_[i].end.store(begin, std::memory_order_relaxed);
      return;
    }
  }

  // Reserves `bytes` against the limit; false when it would pass it.
  bool reserve(std::size_t bytes) {
    const std::size_t limit = options_.limit_bytes;
    std::size_t now = reserved_.load(std::memory_order_relaxed);
    do {
      if (limit != 0 && now + bytes > limit) return false;
    } while (!reserved_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
    return true;
  }
  void unreserve(std::size_t bytes) { reserved_.fetch_sub(bytes, std::memory_order_relaxed); }

  static constexpr std::size_t kMaxRegions = 256;

 private:
  const PageAllocatorOptions options_;
  const uint32_t node_count_;
  PageAllocator** nodes_;
  RegionEntry regions_[kMaxRegions] = {};
  std::atomic<std::size_t> region_count_{0};
  std::atomic<std::size_t> reserved_{0};
};

namespace {
const roots::RootType& page_root_type() {
  return roots::root_type_of<PageAllocatorRoot, PageAllocator>();
}
}  // namespace

PageAllocator::~PageAllocator() {
  // Kept: a region where blocks are still out (objects a malloc
  // replacement gave out and no one freed). One with none can go: no live
  // pointer leads into it.
  const bool keep = g_keep_addresses.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < region_count_; ++i) {
    const bool in_use = !regions_[i]->empty();
    regions_[i]->~BuddyRegion();
    platform::give_back_memory(memory_[i], keep && in_use);
  }
}

void PageAllocator::KeepAddressesOfRetiredRegions() {
  g_keep_addresses.store(true, std::memory_order_relaxed);
}

Result<platform::MemoryRegion> PageAllocator::take_region(std::size_t bytes) {
  if (!root_.reserve(bytes))
    return Error(Errc::kExhausted, "PageAllocator: the memory limit is reached",
                 static_cast<int64_t>(root_.options().limit_bytes));
  Result<platform::MemoryRegion> memory = platform::take_memory(bytes, node_);
  if (!memory) root_.unreserve(bytes);
  return memory;
}

std::size_t PageAllocator::release_empty_regions() {
  std::size_t released = 0;
  for (std::size_t i = 0; i < region_count_;) {
    if (!regions_[i]->empty()) {
      ++i;
      continue;
    }
    const auto begin = reinterpret_cast<uintptr_t>(memory_[i].base);
    root_.unpublish(begin);
    --counts_.regions;
    counts_.reserved_bytes -= memory_[i].bytes;
    root_.unreserve(memory_[i].bytes);
    regions_[i]->~BuddyRegion();
    platform::give_back_memory(memory_[i]);
    --region_count_;
    regions_[i] = regions_[region_count_];
    memory_[i] = memory_[region_count_];
    ++released;
  }
  return released;
}

Status PageAllocator::grow(std::size_t bytes_needed) {
  if (region_count_ == kMaxRegions)
    return Error(Errc::kExhausted, "PageAllocator: the node holds its maximum of regions");
  if (root_.full()) return Error(Errc::kExhausted, "PageAllocator: the table of regions is full");
  // Room for the block at its alignment (a region is only 2 MiB aligned:
  // up to a block's worth of slack), the metadata (well under 1/64 of the
  // pages) and the BuddyRegion, in whole region_bytes: no more RAM than
  // that (natively it is all the VM has).
  const std::size_t unit = root_.options().region_bytes;
  const std::size_t room = 2 * bytes_needed + bytes_needed / 32 + 2 * kPageBytes;
  // When whole units are not to be had, just the room (in 2 MiB) will do.
  const std::size_t bytes = (room + unit - 1) / unit * unit;
  const std::size_t least = (room + platform::kRegionAlignment - 1) & ~(platform::kRegionAlignment - 1);
  Result<platform::MemoryRegion> memory = take_region(bytes);
  if (!memory && bytes != least) memory = take_region(least);
  // Still none: this node's empty regions go back first (where smaller
  // blocks were, a large one may fit once they merge), then once more.
  if (!memory && release_empty_regions() != 0) {
    memory = take_region(bytes);
    if (!memory && bytes != least) memory = take_region(least);
  }
  if (!memory) return memory.error();
  // The BuddyRegion object lives in the region's first page: the page
  // allocator takes nothing from any other allocator.
  auto* buddy = new (memory->base) BuddyRegion(static_cast<char*>(memory->base) + kPageBytes,
                                               memory->bytes - kPageBytes);
  regions_[region_count_] = buddy;
  memory_[region_count_] = *memory;
  ++region_count_;
  const auto begin = reinterpret_cast<uintptr_t>(memory->base);
  root_.publish(begin, begin + memory->bytes, this, buddy);
  ++counts_.regions;
  counts_.reserved_bytes += memory->bytes;
  return {};
}

void PageAllocator::AddReclaimer(Reclaimer reclaimer) {
  for (auto& slot : g_reclaimers) {
    Reclaimer empty = nullptr;
    if (slot.compare_exchange_strong(empty, reclaimer, std::memory_order_acq_rel)) return;
  }
  panic("PageAllocator::AddReclaimer: more than %zu reclaimers", std::size(g_reclaimers));
}

Result<void*> PageAllocator::allocate(uint32_t order, BlockTag tag) {
  if (order > kMaxOrder)
    return Error(Errc::kInvalidArgument, "PageAllocator: order above kMaxOrder", order);
  Result<void*> block = allocate_or_grow(order, tag);
  if (block || block.error().code() != Errc::kExhausted) return block;
  // Out of memory: what this core's allocators hold unused comes back first
  // (outside the lock: freeing takes it).
  std::size_t reclaimed = 0;
  for (auto& slot : g_reclaimers) {
    if (Reclaimer reclaim = slot.load(std::memory_order_acquire)) reclaimed += reclaim();
  }
  if (reclaimed != 0) block = allocate_or_grow(order, tag);
  if (!block) {
    SpinLockGuard guard(lock_);
    ++counts_.failures;
  }
  return block;
}

Result<void*> PageAllocator::allocate_or_grow(uint32_t order, BlockTag tag) {
  SpinLockGuard guard(lock_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (std::size_t i = 0; i < region_count_; ++i) {
      if (void* block = regions_[i]->allocate(order, tag)) {
        ++counts_.allocations;
        return block;
      }
    }
    if (attempt == 0) {
      if (Status grown = grow(order_bytes(order)); !grown) return grown.error();
    }
  }
  return Error(Errc::kExhausted, "PageAllocator: no block of this order", order);
}

void PageAllocator::free(void* block) {
  const PageAllocatorRoot::RegionEntry* region = root_.find(block);
  if (EBB_UNLIKELY(region == nullptr))
    panic("PageAllocator::free(%p): not memory of the page allocator (a foreign pointer)", block);
  PageAllocator& owner = *region->owner;
  // A big block's pages go back to the platform (before the block is free
  // again, so no new owner's data can be discarded): what a burst of big
  // allocations took does not stay with the process for good. Smaller blocks
  // keep their pages; they are likely reused soon, and refaulting costs.
  if (const uint32_t order = region->buddy->order_of(block); order >= kDiscardOrder)
    platform::discard_memory(block, order_bytes(order));
  SpinLockGuard guard(owner.lock_);
  if (EBB_UNLIKELY(!region->buddy->free(block)))
    panic("PageAllocator::free(%p): not a live block (a double free, or a pointer into a block)",
          block);
  ++owner.counts_.frees;
}

bool PageAllocator::owns(const void* p) const { return root_.find(p) != nullptr; }

namespace {
// Order and tag of a live block of `root` (0 and kNone for anything else).
uint32_t order_in(const PageAllocatorRoot* root, const void* block) {
  const PageAllocatorRoot::RegionEntry* region = root != nullptr ? root->find(block) : nullptr;
  return region != nullptr ? region->buddy->order_of(block) : 0;
}
BlockTag tag_in(const PageAllocatorRoot* root, const void* block) {
  const PageAllocatorRoot::RegionEntry* region = root != nullptr ? root->find(block) : nullptr;
  return region != nullptr ? region->buddy->tag_of(block) : BlockTag::kNone;
}
}  // namespace

uint32_t PageAllocator::order_of(const void* block) const { return order_in(&root_, block); }
BlockTag PageAllocator::tag_of(const void* block) const { return tag_in(&root_, block); }

PageStats PageAllocator::stats() {
  SpinLockGuard guard(lock_);
  PageStats s = counts_;
  for (std::size_t i = 0; i < region_count_; ++i) {
    s.total_pages += regions_[i]->total_pages();
    s.free_pages += regions_[i]->free_pages();
    for (uint32_t order = 0; order <= kMaxOrder; ++order)
      s.free_blocks[order] += regions_[i]->free_blocks(order);
  }
  return s;
}

PageStats PageAllocator::total_stats() {
  PageStats total;
  for (uint32_t n = 0; n < root_.node_count(); ++n) {
    total += root_.node(n).stats();
  }
  return total;
}

PageStats& PageStats::operator+=(const PageStats& o) {
  regions += o.regions;
  reserved_bytes += o.reserved_bytes;
  total_pages += o.total_pages;
  free_pages += o.free_pages;
  for (uint32_t order = 0; order <= kMaxOrder; ++order) free_blocks[order] += o.free_blocks[order];
  allocations += o.allocations;
  frees += o.frees;
  failures += o.failures;
  return *this;
}

Status PageAllocator::Configure(const PageAllocatorOptions& options) {
  if (!runtime_running()) {
    SpinLockGuard guard(g_saved_lock);
    g_saved_options = options;
    return {};
  }
  return roots::make_root<PageAllocatorRoot, PageAllocator>(ids::kPageAllocatorId, options);
}

PageAllocator::Ownership PageAllocator::Owner(const void* p) {
  PageAllocatorRoot* root = g_root.load(std::memory_order_acquire);
  if (root != nullptr && root->find(p) != nullptr) return Ownership::kLive;
  const auto address = reinterpret_cast<uintptr_t>(p);
  const std::size_t retired = g_retired_count.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < retired; ++i) {
    if (address >= g_retired[i].begin.load(std::memory_order_relaxed) &&
        address < g_retired[i].end.load(std::memory_order_relaxed))
      return Ownership::kGone;
  }
  return Ownership::kForeign;
}

uint32_t PageAllocator::OrderOfAnywhere(const void* block) {
  return order_in(g_root.load(std::memory_order_acquire), block);
}

BlockTag PageAllocator::TagOfAnywhere(const void* block) {
  return tag_in(g_root.load(std::memory_order_acquire), block);
}

void PageAllocator::FreeAnywhere(void* block) {
  PageAllocatorRoot* root = g_root.load(std::memory_order_acquire);
  EBB_CHECK(root != nullptr, "PageAllocator::FreeAnywhere(%p): no page allocator", block);
  root->node(0).free(block);  // free() finds the owning node itself
}

PageAllocator* PageAllocator::HandleFault(EbbId id) {
  return detail::rep_or_panic(id, TryHandleFault(id));
}

// A rep per NUMA node: each core installs its node's rep.
Result<PageAllocator*> PageAllocator::TryHandleFault(EbbId id) {
  Status ok = detail::begin_fault(id);
  if (!ok) return ok.error();
  Result<void*> root = roots::find(id, page_root_type());
  if (!root) return root.error();
  PageAllocator& rep =
      static_cast<PageAllocatorRoot*>(*root)->node(platform::numa_node_of(this_core()));
  translation::install(id, &rep);
  return &rep;
}

}  // namespace ebb::mem
