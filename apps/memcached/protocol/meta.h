#pragma once
// memcached 1.6's meta commands: mg (get), ms (set), md (delete), ma
// (arithmetic), mn (no-op) and me (debug). They answer with two-letter codes
// (HD, VA, EN, NS, EX, NF, MN, ME) followed by the flags the request asked
// for, in the request's order.
//
// The replies are byte for byte those of memcached 1.6.18, errors included,
// with two additions from later 1.6 releases that the store supports: E (set
// the new item's CAS) on ms and ma, x (empty the value, keep the item) on md,
// and N (vivify on miss) in ms's append and prepend modes.

#include <cstddef>
#include <string_view>

#include "apps/memcached/protocol/context.h"
#include "apps/memcached/protocol/reply.h"

namespace ebb::memcached::meta {

// Handles one meta command at the start of [data, data + length);
// data[newline] == '\n' ends its command line (the ASCII handler has found it
// and checked that the line starts with "m"). For ms the value block (the
// command's <datalen> bytes, then "\r\n") follows the line: while it has not
// all arrived the result is {consumed = 0, need = the whole request's length}.
// A refused ms value that is not there yet is skipped with `swallow`.
Handled handle(Context& context, const char* data, std::size_t length, std::size_t newline,
               Reply& out);

// The b flag's base64, decoded like memcached's decoder, whose leniency
// clients may rely on: characters outside the alphabet are skipped, the
// digits must come in whole groups of four, and a group with padding ends
// the input. The bytes written to out (room for 3/4 of in); 0: not base64.
std::size_t base64_decode(std::string_view in, char* out);

}  // namespace ebb::memcached::meta
