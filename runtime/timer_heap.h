#pragma once
// TimerHeap: one core's timers. An indexed binary min-heap over stable slots:
// add and cancel are O(log n), and memory follows the number of live timers
// (a cancelled timer leaves the heap at once, unlike lazy deletion).

#include <cstdint>
#include <deque>
#include <vector>

#include "runtime/function.h"

namespace ebb::detail {

class TimerHeap {
 public:
  static constexpr uint64_t kNever = UINT64_MAX;

  // Returns an id: never 0 and below 2^48 (generation:16, slot:32), so that a
  // caller can tag the top bits. A slot is reused only with a new generation.
  uint64_t add(uint64_t deadline_ns, uint64_t period_ns, Function<void()> fn);
  bool cancel(uint64_t id);

  bool empty() const { return heap_.empty(); }
  uint64_t next_deadline() const { return heap_.empty() ? kNever : slots_[heap_[0]].deadline; }
  std::size_t live() const { return live_; }

  // Takes every timer due at `now_ns` off the heap (periodic ones go back for
  // their next period) and hands each id to queue(id); the caller runs it
  // later with run(id), so a callback may block and cancel can still stop it.
  template <class Queue>
  void expire(uint64_t now_ns, Queue&& queue) {
    while (!heap_.empty() && slots_[heap_[0]].deadline <= now_ns) {
      const uint32_t index = heap_[0];
      Slot& s = slots_[index];
      remove_from_heap(index);
      if (s.period_ns != 0) {
        s.deadline += s.period_ns;
        if (s.deadline <= now_ns) s.deadline = now_ns + s.period_ns;
        insert_into_heap(index);
      }
      if (s.queued || s.running) continue;  // a periodic run is still pending
      s.queued = true;
      queue(id_of(index));
    }
  }

  // Runs a timer handed out by expire(), unless it was cancelled meanwhile.
  // True when the callback ran.
  bool run(uint64_t id);

 private:
  static constexpr uint32_t kNotInHeap = UINT32_MAX;
  struct Slot {
    uint64_t deadline = 0;
    uint64_t period_ns = 0;
    uint64_t sequence = 0;  // orders timers with equal deadlines by age
    Function<void()> fn;
    uint32_t heap_index = kNotInHeap;
    uint16_t generation = 1;
    bool live = false;
    bool queued = false;   // handed to queue(), run() still to come
    bool running = false;  // inside its callback (which may be parked)
    bool cancelled = false;
  };

  uint64_t id_of(uint32_t index) const {
    return (uint64_t{slots_[index].generation} << 32) | (index + 1);
  }
  Slot* find(uint64_t id);
  void free_slot(uint32_t index);
  bool before(uint32_t a, uint32_t b) const;
  void insert_into_heap(uint32_t index);
  void remove_from_heap(uint32_t index);
  void sift_up(uint32_t position);
  void sift_down(uint32_t position);
  void place(uint32_t position, uint32_t index);

  std::deque<Slot> slots_;  // a deque never moves a slot, even a running one
  std::vector<uint32_t> free_;
  std::vector<uint32_t> heap_;
  uint64_t next_sequence_ = 0;
  std::size_t live_ = 0;
};

}  // namespace ebb::detail
