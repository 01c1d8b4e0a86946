#pragma once
// Decimal numbers as memcached reads and writes them: strict parsers for the
// classic commands' fields (no sign where none belongs, no overflow, nothing
// after the digits), and memcached's own lenient readings.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ebb::memcached {

inline constexpr std::size_t kMaxDecimalDigits = 20;  // UINT64_MAX

// Writes v's digits to out (at least kMaxDecimalDigits bytes); their count.
inline std::size_t format_decimal(uint64_t v, char* out) {
  if (v < 10) {  // flags are mostly 0
    out[0] = static_cast<char>('0' + v);
    return 1;
  }
  if (v < 100) {  // and many values short
    out[0] = static_cast<char>('0' + v / 10);
    out[1] = static_cast<char>('0' + v % 10);
    return 2;
  }
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

// ---- memcached's own readings (its safe_strto* wrappers of C's strto*) ----
// The meta protocol's numbers and the values incr/decr count are read this
// way, leniencies included: leading white space, a sign, and anything after
// a white space character. (The classic commands' fields use the strict
// parsers above: see tests/conformance/ascii_cases.txt.)

struct CNumber {
  bool ok = false;  // digits, then the end or white space
  bool negative = false;
  bool overflow = false;  // past 64 bits (strto*'s ERANGE)
  uint64_t magnitude = 0;
};

inline bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

inline CNumber scan_c_number(std::string_view text) {
  CNumber n;
  std::size_t i = 0;
  while (i < text.size() && is_c_space(text[i])) ++i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) n.negative = text[i++] == '-';
  const std::size_t digits = i;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<uint64_t>(text[i] - '0');
    if (n.magnitude > (UINT64_MAX - digit) / 10) n.overflow = true;
    else n.magnitude = n.magnitude * 10 + digit;
  }
  n.ok = i > digits && (i == text.size() || is_c_space(text[i]));
  return n;
}

// The bits strtoul/strtoull return: a negative number wraps.
inline uint64_t c_bits(const CNumber& n) { return n.negative ? 0 - n.magnitude : n.magnitude; }

// safe_strtoull: a negative number is refused, but "-0" is 0. A stored
// counter reads this way ("12 " and "+12" count as 12).
inline bool parse_strtoull(std::string_view text, uint64_t* out) {
  const CNumber n = scan_c_number(text);
  if (!n.ok || n.overflow) return false;
  const uint64_t bits = c_bits(n);
  if (n.negative && static_cast<int64_t>(bits) < 0) return false;
  *out = bits;
  return true;
}

// safe_strtoul: the same, then cut to 32 bits (F4294967296 is 0).
inline bool parse_strtoul(std::string_view text, uint32_t* out) {
  uint64_t v = 0;
  if (!parse_strtoull(text, &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// safe_strtol: a long, stored into an int32_t without a range check (so
// T99999999999 is a time in 2008, as memcached reads it).
inline bool parse_strtol32(std::string_view text, int32_t* out) {
  const CNumber n = scan_c_number(text);
  const uint64_t limit = n.negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (!n.ok || n.overflow || n.magnitude > limit) return false;
  *out = static_cast<int32_t>(static_cast<uint32_t>(c_bits(n)));
  return true;
}

}  // namespace ebb::memcached
