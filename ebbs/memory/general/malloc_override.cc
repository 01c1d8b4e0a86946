// ebb_malloc_override: link it into a program to make the Ebb allocators its
// malloc (and so its operator new, which calls malloc).
//
// On a core, malloc and friends go to the Ebb allocators. Everywhere else
// (threads that are not cores, before the runtime starts, after it stops, and
// the allocators' own bookkeeping while they run) they go to the platform's
// own heap: glibc's hosted, the boot heap native. free() tells the two apart
// by address: the page allocator knows its regions. Every native image links
// it; so its operator new, which calls malloc, is the Ebbs' too.
//
// malloc and free never fault an Ebb in: runtime code may allocate while it
// holds the registry's lock, which a fault needs. They use the core's
// allocator reps once those are installed in its table (each core builds
// them in a start hook, and the runtime starts no outside work before);
// until then, and inside that build, they use the platform's heap.
//
// A pointer from a runtime that has shut down is ignored by free() (its
// memory went back with the runtime; the addresses stay reserved, so nothing
// else lands there): memory from the cores must not be used after shutdown.

#include <cerrno>
#include <cstring>

#include "ebbs/memory/general/general_allocator.h"
#include "runtime/panic.h"
#include "runtime/platform.h"
#include "runtime/platform_heap_scope.h"
#include "runtime/spawn.h"
#include "runtime/translation_table.h"

namespace ebb::mem {
namespace {

// Open while a call is inside the Ebb allocators: their own allocations (a
// timer, a queue growing) go to the platform's heap rather than back into them.
using Inside = PlatformHeapScope;

// Before main: the page allocator keeps retired addresses from now on, and
// every core builds its allocator reps first thing (allocating from the
// platform's heap meanwhile).
[[maybe_unused]] const bool g_set_up = [] {
  PageAllocator::KeepAddressesOfRetiredRegions();
  run_on_every_core_start([] {
    Inside inside;
    (void)kPageAllocator.try_get();
    (void)kGeneralAllocator.try_get();
    for (uint32_t c = 0; c < kClassCount; ++c) (void)Ref<SlabAllocator>(class_id(c)).try_get();
  });
  return true;
}();

// The Ebb allocators may serve this call: a core, not from inside them, and
// not while the runtime shuts down (its Ebbs are being torn down).
bool ebb_may_serve() { return on_core() && !ebb::detail::tls_platform_heap && runtime_running(); }

// This core's rep of `id`, or null while it (or the page allocator below
// it) is not in the core's table yet.
template <class T>
T* ready_rep(EbbId id) {
  if (translation::lookup(ids::kPageAllocatorId) == nullptr) return nullptr;
  return static_cast<T*>(translation::lookup(id));
}

// Ebb memory of `alignment` (a power of two), or null to fall back.
void* ebb_allocate(std::size_t size, std::size_t alignment) {
  if (!ebb_may_serve()) return nullptr;
  if (size == 0) size = 1;
  if (alignment <= 64 && size <= kMaxSmallSize) {
    // A class that is a multiple of the alignment keeps it (slab objects
    // start 64-byte aligned, classes are multiples of 16).
    for (uint32_t c = class_of(size); c < kClassCount; ++c) {
      if (alignment > 16 && class_size(c) % alignment != 0) continue;
      SlabAllocator* rep = ready_rep<SlabAllocator>(class_id(c));
      if (rep == nullptr) return nullptr;
      Inside inside;
      return rep->allocate();
    }
  }
  GeneralAllocator* general = ready_rep<GeneralAllocator>(ids::kGeneralAllocatorId);
  if (general == nullptr) return nullptr;
  Inside inside;
  return general->allocate_large(size, alignment > kPageBytes ? alignment : kPageBytes);
}

// The bytes usable at p, memory of the live page allocator.
std::size_t ebb_usable_size(const void* p) {
  if (Slab::looks_live(p)) return Slab::of(p)->object_size;
  return order_bytes(PageAllocator::OrderOfAnywhere(p));
}

void ebb_free(void* p) {
  const bool slab = Slab::looks_live(p);
  // Neither a live slab's object nor a large block: memory of an allocator
  // torn down while it was still in use (runtime structures at shutdown).
  // It went back with its allocator already.
  if (!slab && PageAllocator::TagOfAnywhere(p) != BlockTag::kLarge) return;
  if (ebb_may_serve()) {
    if (slab) {
      if (SlabAllocator* rep = ready_rep<SlabAllocator>(Slab::of(p)->allocator)) {
        Inside inside;
        rep->free(p);
        return;
      }
    } else if (GeneralAllocator* general =
                   ready_rep<GeneralAllocator>(ids::kGeneralAllocatorId)) {
      Inside inside;
      general->free_large(p);
      return;
    }
  }
  // Not a core, or its reps are not there: send the object home.
  Inside inside;
  if (slab) SlabAllocator::FreeOffCore(p);
  else PageAllocator::FreeAnywhere(p);
}

void* allocate_for_c(std::size_t size, std::size_t alignment) {
  if (void* p = ebb_allocate(size, alignment)) return p;
  return platform::system_allocate(size, alignment);
}

}  // namespace
}  // namespace ebb::mem

using ebb::mem::PageAllocator;

extern "C" {

void* malloc(size_t size) { return ebb::mem::allocate_for_c(size, 16); }

void free(void* p) {
  if (p == nullptr) return;
  switch (PageAllocator::Owner(p)) {
    case PageAllocator::Ownership::kForeign:
      ebb::platform::system_free(p);
      return;
    case PageAllocator::Ownership::kGone:
      return;  // its memory went back when the runtime shut down
    case PageAllocator::Ownership::kLive:
      ebb::mem::ebb_free(p);
      return;
  }
}

void* calloc(size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = malloc(bytes);
  if (p != nullptr) std::memset(p, 0, bytes);
  return p;
}

size_t malloc_usable_size(void* p);

void* realloc(void* p, size_t size) {
  if (p == nullptr) return malloc(size);
  if (PageAllocator::Owner(p) == PageAllocator::Ownership::kGone) {
    ebb::panic("realloc(%p): memory of a Runtime that has shut down (its size is gone with it)", p);
  }
  if (size == 0) {
    free(p);
    return nullptr;
  }
  return ebb::mem::resize(p, malloc_usable_size(p), size, [](size_t n) { return malloc(n); },
                         [](void* q) { free(q); });
}

void* aligned_alloc(size_t alignment, size_t size) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  return ebb::mem::allocate_for_c(size, alignment);
}

void* memalign(size_t alignment, size_t size) { return aligned_alloc(alignment, size); }

int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = ebb::mem::allocate_for_c(size, alignment);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(size_t size) { return ebb::mem::allocate_for_c(size, ebb::mem::kPageBytes); }

void* pvalloc(size_t size) {
  const size_t page = ebb::mem::kPageBytes;
  const size_t rounded = (size + page - 1) & ~(page - 1);
  return ebb::mem::allocate_for_c(rounded == 0 ? page : rounded, page);
}

size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  switch (PageAllocator::Owner(p)) {
    case PageAllocator::Ownership::kLive:
      return ebb::mem::ebb_usable_size(p);
    case PageAllocator::Ownership::kGone:
      return 0;  // its memory went back when the runtime shut down
    case PageAllocator::Ownership::kForeign:
      break;
  }
  return ebb::platform::system_usable_size(p);
}

}  // extern "C"
