#pragma once
// Counters of the Linux-socket backend, per core, written by that core.

#include <cstdint>

#include "runtime/core.h"

namespace ebb::net::posix {

struct NetStats {
  // TCP
  uint64_t accepted = 0;       // connections this core took on from a listener
  uint64_t handed_off = 0;     // accepted here, given to a core with fewer open
  uint64_t connected = 0;
  uint64_t connect_failures = 0;
  uint64_t accept_errors = 0;  // EMFILE, ENFILE, ENOBUFS, ... (the listener pauses briefly)
  uint64_t resets = 0;         // ECONNRESET, EPIPE, ECONNABORTED
  uint64_t other_errors = 0;   // any other failing read, write or socket call
  uint64_t closed = 0;         // connections finished, however
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t reads = 0;   // read system calls
  uint64_t writes = 0;  // writev system calls
  // UDP
  uint64_t datagrams_received = 0;
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_dropped = 0;  // sends refused (EAGAIN, ENOBUFS, ...)
  uint64_t udp_errors = 0;

  NetStats& operator+=(const NetStats& other);
  NetStats& operator-=(const NetStats& other);
};

NetStats net_stats(CoreId core);
NetStats net_stats();  // every core

}  // namespace ebb::net::posix
