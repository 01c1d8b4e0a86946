#pragma once
// Item: one key and its value, in one allocation. Once linked into the table
// an item never changes its key, value, flags or CAS: a writer replaces it
// with a new item, so readers on other cores need no lock to copy it out
// (they run inside an event, and a replaced item is freed only after an RCU
// grace period). Only the expiry time and the access bits change in place.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/bytes.h"

namespace ebb::memcached {

// Server time: whole seconds since shortly before the server started
// (memcached's "current_time"); 0 means "never" for an expiry.
using ServerTime = uint32_t;

inline constexpr std::size_t kMaxKeyLength = 250;

struct Item {
  // Meta-protocol and LRU state, changed in place with atomic bit operations.
  enum Bits : uint8_t {
    kAccessed = 1,  // read since the LRU last looked at it (CLOCK's second chance)
    kFetched = 2,   // read at least once (mg's h flag)
    kStale = 4,     // invalidated by md/ms with I: served, but marked stale (mg's X)
    kWinSent = 8,   // a client was told to recache it (mg's W); others get Z
  };

  std::atomic<Item*> chain{nullptr};  // next in the hash bucket; readers follow it
  Item* lru_prev = nullptr;           // the shard's LRU list, under the shard lock
  Item* lru_next = nullptr;
  uint64_t cas = 0;
  std::atomic<ServerTime> exptime{0};      // absolute server time; 0: never expires
  std::atomic<ServerTime> last_access{0};  // server time of the last read or write
  ServerTime stored_time = 0;              // when it was linked (for a delayed flush_all)
  uint32_t flush_epoch = 0;                // the table's flush count when it was linked
  uint32_t client_flags = 0;
  uint32_t value_length = 0;
  uint32_t hash = 0;
  uint8_t key_length = 0;
  std::atomic<uint8_t> bits{0};
  char data[];  // the key, then the value

  static std::size_t size_for(std::size_t key_length, std::size_t value_length) {
    return sizeof(Item) + key_length + value_length;
  }
  std::size_t size() const { return size_for(key_length, value_length); }
  std::string_view key() const { return {data, key_length}; }
  const char* value() const { return data + key_length; }
  char* value() { return data + key_length; }
  std::string_view value_view() const { return {value(), value_length}; }

  bool has(Bits b) const { return (bits.load(std::memory_order_relaxed) & b) != 0; }
  // Sets bits, writing the shared line only when some are not set yet.
  void mark(Bits b) {
    if ((bits.load(std::memory_order_relaxed) & b) != b) bits.fetch_or(b, std::memory_order_relaxed);
  }
  // Sets a bit; true if this call set it (the meta protocol's recache "win").
  bool mark_first(Bits b) { return (bits.fetch_or(b, std::memory_order_relaxed) & b) == 0; }
  void clear(Bits b) { bits.fetch_and(static_cast<uint8_t>(~b), std::memory_order_relaxed); }
};

// The hash of a key: 8 bytes at a time, a multiply-xorshift mix. Good enough
// spread for the bucket and shard bits (it is not meant to resist attackers
// who choose keys; the chains it could lengthen stay in one shard).
inline uint32_t hash_key(std::string_view key) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0x243F6A8885A308D3ull ^ (key.size() * kMul);
  const char* p = key.data();
  std::size_t n = key.size();
  while (n >= 8) {
    h = (h ^ load_u64(p)) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) h = (h ^ load_u64_partial(p, n)) * kMul;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

}  // namespace ebb::memcached
