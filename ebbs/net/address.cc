#include "ebbs/net/address.h"

#include <cstdio>

namespace ebb::net {
namespace {

// Reads a decimal number of at most `max` from the front of text.
bool take_number(std::string_view& text, uint32_t max, uint32_t& out) {
  std::size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 6) {
    value = value * 10 + static_cast<uint32_t>(text[i] - '0');
    ++i;
  }
  if (i == 0 || value > max) return false;
  out = static_cast<uint32_t>(value);
  text.remove_prefix(i);
  return true;
}

}  // namespace

Result<Endpoint> Endpoint::Parse(std::string_view text) {
  const Error bad(Errc::kInvalidArgument, "not an IPv4 address with an optional :port");
  Endpoint e;
  for (int part = 0; part < 4; ++part) {
    uint32_t byte;
    if (!take_number(text, 255, byte)) return bad;
    e.ip = (e.ip << 8) | byte;
    if (part < 3) {
      if (text.empty() || text.front() != '.') return bad;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) {
    uint32_t port;
    if (text.front() != ':') return bad;
    text.remove_prefix(1);
    if (!take_number(text, 65535, port) || !text.empty()) return bad;
    e.port = static_cast<uint16_t>(port);
  }
  return e;
}

std::string Endpoint::to_string() const {
  char text[32];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
                ip & 0xff, port);
  return text;
}

}  // namespace ebb::net
