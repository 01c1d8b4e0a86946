#pragma once
// ItemTable: memcached's key-value store, shared by every core.
//
// Readers take no lock: a lookup walks a hash bucket's chain with acquire
// loads and copies what it needs out of the item before its event ends (an
// item that a writer replaces or removes is freed only after an RCU grace
// period, runtime/rcu.h). Writers lock one of up to kMaxShards shards (the
// low bits of the hash pick it), so writes to different keys rarely meet.
//
// Memory stays within the limit given: items count their whole size, and a
// write that would go past it first evicts from the LRU of its own shard,
// then of the others. The LRU is a CLOCK: a read only sets a bit in the item
// (no lock, no list move); eviction gives such items a second chance. A
// small memory limit gets fewer shards, so that each LRU stays long enough
// to tell hot items from cold ones.
//
// Every call runs on a core (items come from the Ebb memory allocators).
// The bucket array is sized once from the memory limit (about one bucket per
// 128 bytes of it), which keeps chains short without resizing under readers.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "apps/memcached/store/item.h"
#include "runtime/spin_lock.h"

namespace ebb::memcached {

struct TableOptions {
  std::size_t memory_limit = std::size_t{64} << 20;  // -m
  std::size_t item_size_max = std::size_t{1} << 20;  // -I: a whole item at most this big
  bool evict = true;                                 // false: memcached's -M (refuse instead)
};

// How a write combines with what is stored (memcached's set/add/... and the
// meta protocol's modes).
enum class StoreMode : uint8_t { kSet, kAdd, kReplace, kAppend, kPrepend };

struct StoreRequest {
  StoreMode mode = StoreMode::kSet;
  bool compare_cas = false;  // ASCII cas, binary CAS != 0, meta C
  uint64_t cas = 0;          // what compare_cas compares with
  uint64_t new_cas = 0;      // meta E: the CAS the new item gets (0: the next one)
  bool invalidate = false;   // meta I: a CAS older than the item's marks it stale
  bool vivify = false;       // meta N: append/prepend to a missing item creates it
};

enum class StoreStatus : uint8_t {
  kStored,
  kNotStored,  // add over an existing key, replace/append/prepend of a missing one
  kExists,     // CAS mismatch
  kNotFound,   // CAS compare on a missing key
  kTooLarge,   // the item (or an append's result) exceeds item_size_max
  kNoMemory,   // nothing left to evict, or the allocator is exhausted
};

struct ArithRequest {
  bool incr = true;
  uint64_t delta = 0;
  bool compare_cas = false;
  uint64_t cas = 0;
  uint64_t new_cas = 0;
  bool vivify = false;     // a missing key is created with `initial`
  uint64_t initial = 0;
  ServerTime vivify_exptime = 0;
};

enum class ArithStatus : uint8_t { kOk, kNotFound, kNonNumeric, kExists, kNoMemory };

struct ArithResult {
  ArithStatus status;
  uint64_t value = 0;
  uint64_t cas = 0;
};

struct DeleteRequest {
  bool compare_cas = false;
  uint64_t cas = 0;
  bool invalidate = false;     // meta I: mark stale (with a new CAS) instead of removing
  ServerTime stale_exptime = 0;  // meta T with I: the stale item's new expiry
  bool keep_empty = false;     // meta x: replace the value with an empty one, flags 0
};

enum class DeleteStatus : uint8_t { kDeleted, kNotFound, kExists };

struct TableStats {
  uint64_t curr_items = 0;
  uint64_t bytes = 0;
  uint64_t total_items = 0;
  uint64_t evictions = 0;
  uint64_t reclaimed = 0;  // dead (expired or flushed) items removed to make room
  uint64_t expired_unfetched = 0;
  uint64_t evicted_unfetched = 0;
  uint64_t out_of_memory = 0;
  uint64_t hash_buckets = 0;
  uint64_t limit_bytes = 0;
};

class ItemTable {
 public:
  static constexpr uint32_t kMinShards = 16;
  static constexpr uint32_t kMaxShards = 256;

  explicit ItemTable(const TableOptions& options);
  ~ItemTable();  // on a core, with no reader left
  ItemTable(const ItemTable&) = delete;
  ItemTable& operator=(const ItemTable&) = delete;

  const TableOptions& options() const { return options_; }
  // Whether an item of these sizes is within the item size limit (-I): the
  // protocols ask before they read a value, so that one too large is
  // skipped as it arrives, never buffered.
  bool fits(std::size_t key_length, std::size_t value_length) const {
    return Item::size_for(key_length, value_length) <= options_.item_size_max;
  }
  // memcached's cache_memlimit: takes effect from the next write on.
  void set_memory_limit(std::size_t bytes) {
    memory_limit_.store(bytes, std::memory_order_relaxed);
  }

