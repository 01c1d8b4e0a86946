#pragma once
// CoreChannel: events from one core to another; one producer (the sending
// core), one consumer (the receiving core).
//
// A ring of cache-line slots, each holding an event and a sequence word that
// only the producer writes: slot p is full when its sequence is p + 1. The
// consumer polls the next slot's sequence and takes the event from the same
// line, so a message costs one cache line moving from one core to the other,
// as a bare ping-pong does. The consumer reports progress (`consumed_`) once
// per batch, on a line the producer reads only when the ring looks full.
// A full ring is not an error: the sender keeps its events in order in an
// overflow queue of its own (see event_loop.cc).

#include <atomic>
#include <cstdint>

#include "runtime/compiler.h"
#include "runtime/spawn.h"

namespace ebb::detail {

class CoreChannel {
 public:
  static constexpr uint64_t kSlots = 256;

  CoreChannel() = default;
  CoreChannel(const CoreChannel&) = delete;
  CoreChannel& operator=(const CoreChannel&) = delete;

  // ---- producer ----
  // Moves `event` into the ring; false (event untouched) when it is full.
  // The sequence store is seq_cst: the receiver's check before sleeping pairs
  // with it (see event_loop.cc).
  bool try_push(Event& event) {
    if (EBB_UNLIKELY(tail_ - known_consumed_ >= kSlots)) {
      known_consumed_ = consumed_.load(std::memory_order_acquire);
      if (tail_ - known_consumed_ >= kSlots) return false;
    }
    Slot& slot = slots_[tail_ & (kSlots - 1)];
    slot.event = std::move(event);
    slot.sequence.store(tail_ + 1, std::memory_order_seq_cst);
    ++tail_;
    return true;
  }

  // ---- consumer ----
  bool has_item() const {
    return slots_[head_ & (kSlots - 1)].sequence.load(std::memory_order_seq_cst) == head_ + 1;
  }
  // Only after has_item().
  Event pop() {
    Slot& slot = slots_[head_ & (kSlots - 1)];
    ++head_;
    return std::move(slot.event);
  }
  // Lets the producer reuse the slots taken so far (once per batch).
  void publish_progress() {
    if (consumed_.load(std::memory_order_relaxed) != head_)
      consumed_.store(head_, std::memory_order_release);
  }

 private:
  struct alignas(kCacheLine) Slot {
    std::atomic<uint64_t> sequence{0};
    Event event;
  };
  static_assert(sizeof(Slot) == kCacheLine, "an event and its sequence fill one cache line");

  Slot slots_[kSlots];
  alignas(kCacheLine) uint64_t tail_ = 0;  // producer: next position to fill
  uint64_t known_consumed_ = 0;            // producer: last consumed_ it read
  alignas(kCacheLine) uint64_t head_ = 0;  // consumer: next position to take
  alignas(kCacheLine) std::atomic<uint64_t> consumed_{0};
};

}  // namespace ebb::detail
