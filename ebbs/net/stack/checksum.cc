#include "ebbs/net/stack/checksum.h"

#include <cstring>

namespace ebb::net::stack {

void Checksum::add(const uint8_t* data, std::size_t length) {
  if (length == 0) return;
  if (odd_) {  // finish the word the previous piece started
    sum_ += data[0];
    ++data;
    --length;
    odd_ = false;
  }
  // Eight bytes at a time: big-endian 16-bit words summed in a 64-bit
  // accumulator. Summing the native (little-endian) words and swapping once
  // at the end gives the same ones'-complement result (RFC 1071 2(B)).
  uint64_t wide = 0;
  while (length >= 8) {
    uint64_t v;
    std::memcpy(&v, data, 8);
    const uint64_t before = wide;
    wide += v;
    wide += wide < before;  // end-around carry
    data += 8;
    length -= 8;
  }
  uint64_t folded = (wide & 0xffffffff) + (wide >> 32);
  folded = (folded & 0xffff) + (folded >> 16);
  folded = (folded & 0xffff) + (folded >> 16);
  folded = (folded & 0xffff) + (folded >> 16);
  sum_ += __builtin_bswap16(static_cast<uint16_t>(folded));
  while (length >= 2) {
    sum_ += static_cast<uint32_t>(data[0] << 8 | data[1]);
    data += 2;
    length -= 2;
  }
  if (length == 1) {
    sum_ += static_cast<uint32_t>(data[0]) << 8;
    odd_ = true;
  }
}

uint16_t Checksum::finish() const {
  uint64_t s = sum_;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

}  // namespace ebb::net::stack