  // The live item under `key`, or null (missing, expired or flushed). Valid
  // until the calling event ends or blocks. Does not count as an access:
  // callers that serve it call note_read.
  const Item* find(std::string_view key, uint32_t hash, ServerTime now) const;
  const Item* find(std::string_view key, ServerTime now) const {
    return find(key, hash_key(key), now);
  }
  static void note_read(const Item* item, ServerTime now);
  // Sets a live item's expiry in place (touch, gat, meta T).
  static void set_exptime(const Item* item, ServerTime exptime) {
    const_cast<Item*>(item)->exptime.store(exptime, std::memory_order_relaxed);
  }

  // A new item for the caller to fill (its value) and hand to store(), or
  // to release() if it is never stored. Null when it would exceed
  // item_size_max (*too_large set) or memory is exhausted.
  Item* allocate(std::string_view key, uint32_t client_flags, ServerTime exptime,
                 std::size_t value_length, bool* too_large = nullptr);
  // Frees an item that was never stored.
  static void release(Item* item);

  // Links a filled item as the request says; takes it in every case (freed
  // when not stored). *cas_out: the stored item's CAS.
  StoreStatus store(Item* item, const StoreRequest& request, ServerTime now,
                    uint64_t* cas_out = nullptr);
  DeleteStatus remove(std::string_view key, const DeleteRequest& request, ServerTime now);
  ArithResult arith(std::string_view key, const ArithRequest& request, ServerTime now);

  // Everything stored up to now is gone (when == 0), or everything stored
  // before `when` is gone once `when` comes (memcached's flush_all with a
  // delay).
  void flush(ServerTime when, ServerTime now);
  // Removes every item whose key keep(context, key) refuses (a cluster node
  // drops the keys it no longer owns); how many. One shard locked at a time.
  std::size_t remove_unless(bool (*keep)(void* context, std::string_view key), void* context);

  TableStats stats() const;
  // Whether an item would be served now (tests and the meta protocol).
  bool is_live(const Item* item, ServerTime now) const;

 private:
  struct alignas(64) Shard {
    SpinLock lock;
    Item* lru_head = nullptr;  // most recently linked
    Item* lru_tail = nullptr;
    std::atomic<uint64_t> curr_items{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> total_items{0};
    std::atomic<uint64_t> evictions{0};
    std::atomic<uint64_t> reclaimed{0};
    std::atomic<uint64_t> expired_unfetched{0};
    std::atomic<uint64_t> evicted_unfetched{0};
  };

  uint32_t shard_index(uint32_t hash) const { return hash & shard_mask_; }
  std::atomic<Item*>& bucket_of(uint32_t hash) const { return buckets_[hash & bucket_mask_]; }
  // Under the shard's lock: the link that points at the live or dead item
  // with this key (null if none), so it can be replaced or unlinked.
  std::atomic<Item*>* locate(std::string_view key, uint32_t hash) const;
  void link(Shard& shard, std::atomic<Item*>* at, Item* item, Item* replaced, ServerTime now);
  void unlink(Shard& shard, std::atomic<Item*>* at, Item* item);
  // Evicts until `bytes` more fit under the limit; false if they cannot.
  bool make_room(std::size_t bytes, uint32_t first_shard, ServerTime now);
  std::size_t evict_some(Shard& shard, std::size_t want, ServerTime now);
  uint64_t next_cas() { return cas_counter_.fetch_add(1, std::memory_order_relaxed) + 1; }
  Item* copy_with_value(const Item& from, std::size_t value_length);
  // Replaces `old` (which `at` points at) by a new item holding `value`,
  // keeping its key, flags and expiry.
  Item* replace_value(Shard& shard, std::atomic<Item*>* at, Item* old, std::string_view value,
                      uint64_t cas, ServerTime now);

  const TableOptions options_;
  std::atomic<std::size_t> memory_limit_;
  std::atomic<Item*>* buckets_ = nullptr;
  uint32_t bucket_mask_ = 0;
  Shard* shards_ = nullptr;
  uint32_t shard_mask_ = 0;
  std::atomic<int64_t> used_bytes_{0};
  std::atomic<uint64_t> cas_counter_{0};
  std::atomic<uint32_t> evict_cursor_{0};
  std::atomic<uint64_t> out_of_memory_{0};
  std::atomic<uint32_t> flush_epoch_{0};         // items linked before it are gone
  std::atomic<ServerTime> oldest_live_{0};       // delayed flush: from then, older items die
};

// Frees `item` after an RCU grace period (batched per core).
void retire_item(Item* item);

}  // namespace ebb::memcached
