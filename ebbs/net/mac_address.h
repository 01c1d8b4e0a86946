#pragma once
// MacAddress: a 48-bit Ethernet address.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "runtime/result.h"

namespace ebb::net {

struct MacAddress {
  uint8_t bytes[6] = {};

  static constexpr MacAddress Broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  // A locally administered unicast address made from a number (for devices
  // that have none of their own: TAP, the in-memory wire).
  static constexpr MacAddress Local(uint32_t n) {
    return {{0x02, 0xeb, static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
             static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)}};
  }
  // "aa:bb:cc:dd:ee:ff"; Errc::kInvalidArgument otherwise.
  static Result<MacAddress> Parse(std::string_view text);
  std::string to_string() const;

  bool is_broadcast() const { return *this == Broadcast(); }
  bool is_multicast() const { return (bytes[0] & 1) != 0; }
  bool is_zero() const { return *this == MacAddress{}; }
  friend bool operator==(const MacAddress& a, const MacAddress& b) { return Same(a.bytes, b.bytes); }
  // Six bytes at a and b equal (a frame's address field against ours):
  // two loads each, no call.
  static bool Same(const uint8_t* a, const uint8_t* b) {
    uint32_t a4, b4;
    uint16_t a2, b2;
    std::memcpy(&a4, a, 4);
    std::memcpy(&b4, b, 4);
    std::memcpy(&a2, a + 4, 2);
    std::memcpy(&b2, b + 4, 2);
    return ((a4 ^ b4) | (a2 ^ b2)) == 0;
  }
};

}  // namespace ebb::net
