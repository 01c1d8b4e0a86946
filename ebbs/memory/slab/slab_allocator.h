#pragma once
// SlabAllocator: objects of one size, as an Ebb with a rep per core.
//
// Each core allocates from slabs it owns (64 KiB blocks of the page
// allocator), with no atomics: a local free list per slab and a bump pointer
// for never-used objects. A free on the owner core goes straight back. A free
// on another core is written into a batch for the owner, one page of 2-byte
// entries (which of 16 slabs, where in it): the freeing core never writes
// into the object, so its cache line stays where it was. A full batch (or
// any, after at most 1 ms) travels to the owner as an event, which gives the
// objects back there; the event does not wake a sleeping owner (it allocates
// nothing while asleep). Slabs that fall empty start over from their bump
// pointer and stay with the core while it keeps using them: a trim every
// 10 ms returns those that stayed empty through the whole period, down to a
// watermark (a core cycling through many slabs keeps them; an idle one gives
// them back). When the page allocator runs out, the core's empty slabs of
// every size go back at once, and the allocation is tried again.
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
  std::size_t objects_in_use = 0;
  uint64_t allocations = 0;
  uint64_t frees = 0;                  // on the owner core, remote ones included
  uint64_t remote_frees_sent = 0;      // objects of other cores freed here (once sent)
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

class alignas(kCacheLine) SlabAllocator : public MulticoreEbb<SlabAllocator, SlabAllocatorRoot> {
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

  // A free for another core: into its batch. Inline while the object is
  // from the slab the last remote free saw and its batch has room: then
  // the entry goes where the cursor points, with no look at the batch.
  void free_remote(Slab* s, void* object) {
    if (EBB_LIKELY(s == cursor_slab_ && cursor_next_ != cursor_end_)) {
      *cursor_next_++ = static_cast<uint16_t>(
          cursor_tag_ | ((reinterpret_cast<uintptr_t>(object) - reinterpret_cast<uintptr_t>(s)) >> 4));
      return;
    }
    free_remote_slow(s, object);
  }

  uint32_t object_size() const { return object_size_; }
  // Returns this rep's empty slabs beyond `keep` to the page allocator now;
  // how many went.
  std::size_t release_empty_slabs(uint32_t keep);
  // Sends this core's batched frees of other cores' objects now.
  void flush_remote_frees();
  // This core's figures.
  SlabStats stats() const;

  // For a thread that is not a core: the object goes straight to its owner.
  static void FreeOffCore(void* object);

 private:
  // Objects freed here for one other core, sent together: one page. Each
  // object takes 2 bytes: which of the batch's (up to 16) slabs, and where
  // in it in 16-byte units. Moving a cache line between cores is the cost
  // that matters here, and one line carries 32 frees to the owner.
  struct RemoteFrees {
    static constexpr uint32_t kSlabs = 16;
    uint32_t count;
    uint32_t slab_count;
    Slab* slabs[kSlabs];
    uint16_t entries[(kPageBytes - 8 - kSlabs * sizeof(Slab*)) / sizeof(uint16_t)];

    void* object(uint32_t i) const {
      const uint16_t e = entries[i];
      return reinterpret_cast<char*>(slabs[e >> 12]) + ((e & 0xfff) << 4);
    }
    static uint16_t entry(uint32_t slot, const Slab* s, const void* object) {
      const auto offset = static_cast<uint32_t>(static_cast<const char*>(object) -
                                                reinterpret_cast<const char*>(s)) >> 4;
      return static_cast<uint16_t>((slot << 12) | offset);
    }
  };
  static constexpr uint32_t kBatchObjects = sizeof(RemoteFrees::entries) / sizeof(uint16_t);
  static_assert(sizeof(RemoteFrees) == kPageBytes);
  static_assert(kSlabBytes / 16 <= 0x1000, "a slab offset in 16-byte units fits 12 bits");

  static void bump_counter(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Debug builds: is it an object of a slab of this allocator's size?
  void check_object([[maybe_unused]] const Slab* s, [[maybe_unused]] const void* object) const {
    EBB_DCHECK(s->holds_object(object),
               "slab allocator: free of %p, which is not an object of a slab (a foreign pointer?)",
               object);
    EBB_DCHECK(s->object_size == object_size_,
               "slab allocator: %p is a %u-byte object, freed to the %u-byte allocator", object,
               s->object_size, object_size_);
  }
  EBB_NOINLINE void* allocate_slow();
  void free_local(Slab* s, void* object) {
    give_back(s, object);
    bump_counter(frees_);
  }
  // free_local without the count (callers that free many count once).
  void give_back(Slab* s, void* object) {
    const bool was_exhausted = s->exhausted();
    s->give(object);
    if (EBB_UNLIKELY(s != current_ && (was_exhausted || s->in_use == 0))) slab_changed(s);
  }
  static void add_counter(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  EBB_NOINLINE void free_remote_slow(Slab* s, void* object);
  void send(CoreId owner);
  // Writes the cursor's count back into its batch and drops the cursor.
  void settle_cursor();
  // On the owner: gives back what another core freed, then frees the page.
  void receive(RemoteFrees* batch);
  void receive_one(void* object);
  void slab_changed(Slab* s);
  // Runs `work` on this core's rep after `delay` (unless the Ebb is gone
  // by then); `slot` holds the timer meanwhile and is cleared first.
  void start_timer(TimerId SlabAllocator::*slot, std::chrono::microseconds delay,
                   void (SlabAllocator::*work)());
  void arm_trim();
  void trim();
  Result<Slab*> take_slab();
  void unlink(Slab* s);
  void link(Slab* s, Slab::List list);
  std::size_t count_slabs() const;

  // ---- this core's ----
  Slab* current_ = nullptr;
  // The remote-free cursor: the slab and batch of the last remote free, and
  // where its next entry goes (the batch's count is behind while it is set).
  Slab* cursor_slab_ = nullptr;
  uint16_t* cursor_next_ = nullptr;
  uint16_t* cursor_end_ = nullptr;
  RemoteFrees* cursor_batch_ = nullptr;
  uint16_t cursor_tag_ = 0;
  const uint32_t object_size_;
  const uint32_t empty_watermark_;
  const CoreId core_;
  Slab* partial_ = nullptr;  // some objects free
  Slab* full_ = nullptr;     // none free (waiting for frees)
  Slab* empty_ = nullptr;    // all free
  uint32_t empty_count_ = 0;
  uint32_t empty_low_ = 0;   // the fewest empty slabs held since the trim timer was armed
  TimerId trim_timer_ = 0;
  RemoteFrees** batches_;    // per other core (null: none waiting); own cache lines
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
  EbbId id_;
};

}  // namespace ebb::mem
