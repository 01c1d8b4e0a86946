#include "drivers/wire/wire.h"

#include <cstring>
#include <new>
#include <utility>

#include "runtime/compiler.h"
#include "runtime/panic.h"
#include "runtime/spin_lock.h"

namespace ebb::drivers {

namespace {

// A frame on the wire. due == 0: due from the moment it was sent. Such a frame
// is only queued while no timed frame waits in its direction, so it sorts
// before every timed frame correctly, and the untimed path never reads the
// clock.
struct Entry {
  net::IOBuf frame;
  uint64_t due;
  uint64_t seq;  // send order, for equal due times
};

bool before(const Entry& a, const Entry& b) {
  return a.due < b.due || (a.due == b.due && a.seq < b.seq);
}

// Entry storage that reports running out instead of aborting.
Entry* allocate_entries(std::size_t n) {
  return static_cast<Entry*>(::operator new(n * sizeof(Entry), std::nothrow));
}

constexpr std::size_t kFirstSlots = 16;

// Entries in (due, seq) order, appended at the back: the whole story while
// due times only grow, which they do without jitter and reordering.
class Fifo {
 public:
  Fifo() = default;
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;
  ~Fifo() {
    while (size_ != 0)
      pop_front();
    ::operator delete(slots_);
  }

  bool empty() const { return size_ == 0; }
  Entry& front() { return slots_[head_]; }
  const Entry& back() const { return slots_[(head_ + size_ - 1) & mask_]; }

  bool push_back(net::IOBuf&& frame, uint64_t due, uint64_t seq) {
    if (size_ == capacity() && !grow()) return false;
    new (&slots_[(head_ + size_) & mask_]) Entry{std::move(frame), due, seq};
    ++size_;
    return true;
  }
  void pop_front() {
    slots_[head_].~Entry();
    head_ = (head_ + 1) & mask_;
    --size_;
  }

 private:
  std::size_t capacity() const { return slots_ == nullptr ? 0 : mask_ + 1; }
  bool grow() {
    const std::size_t slots = slots_ == nullptr ? kFirstSlots : 2 * (mask_ + 1);
    Entry* fresh = allocate_entries(slots);
    if (fresh == nullptr) return false;
    for (std::size_t i = 0; i < size_; ++i) {
      Entry& old = slots_[(head_ + i) & mask_];
      new (&fresh[i]) Entry(std::move(old));
      old.~Entry();
    }
    ::operator delete(slots_);
    slots_ = fresh;
    mask_ = slots - 1;
    head_ = 0;
    return true;
  }

  Entry* slots_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// A binary min-heap on (due, seq) for the frames that would break the Fifo's
// order: jittered and held-back ones.
class Heap {
 public:
  Heap() = default;
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;
  ~Heap() {
    for (std::size_t i = 0; i < size_; ++i)
      slots_[i].~Entry();
    ::operator delete(slots_);
  }

  bool empty() const { return size_ == 0; }
  Entry& top() { return slots_[0]; }

  bool push(net::IOBuf&& frame, uint64_t due, uint64_t seq) {
    if (size_ == capacity_ && !grow()) return false;
    std::size_t i = size_++;
    new (&slots_[i]) Entry{std::move(frame), due, seq};
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(slots_[i], slots_[parent])) break;
      std::swap(slots_[i], slots_[parent]);
      i = parent;
    }
    return true;
  }
  void pop_top() {
    --size_;
    if (size_ != 0) slots_[0] = std::move(slots_[size_]);
    slots_[size_].~Entry();
    std::size_t i = 0;
    for (;;) {
      std::size_t least = i;
      const std::size_t left = 2 * i + 1;
      const std::size_t right = left + 1;
      if (left < size_ && before(slots_[left], slots_[least])) least = left;
      if (right < size_ && before(slots_[right], slots_[least])) least = right;
      if (least == i) return;
      std::swap(slots_[i], slots_[least]);
      i = least;
    }
  }

 private:
  bool grow() {
    const std::size_t slots = capacity_ == 0 ? kFirstSlots : 2 * capacity_;
    Entry* fresh = allocate_entries(slots);
    if (fresh == nullptr) return false;
    for (std::size_t i = 0; i < size_; ++i) {
      new (&fresh[i]) Entry(std::move(slots_[i]));
      slots_[i].~Entry();
    }
    ::operator delete(slots_);
    slots_ = fresh;
    capacity_ = slots;
    return true;
  }

