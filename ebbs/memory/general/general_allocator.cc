#include "ebbs/memory/general/general_allocator.h"

#include <cstring>

#include "runtime/translation_table.h"

namespace ebb::mem {
namespace {

// Out of pages: this core's empty slabs of every size class go back (only
// reps already in this core's table: a reclaim must not build any).
std::size_t release_empty_class_slabs() {
  std::size_t released = 0;
  for (uint32_t c = 0; c < kClassCount; ++c) {
    if (auto* rep = static_cast<SlabAllocator*>(translation::lookup(class_id(c))))
      released += rep->release_empty_slabs(0);
  }
  return released;
}

[[maybe_unused]] const bool g_reclaimer_added = [] {
  PageAllocator::AddReclaimer(&release_empty_class_slabs);
  return true;
}();

}  // namespace

GeneralAllocator::GeneralAllocator() {
  // Older than us, so alive for our destructor (teardown runs newest first).
  if (on_core()) (void)kPageAllocator.try_get();
}

void* GeneralAllocator::allocate_large(std::size_t bytes, std::size_t alignment) {
  const std::size_t need = bytes > alignment ? bytes : alignment;
  if (need > order_bytes(kMaxOrder)) {
    count_failure();
    return nullptr;
  }
  const uint32_t order = order_for(need);  // blocks are aligned to their size
  Result<void*> block = kPageAllocator->allocate(order, BlockTag::kLarge);
  if (!block) {
    count_failure();
    return nullptr;
  }
  large_allocations_.fetch_add(1, std::memory_order_relaxed);
  large_bytes_.fetch_add(order_bytes(order), std::memory_order_relaxed);
  return *block;
}

void GeneralAllocator::free_large(void* block) {
  PageAllocator& pages = *kPageAllocator;
  if (EBB_UNLIKELY(pages.tag_of(block) != BlockTag::kLarge)) {
    panic("free(%p): not an allocation of the general allocator (a double free, a foreign "
          "pointer, or a pointer into an allocation)",
          block);
  }
  large_bytes_.fetch_sub(order_bytes(pages.order_of(block)), std::memory_order_relaxed);
  large_frees_.fetch_add(1, std::memory_order_relaxed);
  pages.free(block);
}

GeneralStats GeneralAllocator::stats() {
  GeneralStats s;
  for (uint32_t c = 0; c < kClassCount; ++c) {
    Result<SlabAllocatorRoot*> root = SlabAllocator::RootOf(class_id(c));
    if (root) s.small += (*root)->stats();  // classes never used have no root
  }
  s.large_allocations = large_allocations_.load(std::memory_order_relaxed);
  s.large_frees = large_frees_.load(std::memory_order_relaxed);
  s.large_bytes_in_use = large_bytes_.load(std::memory_order_relaxed);
  s.failures = failures_.load(std::memory_order_relaxed);
  return s;
}

SlabStats GeneralAllocator::SmallStatsOn(CoreId core) {
  SlabStats s;
  for (uint32_t c = 0; c < kClassCount; ++c) {
    Result<SlabAllocatorRoot*> root = SlabAllocator::RootOf(class_id(c));
    if (!root) continue;
    if (const SlabAllocator* rep = (*root)->rep_on(core)) s += rep->stats();
  }
  return s;
}

namespace detail {

bool is_slab_object(const void* p) {
#ifndef NDEBUG
  // Debug builds ask the page allocator first, so that a foreign pointer is
  // a clear panic rather than a read of whatever lies 64 KiB below it.
  PageAllocator& pages = *kPageAllocator;
  if (!pages.owns(p)) {
    panic("free(%p): not memory of the general allocator (a foreign pointer)", p);
  }
  const bool slab = pages.tag_of(Slab::of(p)) == BlockTag::kSlab;
  // Only a slab's header may be read: below a large block lies another
  // allocation, perhaps in use on another core.
  if (slab) EBB_CHECK(Slab::looks_live(p), "free(%p): the slab header below it is corrupted", p);
  return slab;
#else
  return Slab::looks_live(p);
#endif
}

void* allocation_failed() {
  kGeneralAllocator->count_failure();
  return nullptr;
}

}  // namespace detail

void* calloc(std::size_t count, std::size_t size) {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) return detail::allocation_failed();
  void* p = malloc(bytes);
  if (p != nullptr) std::memset(p, 0, bytes);
  return p;
}

std::size_t usable_size(const void* p) {
  if (p == nullptr) return 0;
  if (detail::is_slab_object(p)) return Slab::of(p)->object_size;
  return order_bytes(kPageAllocator->order_of(p));
}

void* realloc(void* p, std::size_t size) {
  if (p == nullptr) return malloc(size);
  if (size == 0) {
    free(p);
    return nullptr;
  }
  return resize(p, usable_size(p), size, [](std::size_t n) { return malloc(n); },
                [](void* q) { free(q); });
}

void* aligned_alloc(std::size_t alignment, std::size_t size) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  if (size == 0) size = 1;
  if (alignment <= 16) return malloc(size);
  // Slab objects start 64-byte aligned in their slab and every class is a
  // multiple of 16: a class that is a multiple of the alignment keeps it.
  if (alignment <= 64) {
    for (uint32_t c = class_of(size < kMaxSmallSize ? size : kMaxSmallSize); c < kClassCount; ++c) {
      if (class_size(c) >= size && class_size(c) % alignment == 0) {
        void* p = Ref<SlabAllocator>(class_id(c))->allocate();
        return p != nullptr ? p : detail::allocation_failed();
      }
    }
  }
  return kGeneralAllocator->allocate_large(size, alignment);
}

}  // namespace ebb::mem
