#pragma once
// IOBuf: a chain of byte ranges ("links") over reference-counted buffers, the
// one currency of every network backend and app.
//
// Moving bytes between layers never copies them: a split, an append or a
// clone moves or shares links. A buffer is writable (its headroom and
// tailroom usable) only while exactly one link refers to it and it is owned
// memory: then nobody else can see the bytes change. Everything that needs
// memory returns a Result, so running out is an Error, never a crash.
//
//   IOBuf reply = IOBuf::Create(2048, /*headroom=*/64).value();
//   reply.append_copy("hello", 5);                 // into the tailroom
//   uint8_t* header = reply.push_front(8);         // into the headroom
//   IOBuf first = reply.split_front(3).value();    // "xxxxxxxxhel" | "lo"
//
// An IOBuf belongs to one thread at a time; buffers shared by clones may be
// released from any core (their counts are atomic).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/result.h"

namespace ebb::net {

class IOBuf {
 public:
  struct Link;
  // The memory of one or more links: a header, then (for owned memory the
  // IOBuf allocated) the bytes themselves.
  struct Buffer {
    std::atomic<uint32_t> refs;
    bool owned;  // false: memory the caller keeps alive (WrapUnowned)
    uint8_t* start;
    std::size_t capacity;
    void (*release)(void* data, void* arg);  // for TakeOwnership
    void* release_arg;
    // Owned buffers carry their first link in the same allocation (one
    // malloc per Create, not two); null for the others.
    Link* embedded;
  };
  // One range of bytes in a buffer.
  struct Link {
    Buffer* buffer;
    uint8_t* data;
    std::size_t length;
    Link* next;
  };

  IOBuf() = default;  // an empty chain
  // Moves are inline: chains change hands at every layer of a stack.
  IOBuf(IOBuf&& other) noexcept : head_(other.head_), tail_(other.tail_), length_(other.length_) {
    other.head_ = other.tail_ = nullptr;
    other.length_ = 0;
  }
  IOBuf& operator=(IOBuf&& other) noexcept {
    if (this != &other) {
      if (head_ != nullptr) clear();
      head_ = other.head_;
      tail_ = other.tail_;
      length_ = other.length_;
      other.head_ = other.tail_ = nullptr;
      other.length_ = 0;
    }
    return *this;
  }
  IOBuf(const IOBuf&) = delete;
  IOBuf& operator=(const IOBuf&) = delete;
  ~IOBuf() {
    if (head_ != nullptr) clear();
  }

  // One link over a fresh buffer of `headroom + capacity` bytes, empty, with
  // `headroom` bytes reserved in front of the data.
  static Result<IOBuf> Create(std::size_t capacity, std::size_t headroom = 0);
  // The bytes copied into a fresh buffer, with room around them.
  static Result<IOBuf> CopyOf(const void* data, std::size_t size, std::size_t headroom = 0,
                              std::size_t tailroom = 0);
  static Result<IOBuf> CopyOf(std::string_view text) { return CopyOf(text.data(), text.size()); }
  // Memory allocated elsewhere: `release(data, arg)` runs, on whatever thread
  // drops the last link to it. Writable like owned memory.
  static Result<IOBuf> TakeOwnership(void* data, std::size_t size,
                                     void (*release)(void* data, void* arg), void* arg = nullptr);
  // Memory the caller keeps alive and unchanged while any link refers to it
  // (constants, a mapped file). Never written through.
  static Result<IOBuf> WrapUnowned(const void* data, std::size_t size);

  // ---- this thread's recycled buffers ----
  // Owned buffers of up to 2 KiB go onto a short per-thread list when
  // dropped, and the next Create of their size takes them back (off under
  // sanitizers: recycles() is false there). The list is freed at thread exit.
  static bool recycles();
  static std::size_t kept_buffers();
  // Frees the list now (a thread that stops handling packets may call it).
  static void release_kept_buffers();

  // ---- the chain ----
  std::size_t length() const { return length_; }
  bool empty() const { return length_ == 0; }
  std::size_t link_count() const;
  const Link* first_link() const { return head_; }

