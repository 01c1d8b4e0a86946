#pragma once
// RemoteQueue: the lock-free queue through which any thread hands events to
// one core (many producers, one consumer: the core).
//
// Producers push onto an atomic LIFO list (one compare-and-swap on `head_`);
// the core takes the whole list with one exchange and reverses it into FIFO
// order. So a message costs its own cache line plus the head line moving
// between the two cores, and nothing else: the consumer never writes a line a
// producer must read back (a stub node or a shared tail, as in a Vyukov
// queue, would add transfers to every message). Each producer's events stay
// in the order it pushed them.

#include <atomic>

#include "runtime/compiler.h"

namespace ebb::detail {

struct RemoteLink {
  RemoteLink* next = nullptr;  // written by the producer before its push
};

class RemoteQueue {
 public:
  RemoteQueue() = default;
  RemoteQueue(const RemoteQueue&) = delete;
  RemoteQueue& operator=(const RemoteQueue&) = delete;

  // Any thread. seq_cst: the core's check before it sleeps pairs with it
  // (see event_loop.cc).
  void push(RemoteLink* link) {
    RemoteLink* old = head_.load(std::memory_order_relaxed);
    do {
      link->next = old;
    } while (!head_.compare_exchange_weak(old, link, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
  }

  // The consumer only. Null when empty.
  RemoteLink* pop() {
    if (batch_ == nullptr) {
      if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
      RemoteLink* taken = head_.exchange(nullptr, std::memory_order_acquire);
      RemoteLink* fifo = nullptr;
      while (taken != nullptr) {  // newest first -> oldest first
        RemoteLink* next = taken->next;
        taken->next = fifo;
        fifo = taken;
        taken = next;
      }
      batch_ = fifo;
    }
    RemoteLink* item = batch_;
    batch_ = item->next;
    return item;
  }

  // The consumer only: true when an item is queued.
  bool might_have_work() const {
    return batch_ != nullptr || head_.load(std::memory_order_seq_cst) != nullptr;
  }

 private:
  alignas(kCacheLine) std::atomic<RemoteLink*> head_{nullptr};  // producers
  alignas(kCacheLine) RemoteLink* batch_ = nullptr;              // consumer
};

}  // namespace ebb::detail
