#pragma once
// Endpoint: an IPv4 address and a port, in host byte order.

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/result.h"

namespace ebb::net {

struct Endpoint {
  uint32_t ip = 0;  // 0: any address (for listening)
  uint16_t port = 0;

  static constexpr uint32_t kLoopback = 0x7f000001;  // 127.0.0.1
  // "a.b.c.d:port" or "a.b.c.d" (port 0); Errc::kInvalidArgument otherwise.
  static Result<Endpoint> Parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace ebb::net
