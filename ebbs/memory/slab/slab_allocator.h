#pragma once
// SlabAllocator: objects of one size, as an Ebb with a rep per core.
//
// Each core allocates from slabs it owns (64 KiB blocks of the page
// allocator), with no atomics: a local free list per slab and a bump pointer
// for never-used objects. A free on the owner core goes straight back. A free
// on another core is batched there per owner core and sent, a batch at a time,
// onto the owner's lock-free incoming list (one compare-and-swap per batch);
// the owner takes them back when told (an event) or when it runs out. Slabs
// that fall empty are kept up to a watermark, and the rest go back to the
// page allocator.
//
//   auto slabs = mem::SlabAllocator::Create(48).value();  // a Ref
//   void* p = slabs->allocate();                          // null when memory is exhausted
//   slabs->free(p);                                       // from any core
//
// The general allocator's size classes are SlabAllocators with static ids,
// built on first use (ebbs/memory/size_classes.h).

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ebbs/memory/slab/slab.h"
#include "runtime/multicore_ebb.h"
#include "runtime/root_registry.h"
#include "runtime/timer.h"

namespace ebb::mem {

struct SlabStats {
  uint32_t object_size = 0;
  std::size_t slabs = 0;        // held now (current, partial, full, empty)
  std::size_t empty_slabs = 0;  // held empty (up to the watermark)
  std::size_t objects_in_use = 0;
  uint64_t allocations = 0;
  uint64_t frees = 0;                  // on the owner core, remote ones included
  uint64_t remote_frees_sent = 0;      // objects of other cores freed here
  uint64_t remote_frees_received = 0;  // objects of this core freed elsewhere
  uint64_t slabs_taken = 0;            // from the page allocator
  uint64_t slabs_returned = 0;         // to the page allocator
  uint64_t failures = 0;               // allocations refused (exhaustion)

  SlabStats& operator+=(const SlabStats& other);
};

class SlabAllocator;

class SlabAllocatorRoot : public MulticoreRoot<SlabAllocator> {
 public:
  // Objects of `object_size` bytes (rounded up to 16, at most 32 KiB);
  // each core keeps up to `empty_watermark` empty slabs.
  explicit SlabAllocatorRoot(uint32_t object_size, uint32_t empty_watermark = 4);
  // Built on the first use of a size-class id: its size comes from the table.
  explicit SlabAllocatorRoot(roots::OnFirstUse use);

  uint32_t object_size() const { return object_size_; }
  uint32_t empty_watermark() const { return empty_watermark_; }
  // The sum over every core's rep (read while they run: a snapshot).
  SlabStats stats() const;

 private:
  uint32_t object_size_;
  uint32_t empty_watermark_;
};

class SlabAllocator : public MulticoreEbb<SlabAllocator, SlabAllocatorRoot> {
 public:
  explicit SlabAllocator(SlabAllocatorRoot& root);
  ~SlabAllocator();
  SlabAllocator(const SlabAllocator&) = delete;
  SlabAllocator& operator=(const SlabAllocator&) = delete;

  // An object, 16-byte aligned; null when the page allocator is exhausted.
  void* allocate() {
    Slab* s = current_;
    if (EBB_LIKELY(s != nullptr && !s->exhausted())) {
      bump_counter(allocations_);
      return s->take();
    }
    return allocate_slow();
  }

  // An object of this allocator, allocated on any core.
  void free(void* object) {
    Slab* s = Slab::of(object);
    check_object(s, object);
    if (EBB_LIKELY(s->owner == this)) free_local(s, object);
    else free_remote(s, object);
  }

  uint32_t object_size() const { return object_size_; }
  // Sends this core's batched frees of other cores' objects now.
  void flush_remote_frees();
  // Takes back the objects of this core that other cores freed.
  void reclaim_remote_frees();
  // This core's figures.
  SlabStats stats() const;

  // For a thread that is not a core: the object goes straight to its owner.
  static void FreeOffCore(void* object);

 private:
  // Objects freed here for one other core, waiting to be sent together.
  struct Batch {
    FreeObject* head = nullptr;
    FreeObject* tail = nullptr;
    SlabAllocator* owner = nullptr;
    uint32_t count = 0;
  };
  static constexpr uint32_t kBatchObjects = 64;

  static void bump_counter(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void check_object(const Slab* s, const void* object) const;
  EBB_NOINLINE void* allocate_slow();
  void free_local(Slab* s, void* object) {
    const bool was_exhausted = s->exhausted();
    s->give(object);
    bump_counter(frees_);
    if (EBB_UNLIKELY(s != current_ && (was_exhausted || s->in_use == 0))) slab_changed(s);
  }
  EBB_NOINLINE void free_remote(Slab* s, void* object);
  void send(Batch& batch);
  void push_incoming(FreeObject* head, FreeObject* tail);
  void slab_changed(Slab* s);
  Result<Slab*> take_slab();
  void unlink(Slab* s);
  void link(Slab* s, Slab::List list);
  std::size_t count_slabs() const;

  // ---- this core's ----
  Slab* current_ = nullptr;
  const uint32_t object_size_;
  const uint32_t empty_watermark_;
  const CoreId core_;
  Slab* partial_ = nullptr;  // some objects free
  Slab* full_ = nullptr;     // none free (waiting for frees)
  Slab* empty_ = nullptr;    // all free, kept up to the watermark
  uint32_t empty_count_ = 0;
  Batch* batches_;           // per other core
  uint32_t cores_;
  TimerId flush_timer_ = 0;
  // Counters: written by this core, read by stats() anywhere.
  std::atomic<uint64_t> allocations_{0};
  std::atomic<uint64_t> frees_{0};
  std::atomic<uint64_t> remote_sent_{0};
  std::atomic<uint64_t> remote_received_{0};
  std::atomic<uint64_t> slabs_taken_{0};
  std::atomic<uint64_t> slabs_returned_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> in_use_snapshot_{0};

  // ---- written by other cores ----
  alignas(kCacheLine) std::atomic<FreeObject*> incoming_{nullptr};
  EbbId id_;
};

}  // namespace ebb::mem
