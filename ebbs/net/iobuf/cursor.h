#pragma once
// Cursor: reads a chain front to back, across links, without changing it.
// Every read says whether there were enough bytes: parsers of untrusted
// input check it instead of trusting lengths.
//
//   Cursor in(packet);
//   uint16_t type;
//   uint32_t length;
//   if (!in.read_be(type) || !in.read_be(length) || in.remaining() < length) return bad;

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ebbs/net/iobuf/iobuf.h"

namespace ebb::net {

class Cursor {
 public:
  explicit Cursor(const IOBuf& chain) : link_(chain.first_link()), remaining_(chain.length()) {
    skip_empty_links();
  }

  std::size_t remaining() const { return remaining_; }
  // Bytes read or skipped so far.
  std::size_t position() const { return position_; }

  // The contiguous bytes at the cursor: the rest of the current link (none
  // at the end). For scanning without copying.
  const uint8_t* peek_data() const { return link_ != nullptr ? link_->data + offset_ : nullptr; }
  std::size_t peek_length() const { return link_ != nullptr ? link_->length - offset_ : 0; }

  // Copies n bytes out and moves past them; false (and nothing moves) when
  // fewer than n remain.
  bool read(void* out, std::size_t n) {
    if (n > remaining_) return false;
    auto* to = static_cast<uint8_t*>(out);
    while (n > 0) {
      const std::size_t here = peek_length() < n ? peek_length() : n;
      std::memcpy(to, peek_data(), here);
      to += here;
      n -= here;
      advance(here);
    }
    return true;
  }

  bool skip(std::size_t n) {
    if (n > remaining_) return false;
    while (n > 0) {
      const std::size_t here = peek_length() < n ? peek_length() : n;
      n -= here;
      advance(here);
    }
    return true;
  }

  // Integers in network (big-endian) or little-endian byte order.
  template <class T>
  bool read_be(T& out) {
    static_assert(std::is_integral_v<T>);
    T raw;
    if (!read_raw(raw)) return false;
    out = std::endian::native == std::endian::big ? raw : byteswap(raw);
    return true;
  }
  template <class T>
  bool read_le(T& out) {
    static_assert(std::is_integral_v<T>);
    T raw;
    if (!read_raw(raw)) return false;
    out = std::endian::native == std::endian::little ? raw : byteswap(raw);
    return true;
  }

  template <class T>
  static T byteswap(T v) {
    using U = std::make_unsigned_t<T>;
    if constexpr (sizeof(T) == 1) return v;
    else if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(static_cast<U>(v)));
    else if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(static_cast<U>(v)));
    else return static_cast<T>(__builtin_bswap64(static_cast<U>(v)));
  }

 private:
  template <class T>
  bool read_raw(T& raw) {
    if (peek_length() >= sizeof(T)) {  // the common case: within one link
      std::memcpy(&raw, peek_data(), sizeof(T));
      advance(sizeof(T));
      return true;
    }
    return read(&raw, sizeof(T));
  }

  void advance(std::size_t n) {
    offset_ += n;
    remaining_ -= n;
    position_ += n;
    if (offset_ == link_->length) skip_empty_links();
  }

  // Moves to the next link with bytes left, if the current one has none.
  void skip_empty_links() {
    while (link_ != nullptr && offset_ == link_->length) {
      link_ = link_->next;
      offset_ = 0;
    }
  }

  const IOBuf::Link* link_;
  std::size_t offset_ = 0;
  std::size_t remaining_;
  std::size_t position_ = 0;
};

// Appender: writes at the end of a chain, growing it by links of
// `link_capacity` bytes as its tailroom runs out.
class Appender {
 public:
  explicit Appender(IOBuf& chain, std::size_t link_capacity = 2048)
      : chain_(chain), link_capacity_(link_capacity) {}

  Status write(const void* data, std::size_t n) {
    if (uint8_t* at = chain_.push_back(n)) {
      std::memcpy(at, data, n);
      return {};
    }
    return chain_.append_copy(data, n, link_capacity_);
  }
  template <class T>
  Status write_be(T v) {
    static_assert(std::is_integral_v<T>);
    if constexpr (std::endian::native != std::endian::big) v = Cursor::byteswap(v);
    return write(&v, sizeof(T));
  }
  template <class T>
  Status write_le(T v) {
    static_assert(std::is_integral_v<T>);
    if constexpr (std::endian::native != std::endian::little) v = Cursor::byteswap(v);
    return write(&v, sizeof(T));
  }

 private:
  IOBuf& chain_;
  std::size_t link_capacity_;
};

}  // namespace ebb::net
