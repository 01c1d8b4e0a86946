#include "ebbs/net/stack/checksum.h"

#include <cstring>

namespace ebb::net::stack {
namespace {

uint16_t fold(uint64_t s) {
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

}  // namespace

void Checksum::add(const uint8_t* data, std::size_t length) {
  // 32-bit little-endian loads into a 64-bit sum: no carry to track for
  // anything shorter than 16 GiB, and two instructions per four bytes.
  uint64_t s = 0;
  const std::size_t total = length;
  while (length >= 16) {
    uint32_t v[4];
    std::memcpy(v, data, 16);
    s += uint64_t{v[0]} + v[1] + v[2] + v[3];
    data += 16;
    length -= 16;
  }
  while (length >= 4) {
    uint32_t v;
    std::memcpy(&v, data, 4);
    s += v;
    data += 4;
    length -= 4;
  }
  if (length >= 2) {
    uint16_t v;
    std::memcpy(&v, data, 2);
    s += v;
    data += 2;
    length -= 2;
  }
  if (length == 1) s += data[0];  // the high byte of a big-endian word: low byte here
  // A piece that starts at an odd position has its bytes in the other
  // halves of the words (RFC 1071 2(B) again).
  if (odd_) sum_ += __builtin_bswap16(fold(s));
  else sum_ += s;
  if ((total & 1) != 0) odd_ = !odd_;
}

uint16_t Checksum::finish() const { return static_cast<uint16_t>(~__builtin_bswap16(fold(sum_))); }

}  // namespace ebb::net::stack