  Entry* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

// splitmix64: small, fast, and good enough to decide a frame's fate; its own
// so that a seed means the same sequence on every platform and library.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  // True with probability p; draws nothing when p <= 0, so an impairment that
  // is off costs nothing and does not shift the stream of the others.
  bool chance(double p) { return p > 0 && static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  // Uniform in [0, n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

Result<net::IOBuf> copy_contiguous(const net::IOBuf& frame) {
  const std::size_t length = frame.length();
  Result<net::IOBuf> copy = net::IOBuf::Create(length);
  if (!copy) return copy;
  uint8_t* out = copy->push_back(length);
  frame.for_each_range([&out](const uint8_t* data, std::size_t size) {
    std::memcpy(out, data, size);
    out += size;
  });
  return copy;
}

}  // namespace

// Frames sent by one end. Guarded by `lock`; the atomics are written under it
// too, and read without it as hints.
struct alignas(kCacheLine) Wire::Direction {
  struct Queue {
    Fifo fifo;
    Heap heap;

    // The earliest frame, in the Fifo or the Heap; null when none.
    Entry* first(bool* in_heap) {
      Entry* best = fifo.empty() ? nullptr : &fifo.front();
      *in_heap = false;
      if (!heap.empty() && (best == nullptr || before(heap.top(), *best))) {
        best = &heap.top();
        *in_heap = true;
      }
      return best;
    }
  };

  Direction(const WireOptions& options, uint32_t queue_count, int from)
      : queues(new Queue[queue_count]),
        waiting(new detail::WireWaiting[queue_count]),
        queue_count(queue_count),
        random(
            Random(options.seed ^ (0xd1b54a32d192ed03 * static_cast<uint64_t>(from + 1))).next()) {
    configure(options);
  }
  ~Direction() {
    delete[] queues;
    delete[] waiting;
  }

  void configure(const WireOptions& options) {
    loss = options.loss;
    duplicate = options.duplicate;
    reorder = options.reorder;
    reorder_delay_ns = options.reorder_delay_ns;
    delay_ns = options.delay_ns;
    jitter_ns = options.jitter_ns;
    capacity.store(options.capacity, std::memory_order_relaxed);
  }

