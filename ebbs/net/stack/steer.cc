#include "ebbs/net/stack/stack.h"

namespace ebb::net::stack {

CoreId steer_frame(const IOBuf& frame, uint32_t cores) {
  // Headers are read with copy_out: a frame may be split anywhere.
  uint8_t h[eth::kHeaderBytes + ip::kMinHeaderBytes + 4];
  if (!frame.copy_out(0, h, eth::kHeaderBytes + ip::kMinHeaderBytes)) return 0;
  const uint16_t type = load16(h + eth::kType);
  if (type == eth::kTypeArp) return kAllCores;
  if (type != eth::kTypeIpv4) return 0;
  const uint8_t* ip = h + eth::kHeaderBytes;
  const uint32_t source = load32(ip + ip::kSource);
  const uint16_t fragment = load16(ip + ip::kFragment);
  if ((fragment & (ip::kMoreFragments | ip::kOffsetMask)) != 0) {
    // Every fragment of a datagram to one core: by its identification.
    return flow_core(source, load16(ip + ip::kId), ip[ip::kProtocol], cores);
  }
  const uint8_t protocol = ip[ip::kProtocol];
  if (protocol != ip::kProtocolTcp && protocol != ip::kProtocolUdp)
    return flow_core(source, 0, 0, cores);
  const uint32_t header = (ip[ip::kVersionIhl] & 0x0f) * 4u;
  uint8_t ports[4];
  if (!frame.copy_out(eth::kHeaderBytes + header, ports, 4)) return 0;
  const uint16_t source_port = load16(ports);
  const uint16_t destination_port = load16(ports + 2);
  if (protocol == ip::kProtocolUdp && destination_port == 68) return 0;  // the DHCP client
  return flow_core(source, source_port, destination_port, cores);
}

}  // namespace ebb::net::stack
