#pragma once
// Cluster-wide EbbIds: [kFirstClusterId, 2^32), the same Ebb on every node.
//
//   [kFirstClusterId, +kWellKnownClusterIds)  fixed ids, named in the source
//       (the toolkit's distributed Ebbs take the first ones, apps the rest);
//   then a block of kClusterIdsPerNode ids per node, which that node alone
//       hands out (IdMap::allocate): no node asks another for an id.
//
// Names resolve to ids through the IdMap (ebbs/messenger/id_map.h).

#include <cstdint>

#include "ebbs/messenger/frame.h"
#include "runtime/ebb_id.h"

namespace ebb::messenger {

inline constexpr EbbId kWellKnownClusterIds = 1024;
inline constexpr EbbId kClusterIdsPerNode = EbbId{1} << 16;
// Node ids a cluster may use: each has a block below 2^32.
inline constexpr NodeId kMaxNodeId =
    static_cast<NodeId>((~EbbId{0} - kFirstClusterId - kWellKnownClusterIds) / kClusterIdsPerNode - 1);

inline constexpr EbbId kIdMapClusterId = kFirstClusterId + 1;
// The first id apps may fix for their own distributed Ebbs.
inline constexpr EbbId kFirstAppClusterId = kFirstClusterId + 64;

constexpr EbbId first_cluster_id_of(NodeId node) {
  return kFirstClusterId + kWellKnownClusterIds + static_cast<EbbId>(node) * kClusterIdsPerNode;
}

constexpr bool is_cluster_id(EbbId id) { return id >= kFirstClusterId; }

}  // namespace ebb::messenger
