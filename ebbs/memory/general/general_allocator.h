#pragma once
// The general-purpose allocator: malloc, free, realloc, aligned and sized
// allocation, on the Ebbs below it.
//
//   small (up to 8 KiB): a size class (ebbs/memory/size_classes.h), each a
//                        SlabAllocator Ebb with a static id;
//   large:               a block of the page allocator, 4 KiB granular.
//
// With a constant size, allocate<N>() / deallocate<N>() pick the class at
// compile time: the call is one translation-table load and the slab's
// free-list pop, the same work as a hand-written fixed-size free list (see
// BM_Pair64 in ebb-bench-memory).
//
// All of it runs on a core (a Ref off any core is a panic). A process may
// route its malloc and operator new here: link ebb_malloc_override.

#include <cstddef>
#include <cstdint>

#include "ebbs/memory/page/page_allocator.h"
#include "ebbs/memory/size_classes.h"
#include "ebbs/memory/slab/slab_allocator.h"
#include "runtime/shared_ebb.h"
#include "runtime/static_ids.h"

namespace ebb::mem {

struct GeneralStats {
  SlabStats small;  // every size class that has been used, summed
  uint64_t large_allocations = 0;
  uint64_t large_frees = 0;
  uint64_t large_bytes_in_use = 0;
  uint64_t failures = 0;  // allocations refused (exhaustion), small and large
};

// The Ebb: large blocks, and the statistics of the whole allocator.
class GeneralAllocator : public SharedEbb<GeneralAllocator> {
 public:
  GeneralAllocator();
  // A block of at least `bytes`, aligned to `alignment` (a power of two): the
  // smallest page-allocator block that holds both, so up to 256 MiB; null
  // when memory is exhausted or the request is larger.
  void* allocate_large(std::size_t bytes, std::size_t alignment);
  void free_large(void* block);
  GeneralStats stats();
  // The small allocations `core` made and freed (every size class's rep on
  // that core; large blocks are not per core). From any thread.
  static SlabStats SmallStatsOn(CoreId core);
  void count_failure() { failures_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> large_allocations_{0};
  std::atomic<uint64_t> large_frees_{0};
  std::atomic<uint64_t> large_bytes_{0};
  std::atomic<uint64_t> failures_{0};
};

inline constexpr Ref<GeneralAllocator> kGeneralAllocator(ids::kGeneralAllocatorId);

namespace detail {
inline Ref<SlabAllocator> size_class(std::size_t size) {
  return Ref<SlabAllocator>(class_id(class_of(size)));
}
// Is `p` (memory of the page allocator, or null) an object of a slab?
bool is_slab_object(const void* p);
EBB_NOINLINE void* allocation_failed();
}  // namespace detail

// ---- the C-style entry points ------------------------------------------------

// Null when memory is exhausted (and allocation keeps working afterwards).
inline void* malloc(std::size_t size) {
  if (EBB_LIKELY(size <= kMaxSmallSize)) {
    void* p = detail::size_class(size)->allocate();
    return EBB_LIKELY(p != nullptr) ? p : detail::allocation_failed();
  }
  return kGeneralAllocator->allocate_large(size, kPageBytes);
}

// Any pointer from these entry points (or null). A foreign pointer or a
// double free is a panic in debug builds.
inline void free(void* p) {
  if (p == nullptr) return;
  if (EBB_LIKELY(detail::is_slab_object(p))) {
    Ref<SlabAllocator>(Slab::of(p)->allocator)->free(p);
    return;
  }
  kGeneralAllocator->free_large(p);
}

// `size` is what was asked for when it was allocated: no lookup.
inline void free_sized(void* p, std::size_t size) {
  if (p == nullptr) return;
  if (EBB_LIKELY(size <= kMaxSmallSize)) detail::size_class(size)->free(p);
  else kGeneralAllocator->free_large(p);
}

void* calloc(std::size_t count, std::size_t size);
// Keeps the contents up to the smaller size; realloc(p, 0) frees p and
// returns null; null (and p untouched) when memory is exhausted.
void* realloc(void* p, std::size_t size);
// `alignment`: a power of two (EINVAL-style misuse returns null).
void* aligned_alloc(std::size_t alignment, std::size_t size);
// The bytes usable at p (at least what was asked for).
std::size_t usable_size(const void* p);

// realloc's policy for a block of `old_size` usable bytes, shared with the
// malloc override: keep it while it fits and is not mostly empty, else move
// it with `allocate` and `release`.
template <class Allocate, class Release>
void* resize(void* p, std::size_t old_size, std::size_t size, Allocate allocate, Release release) {
  if (size <= old_size && size > old_size / 2) return p;
  void* fresh = allocate(size);
  if (fresh == nullptr) return nullptr;
  __builtin_memcpy(fresh, p, size < old_size ? size : old_size);
  release(p);
  return fresh;
}

// ---- constant sizes: the class is chosen at compile time ---------------------

template <std::size_t kSize>
inline void* allocate() {
  if constexpr (kSize <= kMaxSmallSize) {
    constexpr Ref<SlabAllocator> kClass(class_id(class_of(kSize)));
    void* p = kClass->allocate();
    return EBB_LIKELY(p != nullptr) ? p : detail::allocation_failed();
  } else {
    return kGeneralAllocator->allocate_large(kSize, kPageBytes);
  }
}

template <std::size_t kSize>
inline void deallocate(void* p) {
  if (p == nullptr) return;
  if constexpr (kSize <= kMaxSmallSize) {
    constexpr Ref<SlabAllocator> kClass(class_id(class_of(kSize)));
    kClass->free(p);
  } else {
    kGeneralAllocator->free_large(p);
  }
}

}  // namespace ebb::mem
