#include "ebbs/memory/page/buddy.h"

#include "runtime/panic.h"

namespace ebb::mem {

BuddyRegion::BuddyRegion(void* base, std::size_t bytes) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(base);
  const uintptr_t first = (start + kPageBytes - 1) >> kPageShift;
  const uintptr_t end = (start + bytes) >> kPageShift;
  EBB_CHECK(end > first + 1, "BuddyRegion: a region of %zu bytes is too small", bytes);
  const std::size_t pages = end - first;
  const std::size_t meta_pages = (pages * sizeof(PageMeta) + kPageBytes - 1) / kPageBytes;
  EBB_CHECK(meta_pages < pages, "BuddyRegion: no room beside the metadata");
  meta_first_page_ = first;
  meta_ = static_cast<PageMeta*>(address_of(first));
  for (uint32_t& head : free_) head = kNoPage;
  for (std::size_t i = 0; i < pages; ++i) meta_[i].set(kInside, 0, BlockTag::kNone);
  for (std::size_t i = 0; i < meta_pages; ++i) meta_[i].set(kUsedHead, 0, BlockTag::kMetadata);
  first_page_ = first + meta_pages;
  end_page_ = end;
  // Cover the rest with the largest aligned blocks that fit.
  uintptr_t page = first_page_;
  while (page < end_page_) {
    uint32_t order = kMaxOrder;
    while (order > 0 && ((page & ((uintptr_t{1} << order) - 1)) != 0 ||
                         page + (uintptr_t{1} << order) > end_page_)) {
      --order;
    }
    push_free(page, order);
    free_pages_ += std::size_t{1} << order;
    page += uintptr_t{1} << order;
  }
}

void BuddyRegion::push_free(uintptr_t page, uint32_t order) {
  PageMeta& m = meta(page);
  m.set(kFreeHead, order, BlockTag::kNone);
  m.prev = kNoPage;
  m.next = free_[order];
  if (m.next != kNoPage) meta_[m.next].prev = index_of(page);
  free_[order] = index_of(page);
  ++free_counts_[order];
}

void BuddyRegion::remove_free(uintptr_t page, uint32_t order) {
  PageMeta& m = meta(page);
  if (m.prev != kNoPage) meta_[m.prev].next = m.next;
  else free_[order] = m.next;
  if (m.next != kNoPage) meta_[m.next].prev = m.prev;
  m.set_state(kInside);
  --free_counts_[order];
}

void* BuddyRegion::allocate(uint32_t order, BlockTag tag) {
  if (order > kMaxOrder) return nullptr;
  uint32_t k = order;
  while (k <= kMaxOrder && free_[k] == kNoPage) ++k;
  if (k > kMaxOrder) return nullptr;
  const uintptr_t page = page_at(free_[k]);
  remove_free(page, k);
  while (k > order) {  // split: the upper halves go back
    --k;
    push_free(page + (uintptr_t{1} << k), k);
  }
  meta(page).set(kUsedHead, order, tag);
  free_pages_ -= std::size_t{1} << order;
  return address_of(page);
}

bool BuddyRegion::free(void* block) {
  if (!is_live_block(block) || meta(page_of(block)).tag() == BlockTag::kMetadata) return false;
  uintptr_t page = page_of(block);
  uint32_t order = meta(page).order();
  free_pages_ += std::size_t{1} << order;
  meta(page).set_state(kInside);
  while (order < kMaxOrder) {
    const uintptr_t buddy = page ^ (uintptr_t{1} << order);
    if (buddy < first_page_ || buddy + (uintptr_t{1} << order) > end_page_) break;
    const PageMeta& m = meta(buddy);
    if (m.state() != kFreeHead || m.order() != order) break;
    remove_free(buddy, order);
    page = page < buddy ? page : buddy;
    ++order;
  }
  push_free(page, order);
  return true;
}

bool BuddyRegion::is_live_block(const void* block) const {
  if ((reinterpret_cast<uintptr_t>(block) & (kPageBytes - 1)) != 0 || !contains(block)) return false;
  return meta(page_of(block)).state() == kUsedHead;
}

uint32_t BuddyRegion::order_of(const void* block) const {
  return is_live_block(block) ? meta(page_of(block)).order() : 0;
}

BlockTag BuddyRegion::tag_of(const void* block) const {
  return is_live_block(block) ? meta(page_of(block)).tag() : BlockTag::kNone;
}

bool BuddyRegion::check_consistency() const {
  std::size_t pages = 0;
  for (uint32_t order = 0; order <= kMaxOrder; ++order) {
    std::size_t count = 0;
    uint32_t prev = kNoPage;
    for (uint32_t i = free_[order]; i != kNoPage; i = meta_[i].next) {
      const uintptr_t page = page_at(i);
      if (page < first_page_ || page >= end_page_ || meta_[i].prev != prev) return false;
      if ((page & ((uintptr_t{1} << order) - 1)) != 0) return false;  // misaligned
      if (meta_[i].state() != kFreeHead || meta_[i].order() != order) return false;
      prev = i;
      ++count;
      pages += std::size_t{1} << order;
      if (count > total_pages()) return false;  // a cycle
    }
    if (count != free_counts_[order]) return false;
  }
  return pages == free_pages_;
}

}  // namespace ebb::mem
