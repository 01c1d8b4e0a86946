#pragma once
// DatagramSocket: the connection API's UDP half, the same for every backend.
// A socket belongs to one core; its handler runs there for each datagram.
//
//   posix::bind_udp(7, [](net::DatagramSocket& s, net::Endpoint from, net::IOBuf data) {
//     (void)s.send_to(from, std::move(data));
//   });

#include "ebbs/net/address.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb::net {

class DatagramSocket {
 public:
  virtual ~DatagramSocket() = default;
  // Sends one datagram. Best effort, as UDP is: Errc::kExhausted when the
  // system has no room for it now (it is dropped, and counted).
  virtual Status send_to(Endpoint to, IOBuf data) = 0;
  virtual Endpoint local() const = 0;
  // Stops receiving and sending on this socket (its core's; a port bound on
  // every core closes with its Listener).
  virtual void close() = 0;
};

using DatagramHandler = Function<void(DatagramSocket& socket, Endpoint from, IOBuf data)>;

}  // namespace ebb::net
