#pragma once
// BuddyRegion: a buddy allocator of page blocks over one region of memory.
//
// Blocks hold 2^order pages of 4 KiB, order 0 (4 KiB) to kMaxOrder (256 MiB),
// and are aligned to their size in the address space (buddies are found by
// flipping one bit of the absolute page number), so a 64 KiB block starts on
// a 64 KiB boundary whatever the region's base. Freeing coalesces with free
// buddies. Per-page metadata (12 bytes a page, free-list links included) sits
// at the region's start: the allocator never writes into free memory, so a
// new region costs no memory until it is used (with huge pages, touching one
// page of a block would fault in 2 MiB), and a write into freed memory cannot
// corrupt its lists. Not thread safe: the page allocator's node lock guards it.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ebb::mem {

inline constexpr uint32_t kPageShift = 12;
inline constexpr std::size_t kPageBytes = std::size_t{1} << kPageShift;
inline constexpr uint32_t kMaxOrder = 16;  // 256 MiB blocks

// Bytes in a block of `order`, and the smallest order that holds `bytes`.
constexpr std::size_t order_bytes(uint32_t order) { return kPageBytes << order; }
constexpr uint32_t order_for(std::size_t bytes) {
  uint32_t order = 0;
  while (order_bytes(order) < bytes) ++order;
  return order;
}

// What the user of a block marks it as (kept with the block; slab and
// general allocators tell their blocks apart with it).
enum class BlockTag : uint8_t { kNone = 0, kLarge = 1, kSlab = 2, kMetadata = 3 };

class BuddyRegion {
 public:
  // Takes [base, base + bytes); the region is used from the first page
  // boundary, and its first pages hold the metadata.
  BuddyRegion(void* base, std::size_t bytes);
  BuddyRegion(const BuddyRegion&) = delete;
  BuddyRegion& operator=(const BuddyRegion&) = delete;

  // A block of 2^order pages, or null when no free block is large enough.
  void* allocate(uint32_t order, BlockTag tag);
  // Frees a block from allocate(). Returns false (and changes nothing) when
  // `block` is not the start of a live block: a double free, or a pointer
  // that this region never handed out.
  bool free(void* block);

  bool contains(const void* p) const {
    const auto page = page_of(p);
    return page >= first_page_ && page < end_page_;
  }
  // For the start of a live block: its order and tag. kNone/0 otherwise.
  bool is_live_block(const void* block) const;
  uint32_t order_of(const void* block) const;
  BlockTag tag_of(const void* block) const;

  std::size_t total_pages() const { return end_page_ - first_page_; }
  std::size_t free_pages() const { return free_pages_; }
  // No block out: every page is free.
  bool empty() const { return free_pages_ == total_pages(); }
  std::size_t free_blocks(uint32_t order) const { return free_counts_[order]; }

  // Walks the free lists and the metadata; false on any inconsistency
  // (tests, and debug checks after suspected corruption).
  bool check_consistency() const;

 private:
  enum State : uint8_t { kInside = 0, kFreeHead = 1, kUsedHead = 2 };
  static constexpr uint32_t kNoPage = UINT32_MAX;

  // Written under the node's lock; state, order and tag are also read
  // without it (order_of, tag_of from any core): those accesses are relaxed
  // atomics, plain byte moves on x86. The links are for free heads only.
  class PageMeta {
   public:
    uint32_t next;  // free list of its order (page index), or kNoPage
    uint32_t prev;
    void set(State state, uint32_t order, BlockTag tag) {
      std::atomic_ref<uint8_t>(head_).store(static_cast<uint8_t>(state | (order << 2)),
                                            std::memory_order_relaxed);
      std::atomic_ref<uint8_t>(tag_).store(static_cast<uint8_t>(tag), std::memory_order_relaxed);
    }
    void set_state(State state) { set(state, order(), tag()); }
    State state() const { return static_cast<State>(load(head_) & 3); }
    uint32_t order() const { return load(head_) >> 2; }
    BlockTag tag() const { return static_cast<BlockTag>(load(tag_)); }

   private:
    static uint8_t load(const uint8_t& byte) {
      return std::atomic_ref<uint8_t>(const_cast<uint8_t&>(byte)).load(std::memory_order_relaxed);
    }
    uint8_t head_;
    uint8_t tag_;
  };
  static uintptr_t page_of(const void* p) { return reinterpret_cast<uintptr_t>(p) >> kPageShift; }
  static void* address_of(uintptr_t page) { return reinterpret_cast<void*>(page << kPageShift); }
  PageMeta& meta(uintptr_t page) { return meta_[page - meta_first_page_]; }
  const PageMeta& meta(uintptr_t page) const { return meta_[page - meta_first_page_]; }
  uint32_t index_of(uintptr_t page) const { return static_cast<uint32_t>(page - meta_first_page_); }
  uintptr_t page_at(uint32_t index) const { return meta_first_page_ + index; }
  void push_free(uintptr_t page, uint32_t order);
  void remove_free(uintptr_t page, uint32_t order);

  uintptr_t meta_first_page_;  // page numbers covered by meta_ start here
  uintptr_t first_page_;       // first page that blocks may use
  uintptr_t end_page_;
  PageMeta* meta_;
  uint32_t free_[kMaxOrder + 1];  // the first free block of each order (index), or kNoPage
  std::size_t free_counts_[kMaxOrder + 1] = {};
  std::size_t free_pages_ = 0;
};

}  // namespace ebb::mem
