#include "ebbs/net/stack/tcp/segment.h"

namespace ebb::net::stack {

bool parse_tcp_options(const uint8_t* options, std::size_t length, TcpSegment& out) {
  std::size_t i = 0;
  while (i < length) {
    const uint8_t kind = options[i];
    if (kind == tcp::kOptionEnd) break;
    if (kind == tcp::kOptionNop) {
      ++i;
      continue;
    }
    if (i + 1 >= length) return false;
    const uint8_t size = options[i + 1];
    if (size < 2 || size > length - i) return false;
    if (kind == tcp::kOptionMss) {
      if (size != 4) return false;
      out.mss = load16(options + i + 2);
    } else if (kind == tcp::kOptionWindowScale) {
      if (size != 3) return false;
      const uint8_t shift = options[i + 2];
      // RFC 7323 2.3: a shift over 14 is taken as 14.
      out.window_scale = static_cast<int8_t>(shift > tcp::kMaxWindowScale ? tcp::kMaxWindowScale : shift);
    }
    i += size;
  }
  return true;
}

}  // namespace ebb::net::stack
