#pragma once
// memcached's binary protocol (deprecated upstream since 1.6, still served):
// 24-byte big-endian headers, an opcode per command with quiet variants
// that reply only when something went wrong (or, for gets, on a hit).
// memcached 1.6's proto_bin.c is the reference for every status and text.

#include <cstddef>
#include <cstdint>

#include "apps/memcached/protocol/context.h"
#include "apps/memcached/protocol/reply.h"

namespace ebb::memcached::binary {

inline constexpr uint8_t kRequestMagic = 0x80;
inline constexpr uint8_t kResponseMagic = 0x81;
inline constexpr std::size_t kHeaderBytes = 24;

// Handles the request at the start of [data, data + length) and appends its
// replies to `out`. Asks for more input (consumed == 0, need == the bytes
// the request needs) until the whole request is there, except when its
// body could never be accepted: then it replies at once and swallows the
// body as it arrives, so the session never buffers it. A malformed request
// (wrong magic, lengths that do not fit the opcode) closes the connection,
// as memcached does.
Handled handle(Context& context, const uint8_t* data, std::size_t length, Reply& out);

}  // namespace ebb::memcached::binary
