#pragma once
// StackCounters: what one core's stack saw, and above all what it dropped
// and why. Every class of bad input has a counter of its own, so a test
// (and a user reading stats) can tell a hostile packet from a lost one.

#include <cstdint>

namespace ebb::net::stack {

struct StackCounters {
  // Ethernet
  uint64_t frames_in = 0, frames_out = 0, bytes_in = 0, bytes_out = 0;
  uint64_t runt_frames = 0;      // shorter than an Ethernet header
  uint64_t not_for_us = 0;       // another station's unicast, or a multicast
  uint64_t unknown_ethertype = 0;
  uint64_t device_full = 0;      // the device refused a frame (dropped)
  // ARP
  uint64_t arp_malformed = 0, arp_requests_in = 0, arp_replies_in = 0;
  uint64_t arp_requests_out = 0, arp_replies_out = 0;
  uint64_t arp_unresolved = 0;   // packets dropped: no answer after every request
  uint64_t arp_queue_full = 0;   // packets dropped: too many awaiting resolution
  // IPv4
  uint64_t ip_bad_header = 0;    // version, header length or total length lies
  uint64_t ip_bad_checksum = 0;
  uint64_t ip_not_for_us = 0;
  uint64_t ip_unknown_protocol = 0;
  uint64_t ip_no_route = 0;      // off-link destination and no gateway
  uint64_t ip_fragments_out = 0;
  // ICMP
  uint64_t icmp_echo_requests = 0, icmp_malformed = 0, icmp_bad_checksum = 0;
  // UDP
  uint64_t udp_in = 0, udp_out = 0, udp_malformed = 0, udp_bad_checksum = 0, udp_no_port = 0;
  // TCP
  uint64_t tcp_segments_in = 0, tcp_segments_out = 0;
  uint64_t tcp_malformed = 0;     // data offset or length lies
  uint64_t tcp_bad_checksum = 0;
  uint64_t tcp_bad_options = 0;   // an option whose length runs past the header, ...
  uint64_t tcp_no_connection = 0; // answered with a reset (RFC 9293 3.10.7.1)
  uint64_t tcp_syn_queue_full = 0;  // SYNs dropped: a listener's half-open bound
  uint64_t tcp_too_many = 0;      // SYNs dropped: max_connections
  uint64_t tcp_out_of_window = 0; // unacceptable segments (acknowledged, dropped)
  uint64_t tcp_challenge_acks = 0;  // RFC 5961 for in-window RST and SYN
  uint64_t tcp_bad_acks = 0;      // acknowledging what was never sent
  uint64_t tcp_resets_in = 0, tcp_resets_out = 0;
  uint64_t tcp_retransmits = 0, tcp_fast_retransmits = 0, tcp_timeouts = 0;
  uint64_t tcp_window_probes = 0, tcp_keepalive_probes = 0;
  uint64_t tcp_accepted = 0, tcp_connected = 0, tcp_closed = 0;
  uint64_t tcp_time_wait_recycled = 0;
  uint64_t tcp_out_of_order = 0;  // segments queued ahead of a gap
  uint64_t tcp_duplicates = 0;    // data already received
  // IPv4 reassembly (from the Reassembler)
  uint64_t fragments_in = 0, reassembled = 0, fragment_drops = 0;

  StackCounters& operator+=(const StackCounters& other);
};

}  // namespace ebb::net::stack
