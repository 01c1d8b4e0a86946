#include "apps/memcached/cluster/ring.h"

#include <algorithm>

#include "runtime/hash.h"

namespace ebb::memcached {
Ring::Ring(const std::vector<messenger::NodeId>& nodes) {
  for (uint32_t index = 0; index < nodes.size() && index < kMaxMembers; ++index)
    for (uint32_t i = 0; i < kPointsPerNode; ++i)
      points_.emplace_back(mix32(mix32(nodes[index] * 0x9e3779b1u + 1) ^ (i * 0x7feb352du + 0x3c6ef372u)), index);
  std::sort(points_.begin(), points_.end());
}

uint32_t Ring::hash(std::string_view key) { return mix32(fnv1a(key)); }

std::size_t Ring::first_at_or_after(uint32_t h) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), std::make_pair(h, uint32_t{0}));
  return it == points_.end() ? 0 : static_cast<std::size_t>(it - points_.begin());
}

}  // namespace ebb::memcached
