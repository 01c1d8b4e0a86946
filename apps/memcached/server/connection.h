#pragma once
// The network side of ebb-memcached: a Session per TCP connection, fed from
// the connection API, and the memcached UDP framing.

#include "apps/memcached/protocol/context.h"
#include "ebbs/net/connection.h"
#include "ebbs/net/datagram.h"

namespace ebb::memcached {

// Serves an accepted connection on the calling core until it closes.
void serve_connection(Server& server, net::Connection connection);

// Answers one datagram: an 8-byte frame header (request id, sequence 0,
// total 1), then requests; replies go back in datagrams of at most
// kUdpDatagramBytes with the same request id.
inline constexpr std::size_t kUdpDatagramBytes = 1400;
void serve_datagram(Server& server, net::DatagramSocket& socket, net::Endpoint from,
                    net::IOBuf data);

}  // namespace ebb::memcached
