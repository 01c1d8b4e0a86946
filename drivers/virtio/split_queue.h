#pragma once
// The driver's side of a virtio 1.x split virtqueue (OASIS virtio v1.2
// §2.7): a descriptor table, the available ring the driver writes and the
// used ring the device writes, laid out in memory the caller provides and
// the device reads and writes by DMA at the same time.
//
//   SplitQueue q;
//   q.init(block, block_device_address, 256, /*event_idx=*/true);  // bytes_needed(256) of it
//   transport: queue_desc = q.desc_address(), queue_driver = q.driver_address(), ...
//   q.add(readable, writable, cookie);  if (q.publish()) notify the device;
//   while (std::optional<Completion> c = q.take()) use c->cookie, c->written;
//
// The device is untrusted: the driver keeps its own copy of every chain (the
// links, the head's cookie and writable bytes) and never reads back what it
// wrote to shared memory, so a device rewriting descriptors changes nothing,
// and a used entry it makes up is counted and skipped (stats()).
//
// Not thread-safe: one owner (a core) adds, publishes and takes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "runtime/result.h"

namespace ebb::virtio {

// Descriptor flags.
inline constexpr uint16_t kDescNext = 1;      // `next` continues the chain
inline constexpr uint16_t kDescWrite = 2;     // the device writes the buffer
inline constexpr uint16_t kDescIndirect = 4;  // the buffer is a table of descriptors (not used here)
// The available ring's flag: the driver needs no interrupt (without EVENT_IDX).
inline constexpr uint16_t kAvailNoInterrupt = 1;
// The used ring's flag: the device needs no notification (without EVENT_IDX).
inline constexpr uint16_t kUsedNoNotify = 1;

inline constexpr uint32_t kMaxQueueSize = 32768;

// The layout the device sees (little-endian, as virtio 1.x is).
struct Descriptor {
  uint64_t address;  // device-visible
  uint32_t length;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);

struct UsedElement {
  uint32_t id;      // the head of the chain the device finished
  uint32_t length;  // bytes it wrote into the chain's writable buffers
};
static_assert(sizeof(UsedElement) == 8);

// A buffer for the device: its device-visible address and length.
struct Buffer {
  uint64_t address = 0;
  uint32_t length = 0;
};

// A chain the device has finished with.
struct Completion {
  void* cookie = nullptr;  // what add() was given
  uint32_t written = 0;    // bytes the device wrote (0 when it claimed more than fits)
};

struct QueueStats {
  uint64_t chains_added = 0;
  uint64_t notifications = 0;             // publishes that asked for a notification
  uint64_t notifications_suppressed = 0;  // publishes the device said it did not need
  uint64_t completions = 0;
  // Used entries naming no chain the device holds (an id out of range, a
  // descriptor inside a chain, a free one, one not yet published, a chain
  // already completed): skipped.
  uint64_t bad_used_entries = 0;
  // Completions claiming more bytes than the chain's writable buffers hold:
  // the chain comes back (its descriptors are free again) with written 0.
  uint64_t bad_used_lengths = 0;
  // Looks at a used idx more than the queue size ahead of the driver's (or
  // behind it): nothing is taken until the device writes a sane one.
  uint64_t bad_used_indexes = 0;
};

class SplitQueue {
 public:
  // The memory a queue of `size` entries needs (the descriptor table, the
  // available ring, then the used ring on its own cache line), or 0 when
  // `size` is not a power of two in 1..32768.
  static std::size_t bytes_needed(uint32_t size);

  SplitQueue() = default;
  SplitQueue(const SplitQueue&) = delete;
  SplitQueue& operator=(const SplitQueue&) = delete;

  // Lays the queue out in `memory` (bytes_needed(size) of it, 16-byte
  // aligned, which the device sees at `device_address`) and zeroes it.
  // `event_idx`: VIRTIO_F_EVENT_IDX was negotiated. Errors: a bad size, a
  // misaligned block, no memory for the driver's own copy of the chains.
  Status init(void* memory, uint64_t device_address, uint32_t size, bool event_idx);

  uint32_t size() const { return size_; }
  bool event_idx() const { return event_idx_; }
  uint32_t free_descriptors() const { return free_count_; }

  // What the transport tells the device (queue_desc, queue_driver, queue_device).
  uint64_t desc_address() const { return device_address_; }
  uint64_t driver_address() const { return device_address_ + avail_offset_; }
  uint64_t device_address() const { return device_address_ + used_offset_; }

  // Adds a chain: `readable` buffers (the device reads) then `writable` ones
  // (the device writes). The device sees it after publish(). Errors: no
  // buffers (kInvalidArgument), fewer free descriptors than buffers
  // (kExhausted; nothing is added).
  Status add(std::span<const Buffer> readable, std::span<const Buffer> writable, void* cookie);

  // Makes the chains added since the last publish visible to the device;
  // true when the device asked to be notified of them.
  bool publish();

  // The next chain the device has finished with, if any. Each call reads at
  // most size() used entries, skipping (and counting) bad ones.
  std::optional<Completion> take();

  // Whether the device has written used entries take() has not read yet.
  bool pending() const;

  // Asks the device not to interrupt (a hint: it may still). A caller that
  // polls leaves them off.
  void disable_interrupts();
  // Asks the device to interrupt for the next completion; true when
  // completions already wait (written before the device saw the request, so
  // no interrupt may come for them): take() them, then enable again.
  bool enable_interrupts();

  const QueueStats& stats() const { return stats_; }

 private:
  enum class ChainState : uint8_t { kNone, kAdded, kWithDevice };
  // The driver's own record of each descriptor, out of the device's reach.
  struct Slot {
    void* cookie = nullptr;        // heads only
    uint64_t writable_bytes = 0;   // heads only
    uint16_t next = 0;             // the free list's link, then the chain's
    uint16_t chain_length = 0;     // heads only
    ChainState state = ChainState::kNone;  // heads only
  };

  void free_chain(uint16_t head);
  void after_taking();

  Descriptor* desc_ = nullptr;
  uint16_t* avail_ = nullptr;  // flags, idx, ring[size], used_event
  uint8_t* used_ = nullptr;    // flags, idx, UsedElement ring[size], avail_event
  uint64_t device_address_ = 0;
  std::size_t avail_offset_ = 0;
  std::size_t used_offset_ = 0;
  uint32_t size_ = 0;
  uint16_t mask_ = 0;
  bool event_idx_ = false;
  bool interrupts_enabled_ = true;

  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<uint16_t[]> added_heads_;  // heads by avail position, until published
  uint32_t free_count_ = 0;
  uint16_t free_head_ = 0;
  uint16_t next_avail_ = 0;  // the avail idx once the next chain is added
  uint16_t published_ = 0;   // the avail idx the device has seen
  uint16_t last_used_ = 0;   // the used idx up to which entries were read
  QueueStats stats_;
};

}  // namespace ebb::virtio
