#pragma once
// Decimal numbers as memcached reads and writes them: strict parsers for
// protocol fields (no sign where none belongs, no overflow, nothing after the
// digits) and the lenient one incr/decr apply to stored values.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ebb::memcached {

inline constexpr std::size_t kMaxDecimalDigits = 20;  // UINT64_MAX

// Writes v's digits to out (at least kMaxDecimalDigits bytes); their count.
inline std::size_t format_decimal(uint64_t v, char* out) {
  char reversed[kMaxDecimalDigits];
  std::size_t n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i) out[i] = reversed[n - 1 - i];
  return n;
}

// One or more digits and nothing else, within uint64_t.
inline bool parse_u64(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > kMaxDecimalDigits) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

inline bool parse_u32(std::string_view text, uint32_t* out) {
  uint64_t v = 0;
  if (!parse_u64(text, &v) || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// An optional '-' then digits, within [min, max].
inline bool parse_i64(std::string_view text, int64_t min, int64_t max, int64_t* out) {
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  uint64_t magnitude = 0;
  if (!parse_u64(text, &magnitude)) return false;
  if (negative) {
    if (magnitude > static_cast<uint64_t>(-(min + 1)) + 1) return false;
    *out = magnitude == 0 ? 0 : -static_cast<int64_t>(magnitude - 1) - 1;
  } else {
    if (magnitude > static_cast<uint64_t>(max)) return false;
    *out = static_cast<int64_t>(magnitude);
  }
  return true;
}

// A stored counter, read the way memcached reads it (strtoull): optional
// leading white space and '+', digits within uint64_t, then the end or white space
// (anything after that is ignored: "1 2" counts as 1).
inline bool parse_counter(std::string_view value, uint64_t* out) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  std::size_t i = 0;
  while (i < value.size() && space(value[i])) ++i;
  if (i < value.size() && value[i] == '+') ++i;
  std::size_t end = i;
  while (end < value.size() && value[end] >= '0' && value[end] <= '9') ++end;
  if (end < value.size() && !space(value[end])) return false;
  return parse_u64(value.substr(i, end - i), out);
}

}  // namespace ebb::memcached
