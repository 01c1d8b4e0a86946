#include "drivers/virtio/split_queue.h"

#include <atomic>
#include <bit>
#include <cstring>
#include <new>

#include "runtime/fence.h"

namespace ebb::virtio {
namespace {

static_assert(std::endian::native == std::endian::little, "virtio 1.x rings are little-endian");

// 4 by the spec; a cache line keeps the device's writes off the lines the
// driver writes.
constexpr std::size_t kUsedAlignment = 64;

// Fields the device reads or writes while the driver runs: each is read once
// into a local (a device changing it meanwhile cannot make the driver see
// two values) and never torn.
uint16_t load_acquire(const uint16_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
template <class T>
T load_once(const T* p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}
template <class T>
void store_once(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

// Whether the device, having asked to hear of avail idx `event`, must be
// told that the idx moved from `old` to `now` (the spec's vring_need_event;
// the same test tells the device whether to interrupt the driver).
bool crossed(uint16_t event, uint16_t now, uint16_t old) {
  return static_cast<uint16_t>(now - event - 1) < static_cast<uint16_t>(now - old);
}

}  // namespace

std::size_t SplitQueue::bytes_needed(uint32_t size) {
  if (size == 0 || size > kMaxQueueSize || (size & (size - 1)) != 0) return 0;
  const std::size_t avail_end = 16u * size + 2u * (3u + size);
  const std::size_t used_offset = (avail_end + kUsedAlignment - 1) / kUsedAlignment * kUsedAlignment;
  return used_offset + 2u * 3u + sizeof(UsedElement) * size;
}

Status SplitQueue::init(void* memory, uint64_t device_address, uint32_t size, bool event_idx) {
  const std::size_t bytes = bytes_needed(size);
  if (bytes == 0) return Error(Errc::kInvalidArgument, "virtio: a queue size is a power of two up to 32768", size);
  if (memory == nullptr || reinterpret_cast<uintptr_t>(memory) % 16 != 0 || device_address % 16 != 0)
    return Error(Errc::kInvalidArgument, "virtio: a queue's memory must be 16-byte aligned");
  // nothrow_t{}, not std::nothrow: the native image has the operator but
  // not libstdc++'s object.
  slots_.reset(new (std::nothrow_t{}) Slot[size]);
  added_heads_.reset(new (std::nothrow_t{}) uint16_t[size]);
  if (!slots_ || !added_heads_) return Error(Errc::kExhausted, "virtio: no memory for a queue's chains", size);

  std::memset(memory, 0, bytes);
  auto* base = static_cast<uint8_t*>(memory);
  avail_offset_ = 16u * size;
  used_offset_ = bytes - (2u * 3u + sizeof(UsedElement) * size);
  desc_ = reinterpret_cast<Descriptor*>(base);
  avail_ = reinterpret_cast<uint16_t*>(base + avail_offset_);
  used_ = base + used_offset_;
  device_address_ = device_address;
  size_ = size;
  mask_ = static_cast<uint16_t>(size - 1);
  event_idx_ = event_idx;
  interrupts_enabled_ = true;  // flags 0 and used_event 0: interrupt for the first completion

  for (uint32_t i = 0; i < size; ++i) slots_[i].next = static_cast<uint16_t>((i + 1) & mask_);
  free_count_ = size;
  free_head_ = 0;
  next_avail_ = published_ = last_used_ = 0;
  stats_ = QueueStats{};
  return ok_status();
}

Status SplitQueue::add(std::span<const Buffer> readable, std::span<const Buffer> writable, void* cookie) {
  const std::size_t total = readable.size() + writable.size();
  if (total == 0) return Error(Errc::kInvalidArgument, "virtio: a chain needs at least one buffer");
  if (total > free_count_)
    return Error(Errc::kExhausted, "virtio: not enough free descriptors for the chain", static_cast<int64_t>(total));

  // The chain takes the free list's first `total` descriptors, linked as the
  // free list already links them.
  const uint16_t head = free_head_;
  uint16_t i = head;
  uint64_t writable_bytes = 0;
  for (std::size_t k = 0; k < total; ++k) {
    const bool writes = k >= readable.size();
    const Buffer& b = writes ? writable[k - readable.size()] : readable[k];
    const bool more = k + 1 < total;
    if (writes) writable_bytes += b.length;
    desc_[i] = Descriptor{b.address, b.length,
                          static_cast<uint16_t>((writes ? kDescWrite : 0) | (more ? kDescNext : 0)),
                          more ? slots_[i].next : uint16_t{0}};
    if (more) i = slots_[i].next;
  }
  free_head_ = slots_[i].next;
  free_count_ -= static_cast<uint32_t>(total);

  Slot& s = slots_[head];
  s.cookie = cookie;
  s.writable_bytes = writable_bytes;
  s.chain_length = static_cast<uint16_t>(total);
  s.state = ChainState::kAdded;
  // Ordered before the device can look by publish()'s release of the idx.
  avail_[2 + (next_avail_ & mask_)] = head;
  added_heads_[next_avail_ & mask_] = head;
  ++next_avail_;
  ++stats_.chains_added;
  return ok_status();
}

bool SplitQueue::publish() {
  const uint16_t old = published_;
  const uint16_t now = next_avail_;
  if (old == now) return false;
  // Each chain stays with the driver (take() refuses it) until the device
  // can see it; bounded by size: each unpublished chain holds a descriptor.
  for (uint16_t p = old; p != now; ++p) slots_[added_heads_[p & mask_]].state = ChainState::kWithDevice;
  __atomic_store_n(&avail_[1], now, __ATOMIC_RELEASE);
  published_ = now;
  // The idx must be visible before reading whether the device wants to hear
  // of it: the device writes its wish, then reads the idx (store then load
  // on both sides, so a full fence, or each misses the other's write).
  full_fence();
  bool notify;
  if (event_idx_) {
    const uint16_t avail_event = load_once(reinterpret_cast<const uint16_t*>(used_ + 4 + sizeof(UsedElement) * size_));
    notify = crossed(avail_event, now, old);
  } else {
    notify = (load_once(reinterpret_cast<const uint16_t*>(used_)) & kUsedNoNotify) == 0;
  }
  ++(notify ? stats_.notifications : stats_.notifications_suppressed);
  return notify;
}

bool SplitQueue::pending() const {
  const auto waiting = static_cast<uint16_t>(load_acquire(reinterpret_cast<const uint16_t*>(used_ + 2)) - last_used_);
  return waiting != 0 && waiting <= size_;
}

std::optional<Completion> SplitQueue::take() {
  // Acquire: the entries below idx were written before it.
  const uint16_t used_idx = load_acquire(reinterpret_cast<const uint16_t*>(used_ + 2));
  const auto waiting = static_cast<uint16_t>(used_idx - last_used_);
  if (waiting == 0) return std::nullopt;
  if (waiting > size_) {
    ++stats_.bad_used_indexes;
    return std::nullopt;
  }
  const auto* ring = reinterpret_cast<const UsedElement*>(used_ + 4);
  for (uint16_t n = 0; n < waiting; ++n) {
    const UsedElement* e = &ring[last_used_ & mask_];
    const uint32_t id = load_once(&e->id);
    const uint32_t length = load_once(&e->length);
    ++last_used_;
    if (id >= size_ || slots_[id].state != ChainState::kWithDevice) {
      ++stats_.bad_used_entries;
      continue;
    }
    const Slot& s = slots_[id];
    Completion c{s.cookie, length};
    if (length > s.writable_bytes) {
      ++stats_.bad_used_lengths;
      c.written = 0;
    }
    free_chain(static_cast<uint16_t>(id));
    ++stats_.completions;
    after_taking();
    return c;
  }
  after_taking();
  return std::nullopt;
}

void SplitQueue::free_chain(uint16_t head) {
  Slot& h = slots_[head];
  // Walks the driver's links, never the descriptors (the device may have
  // rewritten them); chain_length bounds the walk.
  uint16_t last = head;
  for (uint16_t k = 1; k < h.chain_length; ++k) last = slots_[last].next;
  slots_[last].next = free_head_;
  free_head_ = head;
  free_count_ += h.chain_length;
  h.state = ChainState::kNone;
  h.cookie = nullptr;
}

// With EVENT_IDX the device interrupts when its used idx passes used_event:
// keep it at the next entry while interrupts are wanted, and just behind the
// driver (a whole wrap of the index away) while they are not.
void SplitQueue::after_taking() {
  if (!event_idx_) return;
  uint16_t* used_event = &avail_[2 + size_];
  if (interrupts_enabled_) {
    store_once(used_event, last_used_);
    // Before the next take() reads the used idx: a completion the device
    // wrote before it saw used_event is then found by that take().
    full_fence();
  } else {
    store_once(used_event, static_cast<uint16_t>(last_used_ - 1));
  }
}

void SplitQueue::disable_interrupts() {
  interrupts_enabled_ = false;
  if (event_idx_) store_once(&avail_[2 + size_], static_cast<uint16_t>(last_used_ - 1));
  else store_once(&avail_[0], kAvailNoInterrupt);  // with EVENT_IDX the flags stay 0 (§2.7.7)
}

bool SplitQueue::enable_interrupts() {
  interrupts_enabled_ = true;
  if (event_idx_) store_once(&avail_[2 + size_], last_used_);
  else store_once(&avail_[0], uint16_t{0});
  // The request must be visible before looking for completions: one the
  // device wrote before it saw the request raised no interrupt.
  full_fence();
  return pending();
}

}  // namespace ebb::virtio
