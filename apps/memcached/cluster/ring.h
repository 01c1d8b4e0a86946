#pragma once
// Ring: consistent hashing of keys onto the nodes of a cluster. Each node
// holds many points on a 32-bit circle; a key belongs to the first point
// at or after its hash whose node is alive. When a node dies only its own
// keys move (spread over the survivors), and every node that sees the same
// members alive picks the same owner.

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "ebbs/messenger/frame.h"

namespace ebb::memcached {

class Ring {
 public:
  static constexpr uint32_t kPointsPerNode = 128;

  static constexpr std::size_t kMaxMembers = 64;  // views are 64-bit masks
  static constexpr uint32_t kNone = ~0u;

  // Points for each member, placed by its node id (so that every node,
  // whatever order its list has, builds the same circle); owners are
  // named by their index in `nodes`.
  explicit Ring(const std::vector<messenger::NodeId>& nodes);

  // A key's place on the circle: the same in every build and on every machine.
  static uint32_t hash(std::string_view key);
  // The index of the key's owner among the members whose bit is set in
  // `alive`; kNone when none is.
  uint32_t owner(uint32_t key_hash, uint64_t alive) const {
    const std::size_t n = points_.size();
    std::size_t i = first_at_or_after(key_hash);
    for (std::size_t step = 0; step < n; ++step, i = (i + 1) % n)
      if ((alive >> points_[i].second) & 1) return points_[i].second;
    return kNone;
  }

 private:
  std::size_t first_at_or_after(uint32_t h) const;
  std::vector<std::pair<uint32_t, uint32_t>> points_;  // (place, member index), sorted
};

}  // namespace ebb::memcached
