#pragma once
// Slab: 64 KiB of objects of one size, a block from the page allocator
// aligned to 64 KiB, so that the slab of any object is its address with the
// low 16 bits cleared. The header holds the owner's local free list; objects
// never used yet are handed out from a bump pointer (a fresh slab costs no
// free-list building). Debug builds keep a bit per object to catch double
// frees and check free-list links, to catch corrupted lists.

#include <cstddef>
#include <cstdint>

#include "ebbs/memory/page/buddy.h"
#include "runtime/core.h"
#include "runtime/ebb_id.h"
#include "runtime/panic.h"

namespace ebb::mem {

class SlabAllocator;

inline constexpr uint32_t kSlabOrder = 4;
inline constexpr std::size_t kSlabBytes = order_bytes(kSlabOrder);  // 64 KiB
inline constexpr uint32_t kSlabMagic = 0x51ab51ab;

struct FreeObject {
  FreeObject* next;
};

struct alignas(64) Slab {
  // Which list of its owner the slab is on.
  enum class List : uint8_t { kCurrent, kPartial, kFull, kEmpty };

  // ---- identity: written once by format(), read by every core that frees
  // into the slab. Its own cache line, so that it stays shared while the
  // owner's line below changes on every allocation.
  uint32_t magic;
  uint32_t object_size;
  const Slab* self;      // with magic: how a general free recognises a slab
  SlabAllocator* owner;  // the owner core's rep
  CoreId owner_core;
  EbbId allocator;  // the SlabAllocator Ebb it belongs to
  char* objects;    // the first object
  char* end;        // the end of the last whole object

  // ---- the owner core's: everything allocation and a local free touch,
  // in one line (limit and size copy end and object_size, which stay above
  // for the other cores) ----
  alignas(64) FreeObject* free;  // freed objects, ready again
  char* bump;                    // the next object never handed out
  char* limit;                   // = end
  uint32_t size;                 // = object_size
  uint32_t in_use;               // objects handed out and not freed
  List list;
  Slab* prev;
  Slab* next;
#ifndef NDEBUG
  static constexpr std::size_t kMaxObjects = kSlabBytes / 16;
  uint64_t allocated_bits[kMaxObjects / 64];
#endif

  static Slab* of(const void* object) {
    return reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(object) & ~(kSlabBytes - 1));
  }
  static constexpr std::size_t header_bytes() { return (sizeof(Slab) + 63) & ~std::size_t{63}; }
  static constexpr uint32_t capacity(uint32_t object_size) {
    return static_cast<uint32_t>((kSlabBytes - header_bytes()) / object_size);
  }

  // Makes a slab of `object_size` objects in the 64 KiB at `memory`.
  static Slab* format(void* memory, uint32_t object_size, SlabAllocator* owner, CoreId core,
                      EbbId allocator) {
    auto* s = static_cast<Slab*>(memory);
    s->free = nullptr;
    s->objects = static_cast<char*>(memory) + header_bytes();
    s->bump = s->objects;
    s->end = s->objects + std::size_t{capacity(object_size)} * object_size;
    s->limit = s->end;
    s->size = object_size;
    s->in_use = 0;
    s->object_size = object_size;
    s->prev = s->next = nullptr;
    s->owner = owner;
    s->owner_core = core;
    s->allocator = allocator;
    s->list = List::kEmpty;
    s->magic = kSlabMagic;
    s->self = s;
#ifndef NDEBUG
    for (auto& word : s->allocated_bits) word = 0;
#endif
    return s;
  }

  bool exhausted() const { return free == nullptr && bump == limit; }
  // Does the 64 KiB around `object` look like a live slab? Reads its header,
  // so `object` must be memory of the page allocator.
  static bool looks_live(const void* object) {
    const Slab* s = of(object);
    return s->magic == kSlabMagic && s->self == s;
  }
  // An empty slab hands its objects out in address order again, from the
  // bump pointer: the next user walks memory sequentially rather than along
  // the free list's scattered links.
  void start_over() {
    free = nullptr;
    bump = objects;
  }
  // A slab going back to the page allocator stops looking live.
  void retire() { magic = 0; }

  // Takes an object; the slab must not be exhausted.
  void* take() {
    void* object;
    if (free != nullptr) {
      FreeObject* o = free;
      check_link(o->next);
      free = o->next;
      object = o;
    } else {
      object = bump;
      bump += size;
    }
    ++in_use;
    mark(object, true);
    return object;
  }

  // Gives an object back (the owner core only).
  void give(void* object) {
    mark(object, false);
    auto* o = static_cast<FreeObject*>(object);
    o->next = free;
    free = o;
    --in_use;
  }

  // Is `p` where an object of this slab starts?
  bool holds_object(const void* p) const {
    const char* c = static_cast<const char*>(p);
    return magic == kSlabMagic && c >= objects && c < end &&
           static_cast<std::size_t>(c - objects) % object_size == 0;
  }

 private:
#ifndef NDEBUG
  void mark(const void* object, bool allocated) {
    const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(object) - objects) /
                          object_size;
    uint64_t& word = allocated_bits[i / 64];
    const uint64_t bit = uint64_t{1} << (i % 64);
    if (allocated) {
      EBB_CHECK((word & bit) == 0, "slab allocator: object %p handed out twice (corrupted free list)",
                object);
      word |= bit;
    } else {
      EBB_CHECK((word & bit) != 0, "slab allocator: double free of %p (%u-byte objects)", object,
                object_size);
      word &= ~bit;
    }
  }
  void check_link(const FreeObject* next) const {
    EBB_CHECK(next == nullptr || holds_object(next),
              "slab allocator: corrupted free list in the slab at %p (%u-byte objects): link %p",
              static_cast<const void*>(this), object_size, static_cast<const void*>(next));
  }
#else
  void mark(const void*, bool) {}
  void check_link(const FreeObject*) const {}
#endif
};

}  // namespace ebb::mem
