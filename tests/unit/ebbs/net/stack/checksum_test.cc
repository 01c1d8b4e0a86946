// The Internet checksum against a plain RFC 1071 sum, over pieces cut at
// every point (odd-length pieces put the next piece's bytes in the other
// halves of the words) and with a pseudo-header in front.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ebbs/net/stack/checksum.h"

namespace ebb::net::stack {
namespace {

// RFC 1071 as written: 16-bit big-endian words, carries folded back.
uint16_t reference(const std::vector<uint8_t>& bytes, uint32_t pseudo = 0) {
  uint64_t sum = (pseudo >> 16) + (pseudo & 0xffff);
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    const uint32_t high = bytes[i];
    const uint32_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    sum += high << 8 | low;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> bytes_of(std::size_t n, uint32_t seed) {
  std::vector<uint8_t> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 2654435761u + seed) >> 11);
  return b;
}

TEST(Checksum, AgreesWithRfc1071AtEveryLengthAndEveryCut) {
  for (std::size_t n = 0; n <= 70; ++n) {
    const std::vector<uint8_t> b = bytes_of(n, static_cast<uint32_t>(n));
    for (std::size_t cut = 0; cut <= n; ++cut) {
      for (std::size_t second = cut; second <= n; second += 3) {
        Checksum sum;
        sum.add(b.data(), cut);
        sum.add(b.data() + cut, second - cut);
        sum.add(b.data() + second, n - second);
        ASSERT_EQ(sum.finish(), reference(b)) << n << " bytes cut at " << cut << " and " << second;
      }
    }
  }
}

TEST(Checksum, APseudoHeaderAndAChainOfOddLinks) {
  const std::vector<uint8_t> b = bytes_of(1500, 7);
  IOBuf chain;
  for (std::size_t at = 0; at < b.size();) {
    const std::size_t n = std::min<std::size_t>(b.size() - at, 1 + at % 13);
    chain.append(IOBuf::CopyOf(b.data() + at, n).value());
    at += n;
  }
  Checksum sum;
  sum.add32(0xc6120001);
  sum.add(chain);
  EXPECT_EQ(sum.finish(), reference(b, 0xc6120001));
}

TEST(Checksum, APacketWithItsOwnChecksumVerifies) {
  std::vector<uint8_t> b = bytes_of(61, 3);
  b[10] = b[11] = 0;
  const uint16_t c = reference(b);
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  Checksum sum;
  sum.add(b.data(), b.size());
  EXPECT_TRUE(sum.verifies());
  b[20] ^= 1;
  Checksum broken;
  broken.add(b.data(), b.size());
  EXPECT_FALSE(broken.verifies());
}

// Checksum offload: the stack stores the pseudo-header's sum (partial());
// the device sums the segment over it from the checksum's start and stores
// the complement. The result is what the stack would have stored itself.
TEST(Checksum, APartialSumFinishedByTheDeviceIsTheWholeChecksum) {
  for (std::size_t length : {20u, 21u, 61u, 1480u}) {
    std::vector<uint8_t> segment = bytes_of(length, static_cast<uint8_t>(length));
    segment[16] = segment[17] = 0;  // TCP's checksum field
    Checksum whole;
    add_pseudo_header(whole, 0xc6120002, 0xc6120001, 6, static_cast<uint32_t>(length));
    whole.add(segment.data(), segment.size());
    const uint16_t expected = whole.finish();

    Checksum pseudo;
    add_pseudo_header(pseudo, 0xc6120002, 0xc6120001, 6, static_cast<uint32_t>(length));
    const uint16_t partial = pseudo.partial();
    segment[16] = static_cast<uint8_t>(partial >> 8);
    segment[17] = static_cast<uint8_t>(partial);
    Checksum device;  // virtio: from csum_start to the end, then the complement
    device.add(segment.data(), segment.size());
    EXPECT_EQ(device.finish(), expected) << length;
  }
}

}  // namespace
}  // namespace ebb::net::stack