  // Puts one frame on queue q, with its due time; false when out of memory.
  EBB_ALWAYS_INLINE bool enqueue(uint32_t q, net::IOBuf&& frame, const net::Clock& clock) {
    const bool held = random.chance(reorder);
    uint64_t extra = delay_ns;
    if (jitter_ns != 0) extra += random.below(jitter_ns + 1);
    if (held) extra += reorder_delay_ns;
    const uint64_t due = (extra != 0 || timed != 0) ? clock.now() + extra : 0;
    Queue& queue = queues[q];
    // A held-back frame goes to the heap so that the frames it lets pass can
    // still take the Fifo.
    const bool pushed = !held && (queue.fifo.empty() || due >= queue.fifo.back().due)
                            ? queue.fifo.push_back(std::move(frame), due, seq)
                            : queue.heap.push(std::move(frame), due, seq);
    if (EBB_UNLIKELY(!pushed)) return false;
    ++seq;
    if (held) ++counters.reordered;
    if (due != 0) ++timed;
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic<std::size_t>& frames = waiting[q].frames;
    frames.store(frames.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return true;
  }

  Status refuse_full() {
    ++counters.dropped_full;
    return Error(Errc::kExhausted, "wire: capacity frames in flight",
                 static_cast<int64_t>(capacity.load(std::memory_order_relaxed)));
  }

  SpinLock lock;
  Queue* queues;
  // Frames in each queue (fifo + heap): written under the lock, read by
  // receive() without it.
  detail::WireWaiting* waiting;
  uint32_t queue_count;
  Random random;
  uint64_t seq = 0;
  std::size_t timed = 0;  // frames with due != 0
  WireCounters counters;
  double loss = 0;
  double duplicate = 0;
  double reorder = 0;
  uint64_t reorder_delay_ns = 0;
  uint64_t delay_ns = 0;
  uint64_t jitter_ns = 0;
  // Written under the lock; read without it as hints (a full wire refuses
  // before copying) and by in_flight().
  std::atomic<std::size_t> count{0};
  std::atomic<std::size_t> capacity{0};
};

Wire::Wire(WireOptions options, net::Clock clock) : clock_(clock), mtu_(options.mtu) {
  const uint32_t queues = options.queues == 0 ? 1 : options.queues;
  for (int side = 0; side < 2; ++side)
    directions_[side] = new Direction(options, queues, side);
  for (int side = 0; side < 2; ++side) {
    WireEnd& end = ends_[side];
    end.wire_ = this;
    end.side_ = side;
    end.queues_ = queues;
    end.incoming_ = directions_[1 - side]->waiting;
    end.mac_ = net::MacAddress::Local(kMacBase + static_cast<uint32_t>(side));
  }
}

Wire::~Wire() {
  delete directions_[0];
  delete directions_[1];
}

void Wire::set_options(const WireOptions& options) {
  mtu_.store(options.mtu, std::memory_order_relaxed);
  for (Direction* d : directions_) {
    SpinLockGuard guard(d->lock);
    d->configure(options);
  }
}

WireCounters Wire::counters(int from) const {
  Direction& d = *directions_[from];
  SpinLockGuard guard(d.lock);
  return d.counters;
}

std::size_t Wire::in_flight() const {
  return directions_[0]->count.load(std::memory_order_relaxed) +
         directions_[1]->count.load(std::memory_order_relaxed);
}

uint64_t Wire::next_due(int side) const {
  Direction& d = *directions_[1 - side];
  SpinLockGuard guard(d.lock);
  const Entry* earliest = nullptr;
  for (uint32_t q = 0; q < d.queue_count; ++q) {
    bool in_heap;
    const Entry* first = d.queues[q].first(&in_heap);
    if (first != nullptr && (earliest == nullptr || before(*first, *earliest))) earliest = first;
  }
  if (earliest == nullptr) return 0;
  if (earliest->due != 0) return earliest->due;
  const uint64_t now = clock_.now();
  return now != 0 ? now : 1;
}

[[gnu::flatten]] Status WireEnd::transmit(uint32_t queue, net::IOBuf frame) {
  Wire::Direction& d = *wire_->directions_[side_];
  const std::size_t length = frame.length();
  if (EBB_UNLIKELY(length > std::size_t{mtu()} + net::kEthernetHeaderBytes)) {
    SpinLockGuard guard(d.lock);
    ++d.counters.too_long;
    return Error(Errc::kInvalidArgument, "wire: frame longer than mtu + Ethernet header",
                 static_cast<int64_t>(length));
  }
  // A full wire refuses before copying (checked again under the lock).
  if (EBB_UNLIKELY(d.count.load(std::memory_order_relaxed) >=
                   d.capacity.load(std::memory_order_relaxed))) {
    SpinLockGuard guard(d.lock);
    return d.refuse_full();
  }
  // A frame that is one link of memory nobody else sees is handed over as
  // it is (as a NIC would DMA it); any other is copied into one, outside
  // the lock: the receiver may be polling on another core.
  // (Headroom means writable: owned, and this link its only reference.)
  const net::IOBuf::Link* first = frame.first_link();
  if (first == nullptr || first->next != nullptr || frame.headroom() == 0) {
    Result<net::IOBuf> copy = copy_contiguous(frame);
    if (!copy) return copy.error();
    frame = std::move(*copy);
  }

  const uint32_t q = queue % queues_;
  SpinLockGuard guard(d.lock);
  const std::size_t capacity = d.capacity.load(std::memory_order_relaxed);
  const std::size_t count = d.count.load(std::memory_order_relaxed);
  if (EBB_UNLIKELY(count >= capacity)) return d.refuse_full();
  if (d.random.chance(d.loss)) {
    ++d.counters.sent;
    ++d.counters.lost;
    return {};
  }
  // A second copy (not a clone: each receiver's frame must be writable),
  // only when it fits; made before the first one moves on.
  net::IOBuf again;
  bool duplicated = false;
  if (d.random.chance(d.duplicate) && count + 1 < capacity) {
    Result<net::IOBuf> copied =
        net::IOBuf::CopyOf(length == 0 ? nullptr : frame.first_link()->data, length);
    if (copied) {
      again = std::move(*copied);
      duplicated = true;
    }
  }
  if (EBB_UNLIKELY(!d.enqueue(q, std::move(frame), wire_->clock_))) return d.refuse_full();
  ++d.counters.sent;
  if (duplicated && d.enqueue(q, std::move(again), wire_->clock_)) ++d.counters.duplicated;
  return {};
}

[[gnu::flatten]] bool WireEnd::take(uint32_t queue, net::IOBuf& frame) {
  EBB_CHECK(queue < queues_, "wire: receive on queue %u of %u", queue, queues_);
  Wire::Direction& d = *wire_->directions_[1 - side_];
  Wire::Direction::Queue& q = d.queues[queue];
  SpinLockGuard guard(d.lock);
  bool in_heap;
  Entry* first = q.first(&in_heap);
  if (first == nullptr) return false;
  if (first->due != 0) {
    if (first->due > wire_->clock_.now()) return false;
    --d.timed;
  }
  frame = std::move(first->frame);
  if (in_heap)
    q.heap.pop_top();
  else
    q.fifo.pop_front();
  d.count.store(d.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  std::atomic<std::size_t>& frames = d.waiting[queue].frames;
  frames.store(frames.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  ++d.counters.delivered;
  return true;
}

}  // namespace ebb::drivers