  // Moves `tail`'s links to the end of this chain (tail ends empty).
  void append(IOBuf&& tail);
  // Moves `head`'s links to the front of this chain (head ends empty).
  void prepend(IOBuf&& head);
  // Takes the first n bytes off as a chain of their own; a link that
  // straddles the cut is shared by both sides. n > length() is a panic.
  Result<IOBuf> split_front(std::size_t n);
  // Drops bytes from either end; more than length() is a panic.
  // (Inline while the cut falls inside the first link: every layer of a
  // stack takes its header off this way.)
  void trim_front(std::size_t n) {
    if (head_ != nullptr && n < head_->length) {
      head_->data += n;
      head_->length -= n;
      length_ -= n;
      return;
    }
    trim_front_slow(n);
  }
  void trim_back(std::size_t n);
  // Drops every link.
  void clear();
  // Another chain over the same bytes (shares every buffer: neither side
  // can write into them afterwards).
  Result<IOBuf> clone() const;
  // A chain over bytes [offset, offset + n) of this one, sharing their
  // buffers (TCP sends a window of its send queue this way, and keeps the
  // queue for retransmission). offset + n > length() is a panic.
  Result<IOBuf> clone_range(std::size_t offset, std::size_t n) const;

  // ---- writing at the ends ----
  // Writable room before the first link's data / after the last link's.
  std::size_t headroom() const {
    if (head_ == nullptr || !writable(head_)) return 0;
    return static_cast<std::size_t>(head_->data - head_->buffer->start);
  }
  std::size_t tailroom() const { return tail_ == nullptr ? 0 : room_after(tail_); }
  // Extends the first (last) link by n bytes into its headroom (tailroom)
  // and returns where they start: the caller fills them. Null, and nothing
  // changed, when there is not that much writable room.
  // (Inline: every header and every reply piece goes through these.)
  uint8_t* push_front(std::size_t n) {
    if (headroom() < n) return nullptr;
    head_->data -= n;
    head_->length += n;
    length_ += n;
    return head_->data;
  }
  uint8_t* push_back(std::size_t n) {
    if (tailroom() < n) return nullptr;
    uint8_t* at = tail_->data + tail_->length;
    tail_->length += n;
    length_ += n;
    return at;
  }
  // Copies bytes to the end: into the tailroom, then into new links of at
  // least `link_capacity` bytes.
  Status append_copy(const void* data, std::size_t size, std::size_t link_capacity = 2048);
  Status append_copy(std::string_view text) { return append_copy(text.data(), text.size()); }

  // ---- reading ----
  // The first n bytes as one contiguous range, moving them into one link
  // first if they span several (the only copy an IOBuf makes by itself).
  // Errc::kInvalidArgument when n > length().
  Result<const uint8_t*> gather(std::size_t n) {
    if (head_ != nullptr && head_->length >= n && n != 0) return static_cast<const uint8_t*>(head_->data);
    return gather_slow(n);
  }
  // Copies `size` bytes starting at `offset` out; false (nothing copied) when
  // the chain is shorter than offset + size.
  bool copy_out(std::size_t offset, void* out, std::size_t size) const;
  std::string to_string() const;
  // Does any link share its buffer (with another link, here or elsewhere)?
  bool is_shared() const;

  // Calls f(const uint8_t* data, std::size_t length) for every non-empty link.
  template <class F>
  void for_each_range(F&& f) const {
    for (const Link* l = head_; l != nullptr; l = l->next)
      if (l->length != 0) f(static_cast<const uint8_t*>(l->data), l->length);
  }

 private:
  Result<const uint8_t*> gather_slow(std::size_t n);
  void trim_front_slow(std::size_t n);
  static Result<IOBuf> Wrap(uint8_t* start, std::size_t size, bool owned,
                            void (*release)(void*, void*), void* arg);
  static Result<Link*> new_link(Buffer* buffer, uint8_t* data, std::size_t length);
  // A fresh owned buffer and its embedded link (empty, `headroom` in
  // front); null when memory ran out or the size is absurd (buffer_error).
  static Link* new_buffer_link(std::size_t capacity, std::size_t headroom);
  static Error buffer_error(std::size_t capacity, std::size_t headroom);
  static void drop(Link* link);
  static bool writable(const Link* link) {
    return link->buffer->owned && link->buffer->refs.load(std::memory_order_acquire) == 1;
  }
  // Writable bytes after a link's data.
  static std::size_t room_after(const Link* link) {
    if (!writable(link)) return 0;
    const Buffer& b = *link->buffer;
    return static_cast<std::size_t>(b.start + b.capacity - (link->data + link->length));
  }
  void push_link_back(Link* link);

  Link* head_ = nullptr;
  Link* tail_ = nullptr;
  std::size_t length_ = 0;
};

}  // namespace ebb::net
