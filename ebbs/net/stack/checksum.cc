#include "ebbs/net/stack/checksum.h"

#include "runtime/bytes.h"

namespace ebb::net::stack {
void Checksum::add(const uint8_t* data, std::size_t length) {
  // 64-bit little-endian loads with end-around carry: about two
  // instructions per eight bytes.
  uint64_t s = 0;
  const std::size_t total = length;
  while (length >= 32) {
    s = add_carry(s, load_u64(data));
    s = add_carry(s, load_u64(data + 8));
    s = add_carry(s, load_u64(data + 16));
    s = add_carry(s, load_u64(data + 24));
    data += 32;
    length -= 32;
  }
  while (length >= 8) {
    s = add_carry(s, load_u64(data));
    data += 8;
    length -= 8;
  }
  // The last 0..7 bytes, as a zero-padded word (a lone last byte is the
  // high byte of a big-endian word: the low byte here).
  if (length != 0) s = add_carry(s, load_u64_partial(data, length));
  // A piece that starts at an odd position has its bytes in the other
  // halves of the words (RFC 1071 2(B) again).
  if (odd_) sum_ = add_carry(sum_, __builtin_bswap16(fold(s)));
  else sum_ = add_carry(sum_, s);
  if ((total & 1) != 0) odd_ = !odd_;
}

}  // namespace ebb::net::stack
