#pragma once
// memcached's ASCII protocol, the client's half: requests written into an
// IOBuf, and a parser for the stream of replies that comes back.
//
//   get K\r\n              -> VALUE K FLAGS N [CAS]\r\n<N bytes>\r\nEND\r\n  (a hit)
//                             END\r\n                                     (a miss)
//   set K 0 0 N\r\n<data>\r\n -> STORED\r\n (or NOT_STORED, EXISTS, NOT_FOUND)
//   anything               -> ERROR\r\n, CLIENT_ERROR msg\r\n, SERVER_ERROR msg\r\n
//
// Replies come in the order of the requests, so the parser only says what
// each reply was; the connection pairs it with its oldest outstanding
// request. The parser takes the stream in pieces cut anywhere (TCP keeps no
// message boundaries). A line it does not know counts as an error reply, so
// a misbehaving server shows up in the error count; only a stream that
// cannot be followed any more (a VALUE header without a readable length, a
// line past kMaxLine bytes, data not followed by CRLF) stops it.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ebbs/net/iobuf/iobuf.h"
#include "runtime/result.h"

namespace ebb::loadgen {

enum class Reply : uint8_t { kHit, kMiss, kStored, kNotStored, kError };

const char* reply_name(Reply reply);

class ReplyParser {
 public:
  static constexpr std::size_t kMaxLine = 4096;
  static constexpr uint64_t kMaxValue = uint64_t{1} << 30;

  // Takes the next n bytes of the stream and calls on_reply(Reply) for every
  // reply they complete, in order. False once the stream is broken (then
  // error() says why, and later calls do nothing).
  template <class F>
  bool feed(const uint8_t* data, std::size_t n, F&& on_reply);

  bool broken() const { return error_ != nullptr; }
  const char* error() const { return error_; }
  // Inside a reply (part of it has come): for tests and for a clean close.
  bool mid_reply() const {
    return in_value_ || data_left_ != 0 || expect_blank_ || !partial_.empty();
  }

 private:
  // One whole line, CRLF removed: true (and *out) when it completes a reply.
  bool on_line(std::string_view line, Reply* out);

  bool in_value_ = false;      // a get reply had its VALUE line; END comes later
  bool expect_blank_ = false;  // a value's data ends with CRLF: an empty line
  uint64_t data_left_ = 0;     // bytes of a value still to skip
  std::string partial_;        // a line cut by the end of a piece
  const char* error_ = nullptr;
};

template <class F>
bool ReplyParser::feed(const uint8_t* data, std::size_t n, F&& on_reply) {
  const uint8_t* p = data;
  const uint8_t* const end = data + n;
  while (p < end && error_ == nullptr) {
    if (data_left_ != 0) {  // a value's bytes: nothing in them matters
      const auto here = static_cast<uint64_t>(end - p);
      const uint64_t take = here < data_left_ ? here : data_left_;
      p += take;
      data_left_ -= take;
      continue;
    }
    const auto* newline =
        static_cast<const uint8_t*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const std::size_t length = static_cast<std::size_t>((newline != nullptr ? newline : end) - p);
    if (partial_.size() + length > kMaxLine) {
      error_ = "a reply line longer than 4096 bytes";
      break;
    }
    if (newline == nullptr) {
      partial_.append(reinterpret_cast<const char*>(p), length);
      break;
    }
    std::string_view line(reinterpret_cast<const char*>(p), length);
    if (!partial_.empty()) {
      partial_.append(line);
      line = partial_;
    }
    p = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Reply reply;
    const bool complete = on_line(line, &reply);
    partial_.clear();
    if (complete) on_reply(reply);
  }
  return error_ == nullptr;
}

// Requests, appended to `out` (its tailroom first, then new links).
Status write_get(net::IOBuf& out, std::string_view key);
// The value is `value_size` filler bytes; large ones are appended without a copy.
Status write_set(net::IOBuf& out, std::string_view key, uint32_t value_size);
// The most a set may carry.
inline constexpr uint32_t kMaxValueSize = 1u << 20;

}  // namespace ebb::loadgen
