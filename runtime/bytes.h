#pragma once
// Unaligned little-endian loads for code that walks bytes a word at a time
// (checksums, hashes): fixed-size copies the compiler turns into single
// loads, so that no call to memcpy sits in a hot loop. And big-endian
// (network order) loads and stores for wire formats: packet headers,
// memcached's binary protocol, the Messenger's frames.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ebb {

inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline void store16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void store32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void store64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

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

// Copies n bytes. A short copy (under 17 bytes: a key, a number) is two
// overlapping loads and stores, with neither a call nor a byte loop.
inline void copy_bytes(void* to, const void* from, std::size_t n) {
  auto* d = static_cast<uint8_t*>(to);
  const auto* s = static_cast<const uint8_t*>(from);
  if (n > 16) {
    std::memcpy(d, s, n);
  } else if (n >= 8) {
    const uint64_t head = load_u64(s), tail = load_u64(s + n - 8);
    std::memcpy(d, &head, 8);
    std::memcpy(d + n - 8, &tail, 8);
  } else if (n >= 4) {
    const uint32_t head = load_u32(s), tail = load_u32(s + n - 4);
    std::memcpy(d, &head, 4);
    std::memcpy(d + n - 4, &tail, 4);
  } else if (n != 0) {
    const uint8_t first = s[0], middle = s[n / 2], last = s[n - 1];
    d[0] = first;
    d[n / 2] = middle;
    d[n - 1] = last;
  }
}

}  // namespace ebb
