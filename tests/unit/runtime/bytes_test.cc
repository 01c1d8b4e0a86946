// runtime/bytes.h: the partial little-endian load reads exactly the bytes
// it is given, and copy_bytes copies every length without touching a byte
// beside its target, at every alignment.

#include "runtime/bytes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace ebb {
namespace {

TEST(Bytes, PartialLoadReadsTheFirstNBytesZeroAbove) {
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(0xa1 + i);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t n = 0; n < 8; ++n) {
      uint64_t expected = 0;
      for (std::size_t i = 0; i < n; ++i) expected |= uint64_t{bytes[offset + i]} << (8 * i);
      EXPECT_EQ(load_u64_partial(bytes + offset, n), expected) << offset << " " << n;
    }
  }
  EXPECT_EQ(load_u64(bytes), load_u64_partial(bytes, 7) | uint64_t{bytes[7]} << 56);
  EXPECT_EQ(load_u32(bytes + 1), static_cast<uint32_t>(load_u64_partial(bytes + 1, 4)));
}

TEST(Bytes, CopyBytesCopiesEveryLengthAndNothingBeside) {
  uint8_t source[64];
  for (int i = 0; i < 64; ++i) source[i] = static_cast<uint8_t>(i * 7 + 1);
  for (std::size_t n = 0; n <= 40; ++n) {
    for (std::size_t at = 0; at < 8; ++at) {
      uint8_t target[64];
      std::memset(target, 0xee, sizeof target);
      copy_bytes(target + 8 + at, source + at, n);
      for (std::size_t i = 0; i < sizeof target; ++i) {
        const bool inside = i >= 8 + at && i < 8 + at + n;
        ASSERT_EQ(target[i], inside ? source[i - 8] : 0xee) << "n=" << n << " at=" << at << " i=" << i;
      }
    }
  }
}

}  // namespace
}  // namespace ebb
