#include "runtime/timer_heap.h"

#include "runtime/platform_heap_scope.h"

namespace ebb::detail {

uint64_t TimerHeap::add(uint64_t deadline_ns, uint64_t period_ns, Function<void()> fn) {
  PlatformHeapScope core_lifetime;  // the heap lives as long as its core
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  s.deadline = deadline_ns;
  s.period_ns = period_ns;
  s.sequence = next_sequence_++;
  s.fn = std::move(fn);
  s.live = true;
  s.queued = s.running = s.cancelled = false;
  ++live_;
  insert_into_heap(index);
  return id_of(index);
}

TimerHeap::Slot* TimerHeap::find(uint64_t id) {
  const uint64_t index = (id & 0xffffffffu) - 1;
  if ((id & 0xffffffffu) == 0 || index >= slots_.size()) return nullptr;
  Slot& s = slots_[index];
  if (!s.live || s.generation != ((id >> 32) & 0xffff) || s.cancelled) return nullptr;
  return &s;
}

bool TimerHeap::cancel(uint64_t id) {
  Slot* s = find(id);
  if (s == nullptr) return false;
  const uint32_t index = static_cast<uint32_t>((id & 0xffffffffu) - 1);
  const bool periodic = s->period_ns != 0;
  const bool prevented = periodic || s->heap_index != kNotInHeap || s->queued;
  if (s->heap_index != kNotInHeap) remove_from_heap(index);
  if (s->queued || s->running) s->cancelled = true;  // run() frees it
  else free_slot(index);
  return prevented;
}

bool TimerHeap::run(uint64_t id) {
  const uint64_t index = (id & 0xffffffffu) - 1;
  if ((id & 0xffffffffu) == 0 || index >= slots_.size()) return false;
  Slot& s = slots_[index];
  if (!s.live || s.generation != ((id >> 32) & 0xffff) || !s.queued) return false;
  s.queued = false;
  if (s.cancelled) {
    free_slot(static_cast<uint32_t>(index));
    return false;
  }
  s.running = true;
  s.fn();  // may add or cancel timers (slots never move) and may park
  s.running = false;
  if (s.cancelled || s.period_ns == 0) free_slot(static_cast<uint32_t>(index));
  return true;
}

void TimerHeap::free_slot(uint32_t index) {
  Slot& s = slots_[index];
  s.fn.reset();
  s.live = false;
  s.cancelled = s.queued = s.running = false;
  ++s.generation;
  if (s.generation == 0) s.generation = 1;
  PlatformHeapScope core_lifetime;
  free_.push_back(index);
  --live_;
}

bool TimerHeap::before(uint32_t a, uint32_t b) const {
  const Slot& x = slots_[a];
  const Slot& y = slots_[b];
  return x.deadline != y.deadline ? x.deadline < y.deadline : x.sequence < y.sequence;
}

void TimerHeap::place(uint32_t position, uint32_t index) {
  heap_[position] = index;
  slots_[index].heap_index = position;
}

void TimerHeap::insert_into_heap(uint32_t index) {
  heap_.push_back(index);
  place(static_cast<uint32_t>(heap_.size() - 1), index);
  sift_up(static_cast<uint32_t>(heap_.size() - 1));
}

void TimerHeap::remove_from_heap(uint32_t index) {
  const uint32_t position = slots_[index].heap_index;
  slots_[index].heap_index = kNotInHeap;
  const uint32_t last = heap_.back();
  heap_.pop_back();
  if (position == heap_.size()) return;  // it was the last element
  place(position, last);
  sift_up(position);
  sift_down(slots_[last].heap_index);
}

void TimerHeap::sift_up(uint32_t position) {
  const uint32_t index = heap_[position];
  while (position > 0) {
    const uint32_t parent = (position - 1) / 2;
    if (!before(index, heap_[parent])) break;
    place(position, heap_[parent]);
    position = parent;
  }
  place(position, index);
}

void TimerHeap::sift_down(uint32_t position) {
  const uint32_t index = heap_[position];
  const uint32_t size = static_cast<uint32_t>(heap_.size());
  for (;;) {
    uint32_t child = 2 * position + 1;
    if (child >= size) break;
    if (child + 1 < size && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], index)) break;
    place(position, heap_[child]);
    position = child;
  }
  place(position, index);
}

}  // namespace ebb::detail
