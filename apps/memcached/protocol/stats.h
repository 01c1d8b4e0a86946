#pragma once
// The `stats` groups, written once for every protocol: ASCII prints
// "STAT name value" lines, binary sends one packet per pair.

#include <string_view>

#include "apps/memcached/protocol/context.h"

namespace ebb::memcached {

// Receives one statistic.
using StatSink = void (*)(void* arg, std::string_view name, std::string_view value);

// Emits the group's statistics ("" is the general group; also "settings",
// "items", "slabs", "conns", "cores", "cluster"). False for an unknown group.
bool emit_stats(const Context& context, std::string_view group, StatSink sink, void* arg);

}  // namespace ebb::memcached
