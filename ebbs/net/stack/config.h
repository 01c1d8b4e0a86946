#pragma once
// Configuration of the own stack: the interface's addresses and the TCP
// parameters. Defaults follow the RFCs and Linux where the RFCs leave room;
// tests shrink the timers.

#include <cstdint>

namespace ebb::net::stack {

// An IPv4 interface: its address, prefix length and default gateway (0:
// none, only the local subnet is reachable).
struct InterfaceConfig {
  uint32_t ip = 0;
  uint8_t prefix = 24;
  uint32_t gateway = 0;

  uint32_t netmask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool on_link(uint32_t address) const { return ((address ^ ip) & netmask()) == 0; }
  uint32_t subnet_broadcast() const { return ip | ~netmask(); }
};

struct ArpConfig {
  uint32_t max_entries = 1024;
  uint64_t lifetime_ns = 60'000'000'000;  // a learnt address is trusted this long
  uint64_t retry_ns = 1'000'000'000;      // between requests for one address
  uint32_t requests = 3;                  // then the packets waiting for it are dropped
  uint32_t max_waiting_per_address = 16;  // packets queued awaiting resolution
  uint32_t max_waiting = 256;             // in all
};

struct TcpConfig {
  // RFC 6298: the initial RTO is 1 s; the minimum follows Linux (200 ms).
  uint64_t initial_rto_ns = 1'000'000'000;
  uint64_t min_rto_ns = 200'000'000;
  uint64_t max_rto_ns = 60'000'000'000;
  uint32_t max_retransmits = 15;  // of one segment, then the connection times out
  uint32_t syn_retries = 6;
  uint64_t delayed_ack_ns = 40'000'000;  // RFC 1122 allows up to 500 ms
  uint64_t time_wait_ns = 60'000'000'000;  // 2 MSL
  uint64_t fin_wait2_ns = 60'000'000'000;  // an orphan waits this long for the peer's FIN
  uint32_t max_time_wait = 8192;           // per core; the oldest is recycled past it
  uint32_t receive_buffer = 1u << 20;      // the most unread data a connection holds
  uint32_t max_half_open = 1024;           // per listener: the SYN-flood bound
  uint32_t max_connections = 65536;        // per core
  uint32_t initial_window_segments = 10;   // RFC 6928
  // Keepalive (RFC 1122 4.2.3.6), off unless asked.
  bool keepalive = false;
  uint64_t keepalive_idle_ns = 7'200'000'000'000;
  uint64_t keepalive_interval_ns = 75'000'000'000;
  uint32_t keepalive_probes = 9;
};

struct StackConfig {
  InterfaceConfig interface;
  ArpConfig arp;
  TcpConfig tcp;
  uint64_t seed = 0;  // for initial sequence numbers; 0: from the clock
  // The device finishes TCP and UDP checksums of the packets it sends (a
  // NetDevice with checksum_offload(): virtio-net's CSUM): the stack stores
  // only the pseudo-header's sum there. Set by Stack from its device. A UDP
  // datagram sent in fragments still gets its whole checksum here (no
  // device sums across fragments).
  bool checksum_offload = false;
};

}  // namespace ebb::net::stack
