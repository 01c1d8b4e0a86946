#pragma once
// RingQueue: a core's own FIFO (its local events). Single-threaded; a ring that
// doubles when full, so a spawn is a few stores and never a lock.

#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

#include "runtime/panic.h"
#include "runtime/platform_heap_scope.h"

namespace ebb::detail {

template <class T>
class RingQueue {
 public:
  RingQueue() = default;
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;
  ~RingQueue() {
    while (!empty()) pop();
    std::free(items_);
  }

  bool empty() const { return head_ == tail_; }
  std::size_t size() const { return tail_ - head_; }
  // Items ever pushed / popped: positions in the queue's history.
  uint64_t pushed() const { return tail_; }
  uint64_t popped() const { return head_; }

  void push(T&& item) {
    if (EBB_UNLIKELY(tail_ - head_ == capacity_)) grow();
    new (&items_[tail_ & (capacity_ - 1)]) T(std::move(item));
    ++tail_;
  }

  T& front() { return items_[head_ & (capacity_ - 1)]; }
  // Removes the front item (typically after moving from it).
  void drop_front() {
    items_[head_ & (capacity_ - 1)].~T();
    ++head_;
  }

  T pop() {
    T& slot = items_[head_ & (capacity_ - 1)];
    T item(std::move(slot));
    slot.~T();
    ++head_;
    return item;
  }

 private:
  // Keeps head_ and tail_: each item moves to its position under the new mask.
  EBB_NOINLINE void grow() {
    PlatformHeapScope core_lifetime;  // the queue lives as long as its core
    const std::size_t capacity = capacity_ == 0 ? 256 : capacity_ * 2;
    T* items = static_cast<T*>(std::malloc(capacity * sizeof(T)));
    EBB_CHECK(items != nullptr, "event queue: out of memory growing to %zu events", capacity);
    for (uint64_t i = head_; i != tail_; ++i) {
      T& old = items_[i & (capacity_ - 1)];
      new (&items[i & (capacity - 1)]) T(std::move(old));
      old.~T();
    }
    std::free(items_);
    items_ = items;
    capacity_ = capacity;
  }

  T* items_ = nullptr;
  std::size_t capacity_ = 0;  // a power of two
  uint64_t head_ = 0;         // grows without wrapping; masked on access
  uint64_t tail_ = 0;
};

}  // namespace ebb::detail
