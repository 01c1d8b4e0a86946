#pragma once
// RemoteQueue: the lock-free queue through which any thread hands events to
// one core (many producers, one consumer: the core).
//
// Dmitry Vyukov's intrusive MPSC design: a producer swaps itself in as the tail
// with one atomic exchange and then links its predecessor, so producers never
// wait for each other and each producer's pushes stay in order. Between the
// exchange and the link the queue looks empty to the consumer; might_have_work()
// sees the moved tail, so a core never goes to sleep over such an item.

#include <atomic>

#include "runtime/compiler.h"

namespace ebb::detail {

struct RemoteLink {
  std::atomic<RemoteLink*> next{nullptr};
};

class RemoteQueue {
 public:
  RemoteQueue() : tail_(&stub_), head_(&stub_) {}
  RemoteQueue(const RemoteQueue&) = delete;
  RemoteQueue& operator=(const RemoteQueue&) = delete;

  // Any thread.
  void push(RemoteLink* link) {
    link->next.store(nullptr, std::memory_order_relaxed);
    // seq_cst: the core's sleep check pairs with it (see event_loop.cc).
    RemoteLink* prev = tail_.exchange(link, std::memory_order_seq_cst);
    prev->next.store(link, std::memory_order_release);
  }

  // The consumer only. Null when empty (or when a push is half done).
  RemoteLink* pop() {
    RemoteLink* head = head_;
    RemoteLink* next = head->next.load(std::memory_order_acquire);
    if (head == &stub_) {
      if (next == nullptr) return nullptr;
      head_ = next;
      head = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    if (head != tail_.load(std::memory_order_acquire)) return nullptr;  // push in progress
    push(&stub_);
    next = head->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    return nullptr;
  }

  // The consumer only: true when an item is queued or being pushed.
  bool might_have_work() const {
    return head_->next.load(std::memory_order_acquire) != nullptr ||
           tail_.load(std::memory_order_seq_cst) != head_;
  }

 private:
  alignas(kCacheLine) std::atomic<RemoteLink*> tail_;  // producers
  alignas(kCacheLine) RemoteLink* head_;               // consumer
  RemoteLink stub_;
};

}  // namespace ebb::detail
