#include "apps/memcached/cluster/ring.h"

#include <algorithm>

namespace ebb::memcached {
namespace {

// murmur3's finaliser: spreads close inputs over the whole circle.
uint32_t mix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

}  // namespace

Ring::Ring(const std::vector<messenger::NodeId>& nodes) {
  for (uint32_t index = 0; index < nodes.size() && index < kMaxMembers; ++index)
    for (uint32_t i = 0; i < kPointsPerNode; ++i)
      points_.emplace_back(mix(mix(nodes[index] * 0x9e3779b1u + 1) ^ (i * 0x7feb352du + 0x3c6ef372u)), index);
  std::sort(points_.begin(), points_.end());
}

uint32_t Ring::hash(std::string_view key) {
  uint32_t h = 2166136261u;  // FNV-1a, then mixed
  for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return mix(h);
}

std::size_t Ring::first_at_or_after(uint32_t h) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), std::make_pair(h, uint32_t{0}));
  return it == points_.end() ? 0 : static_cast<std::size_t>(it - points_.begin());
}

}  // namespace ebb::memcached
