#include "apps/memcached/server/session.h"

#include <cstdlib>
#include <cstring>

#include "apps/memcached/cluster/partition.h"
#include "apps/memcached/protocol/ascii.h"
#include "apps/memcached/protocol/binary.h"
#include "apps/memcached/protocol/reply.h"

namespace ebb::memcached {

namespace {
// A buffer that grew past this (a large value, a long multi-get) is given
// back once empty, so idle connections stay small.
constexpr std::size_t kKeepCapacity = std::size_t{64} << 10;
}  // namespace

Session::Session(Server& server, CoreId core, ConnectionInfo* connection, bool routed)
    : server_(server),
      counters_(server.counters[core]),
      connection_(connection),
      routed_(routed && server.partition != kNullEbbId) {}

Session::~Session() { std::free(buffer_); }

bool Session::buffer(const uint8_t* data, std::size_t length) {
  if (length == 0) return true;
  if (start_ == size_) start_ = size_ = 0;
  if (size_ + length > capacity_) {
    // Move what is left to the front first, then grow if that is not enough.
    if (start_ > 0) {
      std::memmove(buffer_, buffer_ + start_, size_ - start_);
      size_ -= start_;
      start_ = 0;
    }
    if (size_ + length > capacity_) {
      std::size_t capacity = capacity_ == 0 ? 4096 : capacity_ * 2;
      while (capacity < size_ + length) capacity *= 2;
      if (capacity < need_) capacity = need_;
      auto* grown = static_cast<uint8_t*>(std::realloc(buffer_, capacity));
      if (grown == nullptr) return false;
      buffer_ = grown;
      capacity_ = capacity;
    }
  }
  std::memcpy(buffer_ + size_, data, length);
  size_ += length;
  return true;
}

std::size_t Session::handle(const uint8_t* data, std::size_t length, net::IOBuf& out,
                            Outcome* outcome) {
  Store& store = server_.store;
  Context context{server_, store.table(), store.clock(), store.clock().now(), counters_,
                  connection_};
  if (connection_ != nullptr && connection_->last_command.load(std::memory_order_relaxed) != context.now)
    connection_->last_command.store(context.now, std::memory_order_relaxed);
  Reply reply(out);
  std::size_t pos = 0;
  while (pos < length) {
    if (need_ > length - pos) break;  // the request is known to be longer
    if (protocol_ == Protocol::kUnknown)
      protocol_ = data[pos] == binary::kRequestMagic ? Protocol::kBinary : Protocol::kAscii;
    if (routed_) {
      Route route = Ref<Partition>(server_.partition)->route(data + pos, length - pos, protocol_ == Protocol::kBinary);
      if (route.kind == Route::Kind::kNeedMore) {
        need_ = route.need;
        break;
      }
      if (route.kind == Route::Kind::kRemote) {
        need_ = 0;
        pos += route.consumed;
        reply_ = std::move(route.reply);
        *outcome = Outcome::kWaiting;
        break;
      }
    }
    const Handled h =
        protocol_ == Protocol::kBinary
            ? binary::handle(context, data + pos, length - pos, reply)
            : ascii::handle(context, reinterpret_cast<const char*>(data) + pos, length - pos, reply);
    if (h.close || reply.failed()) {
      closing_ = true;
      *outcome = Outcome::kClose;
      if (reply.failed()) bump_counter(counters_.closed_on_error);
      return length;
    }
    if (h.consumed == 0) {
      need_ = h.need;
      break;
    }
    need_ = 0;
    pos += h.consumed;
    if (h.swallow > 0) {
      const std::size_t here = h.swallow < length - pos ? h.swallow : length - pos;
      pos += here;
      swallow_ = h.swallow - here;
    }
    if (out.length() >= kMaxBatchReply) {
      *outcome = Outcome::kPaused;
      break;
    }
  }
  return pos;
}

void Session::skip_swallowed(const uint8_t*& data, std::size_t& length) {
  const std::size_t here = swallow_ < length ? swallow_ : length;
  data += here;
  length -= here;
  swallow_ -= here;
}

bool Session::stash(const uint8_t* data, std::size_t length) {
  bump_counter(counters_.bytes_read, length);
  skip_swallowed(data, length);
  return buffer(data, length);
}

Session::Outcome Session::receive(const uint8_t* data, std::size_t length, net::IOBuf& out) {
  if (closing_) return Outcome::kClose;
  bump_counter(counters_.bytes_read, length);
  const std::size_t before = out.length();
  skip_swallowed(data, length);
  Outcome outcome = Outcome::kDone;
  if (start_ == size_) {
    // Nothing waits: handle the new bytes where they lie, keep the rest.
    const std::size_t used = handle(data, length, out, &outcome);
    if (outcome != Outcome::kClose && used < length && !buffer(data + used, length - used))
      outcome = Outcome::kClose;
  } else {
    if (!buffer(data, length)) {
      outcome = Outcome::kClose;
    } else {
      start_ += handle(buffer_ + start_, size_ - start_, out, &outcome);
    }
  }
  if (start_ == size_) {
    start_ = size_ = 0;
    if (capacity_ > kKeepCapacity) {
      std::free(buffer_);
      buffer_ = nullptr;
      capacity_ = 0;
    }
  }
  if (outcome == Outcome::kClose) closing_ = true;
  bump_counter(counters_.bytes_written, out.length() - before);
  return outcome;
}

}  // namespace ebb::memcached
