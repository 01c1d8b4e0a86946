#pragma once
// memcached's ASCII protocol: storage (set, add, replace, append, prepend,
// cas), retrieval (get, gets, gat, gats), delete, incr/decr, touch,
// flush_all, stats, version, verbosity, quit; lines that start a meta
// command (mg, ms, md, ma, mn, me) go to protocol/meta.h. Replies and error
// strings are memcached 1.6's, byte for byte.

#include <cstddef>

#include "apps/memcached/protocol/context.h"
#include "apps/memcached/protocol/reply.h"

namespace ebb::memcached::ascii {

// A command line longer than this without its end closes the connection
// (memcached's rule), unless it is a multi-key get, which may run up to
// kMaxGetLine.
inline constexpr std::size_t kMaxLine = 2048;
inline constexpr std::size_t kMaxGetLine = std::size_t{1} << 20;

// Handles the one request at the start of [data, data + length) (see
// Handled in context.h).
Handled handle(Context& context, const char* data, std::size_t length, Reply& out);

}  // namespace ebb::memcached::ascii
