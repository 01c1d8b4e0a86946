#pragma once
// Reassembler: puts IPv4 fragments back together (RFC 791, RFC 815), within
// limits, because fragments are the cheapest way to make a host hold memory.
//
// A datagram is keyed by (source, destination, protocol, identification).
// Limits: datagrams in progress, bytes held in all of them, fragments per
// datagram, and a timeout after the first fragment; whatever passes a limit
// is dropped and counted, never grown. Overlaps: a fragment that repeats
// bytes already held exactly (same offset and length) is a harmless
// duplicate and ignored; any other overlap discards the whole datagram, as
// Linux does since 2018 (overlaps are an attack, not a network's doing).
//
// The finer points, each a choice made on purpose:
//  - A full table refuses a new datagram's fragment (over_limit) rather than
//    evict the oldest: with eviction, a flood of fresh keys would flush every
//    honest datagram before it completes; refused, those already in progress
//    still complete and the table frees itself at the timeout (Linux, too,
//    refuses new queues above its memory threshold).
//  - A fragment of a datagram in progress refused by max_bytes or
//    max_fragments discards that datagram: IP never resends one fragment, so
//    the datagram could not complete and would only hold memory until its
//    timeout. over_limit counts the fragment once.
//  - After a datagram is discarded (overlap, malformed, limit, timeout) or
//    completed, a later fragment with its key starts a new attempt, which
//    times out or is discarded in turn; no tombstone is kept.
//  - A fragment contradicting its datagram's end (a second last fragment
//    with another end, data past the known end, a last fragment ending before
//    data held) is malformed and discards the datagram; a fragment malformed
//    on its own (end past 65535, offset not a multiple of 8, a non-final
//    fragment empty or not a multiple of 8, an empty final one past offset
//    0) is dropped and leaves its datagram alone.
//  - Offset 0 with more_fragments clear is a whole datagram, not a fragment:
//    add() hands it back at once and touches no state (reassembled does not
//    count it).
//  - Deadlines are reached at their instant (now_ns >= deadline), and add()
//    expires what is due before it looks at the fragment, so a stale
//    datagram is never completed or kept past its deadline for lack of an
//    expire() call.
//  - max_bytes bounds the payload bytes held; the buffers under them may be
//    larger (a 2 KiB receive buffer holding 8 bytes), which max_datagrams x
//    max_fragments bounds.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "ebbs/net/iobuf/iobuf.h"

namespace ebb::net::stack {

struct FragmentKey {
  uint32_t source = 0;
  uint32_t destination = 0;
  uint16_t id = 0;
  uint8_t protocol = 0;
  friend bool operator==(const FragmentKey&, const FragmentKey&) = default;
};

struct ReassemblyLimits {
  std::size_t max_datagrams = 64;                // in progress at once
  std::size_t max_bytes = std::size_t{4} << 20;  // payload held, all datagrams
  std::size_t max_fragments = 64;                // per datagram
  uint64_t timeout_ns = 30'000'000'000;          // after a datagram's first fragment
};

struct ReassemblyCounters {
  uint64_t fragments = 0;    // offered to add()
  uint64_t reassembled = 0;  // datagrams completed
  uint64_t duplicates = 0;   // exact repeats, ignored
  uint64_t overlaps = 0;     // datagrams discarded for an inconsistent overlap
  uint64_t timeouts = 0;     // datagrams dropped incomplete at their deadline
  uint64_t over_limit = 0;   // fragments refused by a limit (once, even if it discards a datagram)
  uint64_t malformed = 0;    // fragments dropped: end past 65535, a non-final fragment not a
                             // multiple of 8, a contradicted end (discards the datagram), ...
};

class Reassembler {
 public:
  explicit Reassembler(ReassemblyLimits limits = {});
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  // One fragment: its payload (the IP header already taken off), the byte
  // offset of that payload in the datagram (fragment offset field x 8) and
  // the more-fragments flag. Returns the datagram's whole payload once the
  // last missing piece arrives; nothing otherwise.
  std::optional<IOBuf> add(const FragmentKey& key, uint32_t offset, bool more_fragments,
                           IOBuf payload, uint64_t now_ns);
  // Drops datagrams whose deadline has passed (now_ns >= deadline); add()
  // does it too.
  void expire(uint64_t now_ns);
  // The earliest deadline of a datagram in progress; 0 when there is none.
  uint64_t next_deadline() const;

  std::size_t datagrams_in_progress() const;
  std::size_t bytes_held() const;
  const ReassemblyCounters& counters() const { return counters_; }

 private:
  struct Datagram;
  // The slot (datagrams_ or a predecessor's next) that holds key's datagram,
  // or the null slot at the list's end.
  Datagram** find(const FragmentKey& key);
  // Unlinks and frees the datagram in `slot`; counts nothing.
  void discard(Datagram** slot);

  ReassemblyLimits limits_;
  ReassemblyCounters counters_;
  Datagram* datagrams_ = nullptr;  // a short list: max_datagrams bounds it
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace ebb::net::stack
