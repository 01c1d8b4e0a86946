#pragma once
// TcpSegment: a received segment, its header parsed and checked, its
// payload the bytes after the header (sharing the frame's buffer).

#include <cstddef>
#include <cstdint>

#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/stack/wire_format.h"

namespace ebb::net::stack {

struct TcpSegment {
  uint32_t source_ip = 0;
  uint16_t source_port = 0, destination_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;   // as sent (unscaled)
  uint16_t mss = 0;      // the MSS option; 0: absent
  int8_t window_scale = -1;  // the window-scale option; -1: absent
  IOBuf payload;

  bool has(uint8_t flag) const { return (flags & flag) != 0; }
  // Sequence space the segment occupies: its data, SYN and FIN.
  uint32_t length() const {
    return static_cast<uint32_t>(payload.length()) + (has(tcp::kSyn) ? 1 : 0) +
           (has(tcp::kFin) ? 1 : 0);
  }
};

// Reads the options of a header (the bytes after the fixed 20). False when
// an option is malformed: a length under 2 or past the end, an MSS or
// window scale of the wrong length. Unknown options are skipped.
bool parse_tcp_options(const uint8_t* options, std::size_t length, TcpSegment& out);

}  // namespace ebb::net::stack
