#pragma once
// Hashes that must come out the same in every build and on every machine
// (std::hash promises neither): what nodes of a cluster agree on, names
// that pick a MAC address.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ebb {

inline constexpr uint32_t kFnvBasis = 2166136261u;

// FNV-1a over bytes, continuing from `h` (kFnvBasis to start).
constexpr uint32_t fnv1a(const uint8_t* bytes, std::size_t n, uint32_t h = kFnvBasis) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * 16777619u;
  return h;
}
constexpr uint32_t fnv1a(std::string_view text, uint32_t h = kFnvBasis) {
  for (char c : text) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}

// murmur3's finaliser: spreads close inputs over all 32 bits.
constexpr uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

}  // namespace ebb
