#include "apps/loadgen/protocol.h"

#include <charconv>
#include <cstdio>

namespace ebb::loadgen {

const char* reply_name(Reply reply) {
  switch (reply) {
    case Reply::kHit:
      return "hit";
    case Reply::kMiss:
      return "miss";
    case Reply::kStored:
      return "stored";
    case Reply::kNotStored:
      return "not_stored";
    case Reply::kError:
      return "error";
  }
  return "?";
}

namespace {

bool starts_with(std::string_view line, std::string_view word) {
  // The word alone or followed by a space: "ERROR" is not "ERRORS".
  return line.size() >= word.size() && line.compare(0, word.size(), word) == 0 &&
         (line.size() == word.size() || line[word.size()] == ' ');
}

// The n-th space-separated field of line (0-based); empty when there is none.
std::string_view field(std::string_view line, int n) {
  std::size_t at = 0;
  for (int i = 0;; ++i) {
    while (at < line.size() && line[at] == ' ')
      ++at;
    const std::size_t end = std::min(line.find(' ', at), line.size());
    if (i == n || at >= line.size()) return line.substr(at, end - at);
    at = end;
  }
}

}  // namespace

bool ReplyParser::on_line(std::string_view line, Reply* out) {
  if (expect_blank_) {
    expect_blank_ = false;
    if (!line.empty()) {
      error_ = "a value's data is not followed by CRLF";
      return false;
    }
    return false;
  }
  if (starts_with(line, "VALUE")) {
    // VALUE <key> <flags> <bytes> [<cas>]
    const std::string_view bytes = field(line, 3);
    uint64_t length = 0;
    const auto [end, ec] = std::from_chars(bytes.data(), bytes.data() + bytes.size(), length);
    if (bytes.empty() || ec != std::errc() || end != bytes.data() + bytes.size() ||
        length > kMaxValue) {
      error_ = "a VALUE line without a readable length";
      return false;
    }
    in_value_ = true;
    expect_blank_ = true;
    data_left_ = length;
    return false;
  }
  if (line == "END") {
    *out = in_value_ ? Reply::kHit : Reply::kMiss;
  } else if (line == "STORED") {
    *out = Reply::kStored;
  } else if (line == "NOT_STORED" || line == "EXISTS" || line == "NOT_FOUND") {
    *out = Reply::kNotStored;
  } else {
    // ERROR, CLIENT_ERROR ..., SERVER_ERROR ..., or a line no server should send.
    *out = Reply::kError;
  }
  in_value_ = false;
  return true;
}

// ---- requests -------------------------------------------------------------------

namespace {

constexpr std::size_t kLinkBytes = 4096;
// Values up to this are copied next to their command; longer ones are a
// link over the shared filler.
constexpr uint32_t kCopyValueBelow = 1024;

const uint8_t* filler() {
  // Built once (a thread-safe static), never freed: every set's value points here.
  static const uint8_t* const bytes = [] {
    auto* b = new uint8_t[kMaxValueSize + 2];
    for (uint32_t i = 0; i < kMaxValueSize; ++i)
      b[i] = static_cast<uint8_t>('a' + i % 26);
    b[kMaxValueSize] = '\r';
    b[kMaxValueSize + 1] = '\n';
    return b;
  }();
  return bytes;
}

Status append(net::IOBuf& out, const void* data, std::size_t n) {
  if (uint8_t* at = out.push_back(n)) {
    std::memcpy(at, data, n);
    return {};
  }
  return out.append_copy(data, n, kLinkBytes);
}

}  // namespace

Status write_get(net::IOBuf& out, std::string_view key) {
  char line[300];
  if (key.size() > 250)
    return Error(Errc::kInvalidArgument, "write_get: key longer than 250 bytes");
  std::memcpy(line, "get ", 4);
  std::memcpy(line + 4, key.data(), key.size());
  std::memcpy(line + 4 + key.size(), "\r\n", 2);
  return append(out, line, key.size() + 6);
}

Status write_set(net::IOBuf& out, std::string_view key, uint32_t value_size) {
  if (key.size() > 250)
    return Error(Errc::kInvalidArgument, "write_set: key longer than 250 bytes");
  if (value_size > kMaxValueSize)
    return Error(Errc::kInvalidArgument, "write_set: value too large");
  char line[300];
  std::memcpy(line, "set ", 4);
  std::memcpy(line + 4, key.data(), key.size());
  const int tail =
      std::snprintf(line + 4 + key.size(), sizeof line - 4 - key.size(), " 0 0 %u\r\n", value_size);
  Status s = append(out, line, 4 + key.size() + static_cast<std::size_t>(tail));
  if (!s) return s;
  const uint8_t* value = filler() + (kMaxValueSize - value_size);  // ends with CRLF
  if (value_size < kCopyValueBelow) return append(out, value, value_size + 2);
  Result<net::IOBuf> link = net::IOBuf::WrapUnowned(value, value_size + 2);
  if (!link) return link.error();
  out.append(std::move(*link));
  return {};
}

}  // namespace ebb::loadgen
