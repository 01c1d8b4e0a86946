#pragma once
// The Internet checksum (RFC 1071): a ones'-complement sum of 16-bit words.
// A sum is accumulated over pieces (a pseudo-header, a header, the links of
// a payload chain) and folded once at the end; pieces of odd length are
// handled by the accumulator, not by the caller.

#include <cstddef>
#include <cstdint>

#include "ebbs/net/iobuf/iobuf.h"
#include "runtime/bytes.h"

namespace ebb::net::stack {

class Checksum {
 public:
  // Adds bytes that follow what was added before in the same stream.
  void add(const uint8_t* data, std::size_t length);
  void add(const IOBuf& chain) {
    chain.for_each_range([this](const uint8_t* data, std::size_t length) { add(data, length); });
  }
  // Adds an IPv4 header without options (20 bytes, at an even position):
  // five words summed inline, for the header every packet has.
  void add_ipv4_header(const uint8_t* h) {
    add_word(uint64_t{load_u32(h)} + load_u32(h + 4) + load_u32(h + 8) + load_u32(h + 12) +
             load_u32(h + 16));
  }
  // Adds a 16-bit or 32-bit value as if its big-endian bytes came next
  // (at an even position: for pseudo-headers, before any odd-length piece).
  void add16(uint16_t v) { add_word(__builtin_bswap16(v)); }
  void add32(uint32_t v) { add_word(__builtin_bswap32(v)); }
  // The checksum to store: the complement of the folded sum.
  uint16_t finish() const { return static_cast<uint16_t>(~__builtin_bswap16(fold(sum_))); }
  // The folded sum itself, for a device that finishes the checksum (it sums
  // the rest of the packet over this and stores the complement): what a
  // TCP or UDP header carries for checksum offload (the pseudo-header's).
  uint16_t partial() const { return __builtin_bswap16(fold(sum_)); }
  // For a received packet summed with its checksum field included: true
  // when the sum checks out.
  bool verifies() const { return finish() == 0; }
  // A 64-bit ones'-complement sum folded to 16 bits, carries added back.
  static uint16_t fold(uint64_t s) {
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
  }

 private:
  void add_word(uint64_t v) { sum_ = add_carry(sum_, v); }
  // A ones'-complement add of 64-bit words: the carry out comes back in at
  // the bottom (an add and an add-with-carry).
  static uint64_t add_carry(uint64_t sum, uint64_t v) {
    uint64_t r;
    const bool carry = __builtin_add_overflow(sum, v, &r);
    return r + carry;
  }
  // The sum of the bytes read as little-endian words (RFC 1071 2(B): the
  // same ones'-complement sum, byte-swapped; finish() swaps it back), in 64
  // bits with end-around carry. Only folded at the end.
  uint64_t sum_ = 0;
  bool odd_ = false;  // an odd number of bytes so far: the next piece is byte-swapped
};

// The TCP and UDP pseudo-header (RFC 9293 3.1, RFC 768) in a Checksum.
inline void add_pseudo_header(Checksum& sum, uint32_t source, uint32_t destination,
                              uint8_t protocol, uint32_t length) {
  sum.add32(source);
  sum.add32(destination);
  sum.add16(protocol);
  sum.add16(static_cast<uint16_t>(length));
}

}  // namespace ebb::net::stack
