#pragma once
// Reply: what a protocol handler writes its answers into: the end of an
// IOBuf chain that the session sends once per batch of requests, so that
// pipelined requests cost one write between them.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "apps/memcached/store/number.h"
#include "ebbs/net/iobuf/iobuf.h"

namespace ebb::memcached {

class Reply {
 public:
  // A batch starts in a small link (most are one short reply), and grows in
  // links big enough for many; a large value gets a link of its own size.
  static constexpr std::size_t kFirstLinkBytes = 2 << 10;
  static constexpr std::size_t kLinkBytes = 16 << 10;

  explicit Reply(net::IOBuf& out) : out_(out) {}

  void write(const void* data, std::size_t n) {
    if (n == 0) return;
    if (uint8_t* at = out_.push_back(n)) {
      std::memcpy(at, data, n);
      return;
    }
    const std::size_t link = out_.length() < kFirstLinkBytes ? kFirstLinkBytes : kLinkBytes;
    if (!out_.append_copy(data, n, link)) failed_ = true;
  }
  void write(std::string_view text) { write(text.data(), text.size()); }
  // n contiguous bytes at the end for the caller to fill (one bounds check
  // for a whole reply line); null, with failed() set, when memory ran out.
  uint8_t* claim(std::size_t n) {
    if (uint8_t* at = out_.push_back(n)) return at;
    const std::size_t link = out_.length() < kFirstLinkBytes ? kFirstLinkBytes : kLinkBytes;
    auto more = net::IOBuf::Create(n > link ? n : link);
    if (!more) {
      failed_ = true;
      return nullptr;
    }
    out_.append(std::move(*more));
    return out_.push_back(n);
  }
  void write_char(char c) { write(&c, 1); }
  void write_decimal(uint64_t v) {
    char digits[kMaxDecimalDigits];
    write(digits, format_decimal(v, digits));
  }
  // Big-endian integers for the binary protocol.
  template <class T>
  void write_be(T v) {
    uint8_t bytes[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i)
      bytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * (sizeof(T) - 1 - i)));
    write(bytes, sizeof(T));
  }

  std::size_t length() const { return out_.length(); }
  // Drops what was written after `length` (a quiet binary reply that turned
  // out unneeded).
  void truncate(std::size_t length) { out_.trim_back(out_.length() - length); }
  // Memory ran out while writing: the reply is incomplete; the session
  // closes the connection rather than send it.
  bool failed() const { return failed_; }

 private:
  net::IOBuf& out_;
  bool failed_ = false;
};

}  // namespace ebb::memcached
