#include "ebbs/net/iobuf/iobuf.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "runtime/compiler.h"
#include "runtime/panic.h"

namespace ebb::net {
namespace {

// Owned bytes start this far into their allocation (16-byte aligned).
// An owned allocation: the Buffer, its embedded first Link, then the bytes.
constexpr std::size_t kLinkOffset = (sizeof(IOBuf::Buffer) + 7) & ~std::size_t{7};
constexpr std::size_t kHeaderBytes = (kLinkOffset + sizeof(IOBuf::Link) + 15) & ~std::size_t{15};

// ---- recycling ----
// Owned buffers of the usual sizes (a header or a small segment; a frame or
// a batch of replies) go onto a short per-thread list when their last link
// goes, and the next Create of their size class takes them back: most
// buffers of a packet path live for one request, and this spares the
// allocator a call each way. A request is rounded up to its class. Off
// under sanitizers, which must see every free to catch a use after it.
constexpr bool kRecycle = !EBB_ASAN && !EBB_TSAN;

constexpr std::size_t kClassBytes[] = {512, 2048 + kHeaderBytes};
constexpr uint32_t kKeepPerClass = 64;

int size_class(std::size_t bytes) {
  return bytes <= kClassBytes[0] ? 0 : bytes <= kClassBytes[1] ? 1 : -1;
}

// The lists are plain (trivially destructible) thread-locals, so that using
// them costs no initialisation check; a second thread-local with a
// destructor, armed by the first buffer kept, empties them at thread exit.
enum class ListState : uint8_t { kUnused, kArmed, kGone };
struct Recycler {
  void* kept[2][kKeepPerClass];
  uint32_t count[2];
  ListState state;  // kGone from the thread's exit on: frees go straight back
};
thread_local Recycler recycler;  // zero-initialised

struct RecyclerDrain {
  ~RecyclerDrain() {
    recycler.state = ListState::kGone;
    IOBuf::release_kept_buffers();
  }
  void arm() {}
};
thread_local RecyclerDrain recycler_drain;

// An owned buffer's allocation of (at least) `bytes`.
void* allocate_owned(std::size_t bytes) {
  const int c = size_class(bytes);
  if (c < 0) return std::malloc(bytes);
  if (kRecycle && recycler.count[c] > 0) return recycler.kept[c][--recycler.count[c]];
  return std::malloc(kClassBytes[c]);
}

void free_owned(void* memory, std::size_t bytes) {
  const int c = size_class(bytes);
  if (kRecycle && c >= 0 && recycler.count[c] < kKeepPerClass && recycler.state != ListState::kGone) {
    if (EBB_UNLIKELY(recycler.state == ListState::kUnused)) {
      recycler.state = ListState::kArmed;
      recycler_drain.arm();  // constructs it on this thread: its destructor runs at exit
    }
    recycler.kept[c][recycler.count[c]++] = memory;
    return;
  }
  std::free(memory);
}

constexpr std::size_t kMaxBufferBytes = SIZE_MAX / 4;

Error no_memory(std::size_t bytes) {
  return Error(Errc::kExhausted, "IOBuf: out of memory", static_cast<int64_t>(bytes));
}

IOBuf::Buffer* new_header(uint8_t* start, std::size_t capacity, bool owned,
                          void (*release)(void*, void*), void* arg) {
  void* memory = std::malloc(sizeof(IOBuf::Buffer));
  if (memory == nullptr) return nullptr;
  return new (memory) IOBuf::Buffer{{0}, owned, start, capacity, release, arg, nullptr};
}

void release_buffer(IOBuf::Buffer* buffer) {
  if (buffer->embedded != nullptr) {  // owned bytes, in the same allocation as the header
    free_owned(buffer, buffer->capacity + kHeaderBytes);
    return;
  }
  if (buffer->release != nullptr) buffer->release(buffer->start, buffer->release_arg);
  std::free(buffer);  // unowned bytes are the caller's
}

}  // namespace

bool IOBuf::recycles() { return kRecycle; }

std::size_t IOBuf::kept_buffers() { return std::size_t{recycler.count[0]} + recycler.count[1]; }

void IOBuf::release_kept_buffers() {
  for (int c = 0; c < 2; ++c)
    for (uint32_t i = 0; i < recycler.count[c]; ++i) std::free(recycler.kept[c][i]);
  recycler.count[0] = recycler.count[1] = 0;
}

// ---- links and buffers -------------------------------------------------------

// Why new_buffer_link gave none.
Error IOBuf::buffer_error(std::size_t capacity, std::size_t headroom) {
  if (capacity > kMaxBufferBytes || headroom > kMaxBufferBytes)
    return Error(Errc::kInvalidArgument, "IOBuf: buffer size overflows");
  return no_memory(capacity + headroom + kHeaderBytes);
}

Result<IOBuf::Link*> IOBuf::new_link(Buffer* buffer, uint8_t* data, std::size_t length) {
  void* memory = std::malloc(sizeof(Link));
  if (memory == nullptr) return no_memory(sizeof(Link));
  buffer->refs.fetch_add(1, std::memory_order_relaxed);
  return new (memory) Link{buffer, data, length, nullptr};
}

IOBuf::Link* IOBuf::new_buffer_link(std::size_t capacity, std::size_t headroom) {
  // (Each at most a quarter of the address space: the sum cannot wrap.)
  if (EBB_UNLIKELY(capacity > kMaxBufferBytes || headroom > kMaxBufferBytes)) return nullptr;
  void* memory = allocate_owned(capacity + headroom + kHeaderBytes);
  if (memory == nullptr) return nullptr;
  auto* start = static_cast<uint8_t*>(memory) + kHeaderBytes;
  auto* link = reinterpret_cast<Link*>(static_cast<uint8_t*>(memory) + kLinkOffset);
  auto* buffer = new (memory) Buffer{{1}, true, start, capacity + headroom, nullptr, nullptr, link};
  new (link) Link{buffer, start + headroom, 0, nullptr};
  return link;
}

void IOBuf::drop(Link* link) {
  Buffer* buffer = link->buffer;
  // The embedded link's memory goes with its buffer; other links are their own.
  if (link != buffer->embedded) std::free(link);
  // The last reference: no other thread can be touching the count.
  if (buffer->refs.load(std::memory_order_acquire) == 1 ||
      buffer->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    release_buffer(buffer);
  }
}

void IOBuf::push_link_back(Link* link) {
  link->next = nullptr;
  if (tail_ != nullptr) tail_->next = link;
  else head_ = link;
  tail_ = link;
  length_ += link->length;
}

// ---- making chains ----------------------------------------------------------

Result<IOBuf> IOBuf::Create(std::size_t capacity, std::size_t headroom) {
  Link* link = new_buffer_link(capacity, headroom);
  if (link == nullptr) return buffer_error(capacity, headroom);
  IOBuf chain;
  chain.head_ = chain.tail_ = link;
  return chain;
}

Result<IOBuf> IOBuf::CopyOf(const void* data, std::size_t size, std::size_t headroom,
                            std::size_t tailroom) {
  std::size_t capacity;
  if (__builtin_add_overflow(size, tailroom, &capacity))
    return Error(Errc::kInvalidArgument, "IOBuf: buffer size overflows");
  Result<IOBuf> chain = Create(capacity, headroom);
  if (!chain) return chain;
  if (size != 0) std::memcpy(chain->push_back(size), data, size);
  return chain;
}

Result<IOBuf> IOBuf::TakeOwnership(void* data, std::size_t size,
                                   void (*release)(void* data, void* arg), void* arg) {
  EBB_CHECK(release != nullptr, "IOBuf::TakeOwnership needs a release function");
  return Wrap(static_cast<uint8_t*>(data), size, true, release, arg);
}

Result<IOBuf> IOBuf::WrapUnowned(const void* data, std::size_t size) {
  return Wrap(static_cast<uint8_t*>(const_cast<void*>(data)), size, false, nullptr, nullptr);
}

// One link over memory that is not the IOBuf's own allocation.
Result<IOBuf> IOBuf::Wrap(uint8_t* start, std::size_t size, bool owned,
                          void (*release)(void*, void*), void* arg) {
  Buffer* buffer = new_header(start, size, owned, release, arg);
  if (buffer == nullptr) return no_memory(sizeof(Buffer));
  Result<Link*> link = new_link(buffer, start, size);
  if (!link) {
    std::free(buffer);
    return link.error();
  }
  IOBuf chain;
  chain.push_link_back(*link);
  return chain;
}

// ---- the chain ----------------------------------------------------------------

std::size_t IOBuf::link_count() const {
  std::size_t n = 0;
  for (const Link* l = head_; l != nullptr; l = l->next) ++n;
  return n;
}

void IOBuf::append(IOBuf&& tail) {
  if (&tail == this || tail.head_ == nullptr) return;
  if (tail_ != nullptr) tail_->next = tail.head_;
  else head_ = tail.head_;
  tail_ = tail.tail_;
  length_ += tail.length_;
  tail.head_ = tail.tail_ = nullptr;
  tail.length_ = 0;
}

void IOBuf::prepend(IOBuf&& head) {
  if (&head == this) return;
  head.append(std::move(*this));
  *this = std::move(head);
}

Result<IOBuf> IOBuf::split_front(std::size_t n) {
  EBB_CHECK(n <= length_, "IOBuf::split_front(%zu) of a %zu-byte chain", n, length_);
  IOBuf front;
  while (n > 0) {
    Link* l = head_;
    if (l->length <= n) {  // the whole link moves
      head_ = l->next;
      if (head_ == nullptr) tail_ = nullptr;
      length_ -= l->length;
      n -= l->length;
      front.push_link_back(l);
      continue;
    }
    // The cut falls inside this link: both sides refer to its buffer.
    Result<Link*> piece = new_link(l->buffer, l->data, n);
    if (!piece) {
      prepend(std::move(front));  // as it was
      return piece.error();
    }
    l->data += n;
    l->length -= n;
    length_ -= n;
    front.push_link_back(*piece);
    n = 0;
  }
  return front;
}

void IOBuf::trim_front_slow(std::size_t n) {
  EBB_CHECK(n <= length_, "IOBuf::trim_front(%zu) of a %zu-byte chain", n, length_);
  length_ -= n;
  while (n > 0) {
    Link* l = head_;
    if (l->length <= n) {
      n -= l->length;
      head_ = l->next;
      if (head_ == nullptr) tail_ = nullptr;
      drop(l);
    } else {
      l->data += n;
      l->length -= n;
      n = 0;
    }
  }
}

void IOBuf::trim_back(std::size_t n) {
  EBB_CHECK(n <= length_, "IOBuf::trim_back(%zu) of a %zu-byte chain", n, length_);
  if (n == 0) return;
  std::size_t keep = length_ - n;
  length_ = keep;
  // Keep whole links while they fit in `keep`, cut the one that does not,
  // drop the rest.
  Link** at = &head_;
  Link* last = nullptr;
  while (*at != nullptr && keep >= (*at)->length && keep != 0) {
    keep -= (*at)->length;
    last = *at;
    at = &(*at)->next;
  }
  if (*at != nullptr && keep != 0) {
    (*at)->length = keep;
    last = *at;
    at = &(*at)->next;
  }
  Link* rest = *at;
  *at = nullptr;
  tail_ = last;
  if (last == nullptr) head_ = nullptr;
  while (rest != nullptr) {
    Link* next = rest->next;
    drop(rest);
    rest = next;
  }
}

void IOBuf::clear() {
  while (head_ != nullptr) {
    Link* next = head_->next;
    drop(head_);
    head_ = next;
  }
  tail_ = nullptr;
  length_ = 0;
}

Result<IOBuf> IOBuf::clone() const {
  IOBuf copy;
  for (const Link* l = head_; l != nullptr; l = l->next) {
    Result<Link*> link = new_link(l->buffer, l->data, l->length);
    if (!link) return link.error();  // copy's destructor drops what it had
    copy.push_link_back(*link);
  }
  return copy;
}

Result<IOBuf> IOBuf::clone_range(std::size_t offset, std::size_t n) const {
  EBB_CHECK(offset <= length_ && n <= length_ - offset,
            "IOBuf::clone_range(%zu, %zu) of a %zu-byte chain", offset, n, length_);
  IOBuf copy;
  for (const Link* l = head_; l != nullptr && n > 0; l = l->next) {
    if (offset >= l->length) {
      offset -= l->length;
      continue;
    }
    const std::size_t here = l->length - offset < n ? l->length - offset : n;
    Result<Link*> link = new_link(l->buffer, l->data + offset, here);
    if (!link) return link.error();
    copy.push_link_back(*link);
    offset = 0;
    n -= here;
  }
  return copy;
}

// ---- writing at the ends -----------------------------------------------------

Status IOBuf::append_copy(const void* data, std::size_t size, std::size_t link_capacity) {
  const std::size_t room = tailroom();
  const std::size_t here = size < room ? size : room;
  // Allocate first, so that on failure nothing has changed.
  Link* more = nullptr;
  if (size > here) {
    const std::size_t rest = size - here;
    const std::size_t capacity = rest > link_capacity ? rest : link_capacity;
    more = new_buffer_link(capacity, 0);
    if (more == nullptr) return buffer_error(capacity, 0);
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (here != 0) std::memcpy(push_back(here), bytes, here);
  if (more != nullptr) {
    std::memcpy(more->data, bytes + here, size - here);
    more->length = size - here;
    push_link_back(more);
  }
  return {};
}

// ---- reading --------------------------------------------------------------------

Result<const uint8_t*> IOBuf::gather_slow(std::size_t n) {
  if (n > length_) return Error(Errc::kInvalidArgument, "IOBuf::gather past the end", n);
  static constexpr uint8_t kNothing = 0;
  if (n == 0) return &kNothing;
  if (head_->length >= n) return static_cast<const uint8_t*>(head_->data);
  // The first link grows in place when it may; otherwise a new link takes
  // its bytes and the ones that follow.
  Link* target = head_;
  if (room_after(head_) < n - head_->length) {
    target = new_buffer_link(n, 0);
    if (target == nullptr) return buffer_error(n, 0);
    std::memcpy(target->data, head_->data, head_->length);
    target->length = head_->length;
    target->next = head_->next;
    drop(head_);
    head_ = target;
    if (target->next == nullptr) tail_ = target;
  }
  // Move the bytes that follow into the target, consuming them.
  std::size_t wanted = n - target->length;
  while (wanted > 0) {
    Link* l = target->next;
    const std::size_t take = l->length < wanted ? l->length : wanted;
    std::memcpy(target->data + target->length, l->data, take);
    target->length += take;
    wanted -= take;
    l->data += take;
    l->length -= take;
    if (l->length == 0) {
      target->next = l->next;
      if (tail_ == l) tail_ = target;
      drop(l);
    }
  }
  return static_cast<const uint8_t*>(target->data);
}

bool IOBuf::copy_out(std::size_t offset, void* out, std::size_t size) const {
  if (offset > length_ || size > length_ - offset) return false;
  auto* to = static_cast<uint8_t*>(out);
  for (const Link* l = head_; l != nullptr && size > 0; l = l->next) {
    if (offset >= l->length) {
      offset -= l->length;
      continue;
    }
    const std::size_t take = l->length - offset < size ? l->length - offset : size;
    std::memcpy(to, l->data + offset, take);
    to += take;
    size -= take;
    offset = 0;
  }
  return true;
}

std::string IOBuf::to_string() const {
  std::string s;
  s.reserve(length_);
  for_each_range([&s](const uint8_t* data, std::size_t n) {
    s.append(reinterpret_cast<const char*>(data), n);
  });
  return s;
}

bool IOBuf::is_shared() const {
  for (const Link* l = head_; l != nullptr; l = l->next)
    if (l->buffer->refs.load(std::memory_order_acquire) > 1) return true;
  return false;
}

}  // namespace ebb::net
