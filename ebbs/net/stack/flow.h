#pragma once
// Which core owns a flow. Every packet of a connection (or a UDP flow) goes
// to the core that a hash of (remote address, remote port, local port)
// picks; a device with one queue hands each frame to that core in software,
// and connect() picks a local port whose hash lands on the calling core.

#include <cstdint>

#include "runtime/core.h"

namespace ebb::net::stack {

inline uint32_t flow_hash(uint32_t remote_ip, uint16_t remote_port, uint16_t local_port) {
  uint64_t x = (uint64_t{remote_ip} << 32) | (uint32_t{remote_port} << 16) | local_port;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

inline CoreId flow_core(uint32_t remote_ip, uint16_t remote_port, uint16_t local_port,
                        uint32_t cores) {
  return static_cast<CoreId>((uint64_t{flow_hash(remote_ip, remote_port, local_port)} * cores) >> 32);
}

}  // namespace ebb::net::stack
