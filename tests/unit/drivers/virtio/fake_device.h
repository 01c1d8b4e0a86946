#pragma once
// A virtio device played by a test: it reads the available ring and the
// descriptors as a device does (through device addresses, never the
// driver's pointers) and writes used entries; a hostile test also makes it
// write what no device should.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "drivers/virtio/split_queue.h"
#include "runtime/fence.h"

namespace ebb::virtio::fake {

// Where the device sees the queue's block: not its virtual address, so a
// mix-up of the two shows.
inline constexpr uint64_t kDeviceBase = 0x4000'0000;

// The spec's vring_need_event, on the device's side.
inline bool crossed(uint16_t event, uint16_t now, uint16_t old) {
  return static_cast<uint16_t>(now - event - 1) < static_cast<uint16_t>(now - old);
}

struct Chain {
  uint16_t head = 0;
  std::vector<Buffer> readable;
  std::vector<Buffer> writable;
};

class FakeDevice {
 public:
  void attach(uint8_t* block, const SplitQueue& q) {
    base_ = kDeviceBase;
    block_ = block;
    size_ = q.size();
    event_idx_ = q.event_idx();
    desc_ = q.desc_address();
    avail_ = q.driver_address();
    used_ = q.device_address();
    last_avail_ = used_idx_ = pending_idx_ = 0;
  }

  // A queue a driver laid out at `block` (which the device sees at
  // `device_base`) without the test seeing its SplitQueue: SplitQueue's
  // layout (descriptors, then the available ring, then the used ring at the
  // end of bytes_needed).
  void attach(uint8_t* block, uint64_t device_base, uint32_t size, bool event_idx) {
    base_ = device_base;
    block_ = block;
    size_ = size;
    event_idx_ = event_idx;
    desc_ = device_base;
    avail_ = device_base + 16u * size;
    used_ = device_base + SplitQueue::bytes_needed(size) - (6u + sizeof(UsedElement) * size);
    last_avail_ = used_idx_ = pending_idx_ = 0;
  }

  // The next chain the driver made available: the avail idx (acquire), the
  // ring entry, then the descriptors as NEXT links them.
  std::optional<Chain> pop() {
    const uint16_t avail_idx = __atomic_load_n(at<uint16_t>(avail_ + 2), __ATOMIC_ACQUIRE);
    if (avail_idx == last_avail_) return std::nullopt;
    Chain chain;
    chain.head = *at<uint16_t>(avail_ + 4 + 2 * (last_avail_ % size_));
    ++last_avail_;
    uint16_t i = chain.head;
    for (uint32_t n = 0; n < size_; ++n) {
      EXPECT_LT(uint32_t{i}, size_);
      const Descriptor d = *at<Descriptor>(desc_ + 16u * i);
      EXPECT_EQ(d.flags & kDescIndirect, 0);
      const Buffer b{d.address, d.length};
      if ((d.flags & kDescWrite) != 0) {
        chain.writable.push_back(b);
      } else {
        EXPECT_TRUE(chain.writable.empty()) << "a readable buffer after a writable one";
        chain.readable.push_back(b);
      }
      if ((d.flags & kDescNext) == 0) break;
      i = d.next;
    }
    return chain;
  }

  // Writes a used entry without publishing it.
  void write_used(uint32_t id, uint32_t length) {
    UsedElement* e = at<UsedElement>(used_ + 4 + 8u * (pending_idx_ % size_));
    *e = UsedElement{id, length};
    ++pending_idx_;
  }
  // Publishes the used entries written; true when the driver wants an interrupt.
  bool publish_used() {
    const uint16_t old = used_idx_;
    used_idx_ = pending_idx_;
    __atomic_store_n(at<uint16_t>(used_ + 2), used_idx_, __ATOMIC_RELEASE);
    ebb::full_fence();
    if (event_idx_) return crossed(used_event(), used_idx_, old);
    return (avail_flags() & kAvailNoInterrupt) == 0;
  }
  bool complete(uint32_t id, uint32_t length) {
    write_used(id, length);
    return publish_used();
  }
  // A hostile device's used idx, whatever the entries below it hold.
  void set_used_idx(uint16_t idx) {
    used_idx_ = pending_idx_ = idx;
    __atomic_store_n(at<uint16_t>(used_ + 2), idx, __ATOMIC_RELEASE);
  }
  uint16_t used_idx() const { return used_idx_; }

  void set_no_notify(bool on) { __atomic_store_n(at<uint16_t>(used_), uint16_t{on ? kUsedNoNotify : uint16_t{0}}, __ATOMIC_RELAXED); }
  void set_avail_event(uint16_t idx) { __atomic_store_n(at<uint16_t>(used_ + 4 + 8u * size_), idx, __ATOMIC_RELAXED); }
  // Whether the driver made chains available that pop() has not taken.
  bool has_available() { return __atomic_load_n(at<uint16_t>(avail_ + 2), __ATOMIC_ACQUIRE) != last_avail_; }
  uint16_t last_avail() const { return last_avail_; }
  uint16_t avail_flags() { return __atomic_load_n(at<uint16_t>(avail_), __ATOMIC_RELAXED); }
  uint16_t used_event() { return __atomic_load_n(at<uint16_t>(avail_ + 4 + 2 * size_), __ATOMIC_RELAXED); }
  Descriptor* descriptor(uint16_t i) { return at<Descriptor>(desc_ + 16u * i); }

 private:
  template <class T>
  T* at(uint64_t device_address) {
    return reinterpret_cast<T*>(block_ + (device_address - base_));
  }

  uint8_t* block_ = nullptr;
  uint64_t base_ = kDeviceBase;
  uint32_t size_ = 0;
  bool event_idx_ = false;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  uint16_t last_avail_ = 0;
  uint16_t used_idx_ = 0;
  uint16_t pending_idx_ = 0;
};

}  // namespace ebb::virtio::fake
