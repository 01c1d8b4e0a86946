#pragma once
// EbbId: the one identity of an Ebb, valid on every core (and, later, on every
// node). Ids are dense so that translation tables can be arrays.

#include <cstdint>

namespace ebb {

using EbbId = uint32_t;

inline constexpr EbbId kNullEbbId = 0;
// [1, kStaticIdLimit): ids fixed at compile time in runtime/static_ids.h. Their
// table slots are a fixed thread-local array, so a Ref with a constant static id
// is a single %fs-relative load.
inline constexpr EbbId kStaticIdLimit = 512;
// [kFirstLocalId, kFirstClusterId): node-local ids from the id allocator.
inline constexpr EbbId kFirstLocalId = kStaticIdLimit;
// [kFirstClusterId, ...): cluster-wide ids, handed out in per-node blocks (later).
inline constexpr EbbId kFirstClusterId = 1u << 31;

constexpr bool is_static_id(EbbId id) { return id != kNullEbbId && id < kStaticIdLimit; }
constexpr bool is_local_id(EbbId id) { return id >= kFirstLocalId && id < kFirstClusterId; }

}  // namespace ebb
