#include "ebbs/memory/slab/slab_allocator.h"

#include <chrono>

#include "ebbs/memory/page/page_allocator.h"
#include "ebbs/memory/size_classes.h"
#include "runtime/spawn.h"

namespace ebb::mem {
namespace {

// Frees batched for another core wait at most this long.
constexpr std::chrono::microseconds kFlushDelay{1000};
// Empty slabs above the watermark that stayed empty this long go back.
constexpr std::chrono::milliseconds kTrimPeriod{10};

uint32_t checked_size(uint32_t object_size) {
  const uint32_t size = (object_size < 16 ? 16 : object_size + 15) & ~15u;
  EBB_CHECK(Slab::capacity(size) >= 2,
            "SlabAllocator: %u-byte objects do not fit a %zu-byte slab twice", object_size,
            kSlabBytes);
  return size;
}

uint32_t class_size_of(roots::OnFirstUse use) {
  EBB_CHECK(is_class_id(use.id),
            "SlabAllocator: static id %u is not a size class; make the Ebb with its size", use.id);
  return class_size(use.id - ids::kSizeClassIds);
}

// The page allocator must outlive every slab allocator (teardown runs newest
// first): use it first, so that it is the older of the two.
void ensure_page_allocator() {
  if (on_core()) (void)kPageAllocator.try_get();
}

}  // namespace

SlabStats& SlabStats::operator+=(const SlabStats& o) {
  slabs += o.slabs;
  objects_in_use += o.objects_in_use;
  allocations += o.allocations;
  frees += o.frees;
  remote_frees_sent += o.remote_frees_sent;
  remote_frees_received += o.remote_frees_received;
  slabs_taken += o.slabs_taken;
  slabs_returned += o.slabs_returned;
  failures += o.failures;
  return *this;
}

SlabAllocatorRoot::SlabAllocatorRoot(uint32_t object_size, uint32_t empty_watermark)
    : object_size_(checked_size(object_size)), empty_watermark_(empty_watermark) {
  ensure_page_allocator();
}

SlabAllocatorRoot::SlabAllocatorRoot(roots::OnFirstUse use)
    : SlabAllocatorRoot(class_size_of(use)) {}

SlabStats SlabAllocatorRoot::stats() const {
  SlabStats total;
  total.object_size = object_size_;
  for_each_rep([&total](CoreId, SlabAllocator& rep) { total += rep.stats(); });
  return total;
}

SlabAllocator::SlabAllocator(SlabAllocatorRoot& root)
    : object_size_(root.object_size()),
      empty_watermark_(root.empty_watermark()),
      core_(this_core()),
      batches_(new (std::align_val_t{kCacheLine}) RemoteFrees*[(root.cores() + 7) / 8 * 8]()),
      cores_(root.cores()),
      id_(root.id()) {}

SlabAllocator::~SlabAllocator() {
  // Empty slabs and batches go back. A slab with objects still out stays as
  // it is, so that they stay valid (the runtime's own structures may live
  // there under a malloc replacement) until the page allocator goes. If it
  // is gone already, so is all of its memory.
  Result<PageAllocator*> pages = kPageAllocator.try_get();
  if (pages) {
    for (uint32_t core = 0; core < cores_; ++core)
      if (batches_[core] != nullptr) (*pages)->free(batches_[core]);
  }
  ::operator delete[](batches_, std::align_val_t{kCacheLine});
  if (!pages) return;
  for (Slab* list : {current_, partial_, full_, empty_}) {
    while (list != nullptr) {
      Slab* next = list == current_ ? nullptr : list->next;
      if (list->in_use == 0) {
        list->retire();
        (*pages)->free(list);
      }
      list = next;
    }
  }
}

void SlabAllocator::unlink(Slab* s) {
  Slab** head = nullptr;
  switch (s->list) {
    case Slab::List::kCurrent: return;
    case Slab::List::kPartial: head = &partial_; break;
    case Slab::List::kFull: head = &full_; break;
    case Slab::List::kEmpty:
      head = &empty_;
      --empty_count_;
      if (empty_count_ < empty_low_) empty_low_ = empty_count_;
      break;
  }
  if (s->prev != nullptr) s->prev->next = s->next;
  else *head = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
  s->prev = s->next = nullptr;
}

void SlabAllocator::link(Slab* s, Slab::List list) {
  s->list = list;
  Slab** head = nullptr;
  switch (list) {
    case Slab::List::kCurrent: return;
    case Slab::List::kPartial: head = &partial_; break;
    case Slab::List::kFull: head = &full_; break;
    case Slab::List::kEmpty:
      head = &empty_;
      ++empty_count_;
      break;
  }
  s->prev = nullptr;
  s->next = *head;
  if (s->next != nullptr) s->next->prev = s;
  *head = s;
}

Result<Slab*> SlabAllocator::take_slab() {
  Result<void*> block = kPageAllocator->allocate(kSlabOrder, BlockTag::kSlab);
  if (!block) return block.error();
  bump_counter(slabs_taken_);
  return Slab::format(*block, object_size_, this, core_, id_);
}

void* SlabAllocator::allocate_slow() {
  if (current_ == nullptr || current_->exhausted()) {
    Slab* next = partial_ != nullptr ? partial_ : empty_;
    if (next != nullptr) {
      unlink(next);
    } else {
      Result<Slab*> fresh = take_slab();
      if (!fresh) {
        bump_counter(failures_);
        return nullptr;
      }
      next = *fresh;
    }
    if (current_ != nullptr) link(current_, Slab::List::kFull);
    current_ = next;
    current_->list = Slab::List::kCurrent;
  }
  bump_counter(allocations_);
  return current_->take();
}

// A slab other than the current one: emptied, or no longer exhausted.
void SlabAllocator::slab_changed(Slab* s) {
  unlink(s);
  if (s->in_use != 0) {
    link(s, Slab::List::kPartial);
  } else {
    s->start_over();
    link(s, Slab::List::kEmpty);
    if (empty_count_ > empty_watermark_ && trim_timer_ == 0) arm_trim();
  }
}

void SlabAllocator::start_timer(TimerId SlabAllocator::*slot, std::chrono::microseconds delay,
                                void (SlabAllocator::*work)()) {
  const EbbId id = id_;
  Result<TimerId> timer = add_timer(delay, [id, slot, work] {
    Result<SlabAllocator*> self = Ref<SlabAllocator>(id).try_get();
    if (!self) return;  // the Ebb is gone
    (*self)->*slot = 0;
    ((*self)->*work)();
  });
  this->*slot = timer ? *timer : 0;
}

void SlabAllocator::arm_trim() {
  empty_low_ = empty_count_;
  start_timer(&SlabAllocator::trim_timer_, kTrimPeriod, &SlabAllocator::trim);
}

// Slabs that stayed empty through the whole period were not needed: those
// above the watermark go. A core still cycling through its slabs took them
// all at some point (empty_low_ fell) and keeps them.
void SlabAllocator::trim() {
  const uint32_t idle = empty_low_;  // never above empty_count_ (unlink lowers it)
  if (idle > empty_watermark_) release_empty_slabs(empty_count_ - (idle - empty_watermark_));
  if (empty_count_ > empty_watermark_) arm_trim();
}

std::size_t SlabAllocator::release_empty_slabs(uint32_t keep) {
  std::size_t released = 0;
  while (empty_count_ > keep) {
    Slab* s = empty_;
    unlink(s);
    s->retire();
    kPageAllocator->free(s);
    bump_counter(slabs_returned_);
    ++released;
  }
  return released;
}

void SlabAllocator::free_remote_slow(Slab* s, void* object) {
  settle_cursor();
  const CoreId owner = s->owner_core;
  RemoteFrees*& batch = batches_[owner];
  if (batch == nullptr) {
    Result<void*> page = kPageAllocator->allocate(0);
    if (!page) {  // no page for a batch: this one object goes alone
      const EbbId id = id_;
      (void)spawn_remote(owner, [id, object] {
        if (Result<SlabAllocator*> self = Ref<SlabAllocator>(id).try_get()) (*self)->receive_one(object);
      });
      bump_counter(remote_sent_);
      return;
    }
    batch = static_cast<RemoteFrees*>(*page);
    batch->count = 0;
    batch->slab_count = 0;
  }
  // Which of the batch's slabs; frees come in runs from one slab, so look
  // from the newest. A 17th slab sends the batch and starts another.
  uint32_t slot = batch->slab_count;
  while (slot > 0 && batch->slabs[slot - 1] != s) --slot;
  if (slot == 0) {
    if (batch->slab_count == RemoteFrees::kSlabs) {
      send(owner);
      free_remote_slow(s, object);
      return;
    }
    slot = ++batch->slab_count;
    batch->slabs[slot - 1] = s;
  }
  batch->entries[batch->count++] = RemoteFrees::entry(slot - 1, s, object);
  if (batch->count == kBatchObjects) {
    send(owner);
    return;
  }
  // Further frees from this slab go straight in, through the cursor.
  cursor_slab_ = s;
  cursor_batch_ = batch;
  cursor_tag_ = static_cast<uint16_t>((slot - 1) << 12);
  cursor_next_ = &batch->entries[batch->count];
  cursor_end_ = &batch->entries[kBatchObjects - 1];  // the last one goes the slow way, and sends
  if (flush_timer_ == 0)
    start_timer(&SlabAllocator::flush_timer_, kFlushDelay, &SlabAllocator::flush_remote_frees);
}

void SlabAllocator::settle_cursor() {
  if (cursor_batch_ == nullptr) return;
  cursor_batch_->count = static_cast<uint32_t>(cursor_next_ - cursor_batch_->entries);
  cursor_batch_ = nullptr;
  cursor_slab_ = nullptr;
  cursor_next_ = cursor_end_ = nullptr;
}

void SlabAllocator::send(CoreId owner) {
  if (cursor_batch_ == batches_[owner]) settle_cursor();
  RemoteFrees* batch = batches_[owner];
  batches_[owner] = nullptr;
  add_counter(remote_sent_, batch->count);
  const EbbId id = id_;
  // Lazily: the owner needs these objects only to allocate, which it does
  // only when awake; a sleeping owner is not woken for them.
  Status sent = spawn_remote_lazy(owner, [id, batch] {
    if (Result<SlabAllocator*> self = Ref<SlabAllocator>(id).try_get()) {
      (*self)->receive(batch);
    } else if (Result<PageAllocator*> pages = kPageAllocator.try_get()) {
      (*pages)->free(batch);  // the Ebb, and its objects, are gone
    }
  });
  EBB_CHECK(sent.ok(), "slab allocator: could not send frees to core %u", owner);
}

void SlabAllocator::receive(RemoteFrees* batch) {
  const uint32_t count = batch->count;
  for (uint32_t i = 0; i < count; ++i) {
    void* object = batch->object(i);
    Slab* s = Slab::of(object);
    check_object(s, object);
    EBB_DCHECK(s->owner == this, "slab allocator: %p came home to the wrong core", object);
    give_back(s, object);
  }
  add_counter(remote_received_, count);
  add_counter(frees_, count);
  kPageAllocator->free(batch);
}

void SlabAllocator::receive_one(void* object) {
  Slab* s = Slab::of(object);
  check_object(s, object);
  EBB_DCHECK(s->owner == this, "slab allocator: %p came home to the wrong core", object);
  bump_counter(remote_received_);
  free_local(s, object);
}

void SlabAllocator::flush_remote_frees() {
  for (uint32_t core = 0; core < cores_; ++core)
    if (batches_[core] != nullptr) send(core);
}

SlabStats SlabAllocator::stats() const {
  constexpr auto relaxed = std::memory_order_relaxed;
  SlabStats s;
  s.object_size = object_size_;
  s.allocations = allocations_.load(relaxed);
  s.frees = frees_.load(relaxed);
  s.remote_frees_sent = remote_sent_.load(relaxed);
  s.remote_frees_received = remote_received_.load(relaxed);
  s.slabs_taken = slabs_taken_.load(relaxed);
  s.slabs_returned = slabs_returned_.load(relaxed);
  s.failures = failures_.load(relaxed);
  s.slabs = s.slabs_taken - s.slabs_returned;
  s.objects_in_use = s.allocations >= s.frees ? s.allocations - s.frees : 0;
  return s;
}

void SlabAllocator::FreeOffCore(void* object) {
  Slab* s = Slab::of(object);
  EBB_DCHECK(s->holds_object(object), "slab allocator: free of %p, not an object of a slab",
             object);
  const EbbId id = s->allocator;
  (void)spawn_remote(s->owner_core, [id, object] {
    if (Result<SlabAllocator*> self = Ref<SlabAllocator>(id).try_get()) (*self)->receive_one(object);
  });
}

}  // namespace ebb::mem
