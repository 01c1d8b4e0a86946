#pragma once
// Unaligned little-endian loads for code that walks bytes a word at a time
// (checksums, hashes): fixed-size copies the compiler turns into single
// loads, so that no call to memcpy sits in a hot loop.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ebb {

inline uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline uint64_t load_u64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The first n (< 8) bytes at p as a little-endian word, zero above them:
// what a zero-padded 8-byte load would read.
inline uint64_t load_u64_partial(const void* p, std::size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  uint64_t v = 0;
  unsigned shift = 0;
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, b, 4);
    v = w;
    b += 4;
    n -= 4;
    shift = 32;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, b, 2);
    v |= uint64_t{w} << shift;
    b += 2;
    n -= 2;
    shift += 16;
  }
  if (n == 1) v |= uint64_t{b[0]} << shift;
  return v;
}

}  // namespace ebb
