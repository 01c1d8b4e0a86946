#include "apps/memcached/store/table.h"

#include <bit>
#include <cstdio>
#include <new>
#include <utility>
#include <vector>

#include "apps/memcached/store/number.h"
#include "ebbs/memory/general/general_allocator.h"
#include "runtime/panic.h"
#include "runtime/rcu.h"
#include "runtime/spawn.h"
#include "runtime/stats.h"

namespace ebb::memcached {

namespace {

// How many items from an LRU tail one eviction pass looks at before giving
// up on the shard (second chances move items to the head).
constexpr int kEvictScan = 64;

// Items waiting for a grace period, per core: one call_rcu per batch.
struct alignas(64) RetireList {
  std::vector<Item*> items;
  bool scheduled = false;
};
RetireList g_retire[kMaxCores];

void free_item(Item* item) { mem::free_sized(item, item->size()); }

}  // namespace

void retire_item(Item* item) {
  RetireList& list = g_retire[this_core()];
  list.items.push_back(item);
  if (list.scheduled) return;
  list.scheduled = true;
  // The batch closes in the next event: everything in it was unlinked before
  // call_rcu starts its grace period.
  spawn_local([] {
    RetireList& mine = g_retire[this_core()];
    mine.scheduled = false;
    call_rcu([batch = std::move(mine.items)] {
      for (Item* item : batch) free_item(item);
    });
    mine.items = {};
  });
}

ItemTable::ItemTable(const TableOptions& options)
    : options_(options), memory_limit_(options.memory_limit) {
  std::size_t buckets = std::bit_ceil(options.memory_limit / 128);
  if (buckets < 4096) buckets = 4096;
  if (buckets > (std::size_t{1} << 26)) buckets = std::size_t{1} << 26;
  buckets_ = new std::atomic<Item*>[buckets]();
  bucket_mask_ = static_cast<uint32_t>(buckets - 1);
  // One shard per MiB of memory, within [kMinShards, kMaxShards].
  std::size_t shards = std::bit_ceil(options.memory_limit >> 20);
  if (shards < kMinShards) shards = kMinShards;
  if (shards > kMaxShards) shards = kMaxShards;
  shards_ = new Shard[shards];
  shard_mask_ = static_cast<uint32_t>(shards - 1);
}

ItemTable::~ItemTable() {
  for (uint32_t b = 0; b <= bucket_mask_; ++b) {
    Item* item = buckets_[b].load(std::memory_order_relaxed);
    while (item != nullptr) {
      Item* next = item->chain.load(std::memory_order_relaxed);
      free_item(item);
      item = next;
    }
  }
  delete[] buckets_;
  delete[] shards_;
}

bool ItemTable::is_live(const Item* item, ServerTime now) const {
  const ServerTime exptime = item->exptime.load(std::memory_order_relaxed);
  if (exptime != 0 && exptime <= now) return false;
  if (item->flush_epoch < flush_epoch_.load(std::memory_order_acquire)) return false;
  const ServerTime oldest = oldest_live_.load(std::memory_order_relaxed);
  return oldest == 0 || now < oldest || item->stored_time >= oldest;
}

const Item* ItemTable::find(std::string_view key, uint32_t hash, ServerTime now) const {
  for (const Item* item = bucket_of(hash).load(std::memory_order_acquire); item != nullptr;
       item = item->chain.load(std::memory_order_acquire)) {
    if (item->hash == hash && item->key() == key) return is_live(item, now) ? item : nullptr;
  }
  return nullptr;
}

void ItemTable::note_read(const Item* item, ServerTime now) {
  auto* it = const_cast<Item*>(item);
  it->mark(static_cast<Item::Bits>(Item::kAccessed | Item::kFetched));
  if (it->last_access.load(std::memory_order_relaxed) != now)
    it->last_access.store(now, std::memory_order_relaxed);
}

std::atomic<Item*>* ItemTable::locate(std::string_view key, uint32_t hash) const {
  std::atomic<Item*>* at = &bucket_of(hash);
  for (Item* item = at->load(std::memory_order_relaxed); item != nullptr;
       item = at->load(std::memory_order_relaxed)) {
    if (item->hash == hash && item->key() == key) return at;
    at = &item->chain;
  }
  return nullptr;
}

Item* ItemTable::allocate(std::string_view key, uint32_t client_flags, ServerTime exptime,
                          std::size_t value_length, bool* too_large) {
  if (too_large != nullptr) *too_large = false;
  if (key.size() > kMaxKeyLength || !fits(key.size(), value_length)) {
    if (too_large != nullptr) *too_large = true;
    return nullptr;
  }
  void* memory = mem::malloc(Item::size_for(key.size(), value_length));
  if (memory == nullptr) {
    out_of_memory_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  auto* item = new (memory) Item;
  item->client_flags = client_flags;
  item->exptime.store(exptime, std::memory_order_relaxed);
  item->value_length = static_cast<uint32_t>(value_length);
  item->key_length = static_cast<uint8_t>(key.size());
  item->hash = hash_key(key);
  std::memcpy(item->data, key.data(), key.size());
  return item;
}

void ItemTable::release(Item* item) {
  if (item != nullptr) free_item(item);
}

Item* ItemTable::copy_with_value(const Item& from, std::size_t value_length) {
  Item* item = allocate(from.key(), from.client_flags,
                        from.exptime.load(std::memory_order_relaxed), value_length);
  return item;
}

void ItemTable::link(Shard& shard, std::atomic<Item*>* at, Item* item, Item* replaced,
                     ServerTime now) {
  item->stored_time = now;
  item->last_access.store(now, std::memory_order_relaxed);
  item->flush_epoch = flush_epoch_.load(std::memory_order_relaxed);
  if (replaced != nullptr) {
    item->chain.store(replaced->chain.load(std::memory_order_relaxed), std::memory_order_relaxed);
    unlink(shard, nullptr, replaced);
  } else {
    at = &bucket_of(item->hash);
    item->chain.store(at->load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  at->store(item, std::memory_order_release);  // readers see the whole item from here on
  // LRU head.
  item->lru_prev = nullptr;
  item->lru_next = shard.lru_head;
  if (shard.lru_head != nullptr) shard.lru_head->lru_prev = item;
  shard.lru_head = item;
  if (shard.lru_tail == nullptr) shard.lru_tail = item;
  used_bytes_.fetch_add(static_cast<int64_t>(item->size()), std::memory_order_relaxed);
  bump_counter(shard.curr_items);
  bump_counter(shard.bytes, item->size());
  bump_counter(shard.total_items);
}

// Takes `item` out of its LRU list and accounting; with `at`, also out of its
// chain (link() passes null: it puts the replacement in the chain itself) and
// retires it.
void ItemTable::unlink(Shard& shard, std::atomic<Item*>* at, Item* item) {
  if (item->lru_prev != nullptr) item->lru_prev->lru_next = item->lru_next;
  else shard.lru_head = item->lru_next;
  if (item->lru_next != nullptr) item->lru_next->lru_prev = item->lru_prev;
  else shard.lru_tail = item->lru_prev;
  used_bytes_.fetch_sub(static_cast<int64_t>(item->size()), std::memory_order_relaxed);
  bump_counter(shard.curr_items, static_cast<uint64_t>(-1));
  bump_counter(shard.bytes, 0 - item->size());
  if (at != nullptr) at->store(item->chain.load(std::memory_order_relaxed), std::memory_order_release);
  retire_item(item);
}

std::size_t ItemTable::evict_some(Shard& shard, std::size_t want, ServerTime now) {
  std::size_t freed = 0;
  const Item* first_spared = nullptr;
  for (int scanned = 0; scanned < kEvictScan && freed < want && shard.lru_tail != nullptr;
       ++scanned) {
    Item* victim = shard.lru_tail;
    // Around the whole list once: what is left was read since; other
    // shards give up their cold items first.
    if (victim == first_spared) break;
    const bool live = is_live(victim, now);
    if (live && victim->has(Item::kAccessed)) {  // second chance: to the head
      if (first_spared == nullptr) first_spared = victim;
      victim->clear(Item::kAccessed);
      if (victim != shard.lru_head) {
        shard.lru_tail = victim->lru_prev;
        shard.lru_tail->lru_next = nullptr;
        victim->lru_prev = nullptr;
        victim->lru_next = shard.lru_head;
        shard.lru_head->lru_prev = victim;
        shard.lru_head = victim;
      }
      continue;
    }
    const bool fetched = victim->has(Item::kFetched);
    if (live) {
      bump_counter(shard.evictions);
      if (!fetched) bump_counter(shard.evicted_unfetched);
    } else {
      bump_counter(shard.reclaimed);
      if (!fetched) bump_counter(shard.expired_unfetched);
    }
    freed += victim->size();
    std::atomic<Item*>* at = locate(victim->key(), victim->hash);
    EBB_CHECK(at != nullptr && at->load(std::memory_order_relaxed) == victim,
               "memcached: an item on the LRU is missing from its hash chain");
    unlink(shard, at, victim);
  }
  return freed;
}

bool ItemTable::make_room(std::size_t bytes, uint32_t first_shard, ServerTime now) {
  const auto limit = static_cast<int64_t>(memory_limit_.load(std::memory_order_relaxed));
  auto over = [&] {
    return used_bytes_.load(std::memory_order_relaxed) + static_cast<int64_t>(bytes) - limit;
  };
  if (over() <= 0) return true;
  if (!options_.evict) return false;
  // The shard being written first (its lock is about to be taken anyway),
  // then the others in turn from a shared cursor, so that no shard is
  // emptied while others keep cold items.
  for (uint32_t tries = 0; tries <= shard_mask_ + 1 && over() > 0; ++tries) {
    const uint32_t index = tries == 0
                               ? first_shard
                               : evict_cursor_.fetch_add(1, std::memory_order_relaxed) & shard_mask_;
    Shard& shard = shards_[index];
    SpinLockGuard guard(shard.lock);
    const int64_t want = over();
    if (want > 0) evict_some(shard, static_cast<std::size_t>(want), now);
  }
  return over() <= 0;
}

StoreStatus ItemTable::store(Item* item, const StoreRequest& request, ServerTime now,
                             uint64_t* cas_out) {
  const uint32_t index = shard_index(item->hash);
  if (!make_room(item->size(), index, now)) {
    out_of_memory_.fetch_add(1, std::memory_order_relaxed);
    release(item);
    return StoreStatus::kNoMemory;
  }
  Shard& shard = shards_[index];
  SpinLockGuard guard(shard.lock);
  std::atomic<Item*>* at = locate(item->key(), item->hash);
  Item* old = at != nullptr ? at->load(std::memory_order_relaxed) : nullptr;
  if (old != nullptr && !is_live(old, now)) {  // dead: as if missing, and gone now
    unlink(shard, at, old);
    old = nullptr;
    at = nullptr;
  }
  auto refuse = [&](StoreStatus why) {
    release(item);
    return why;
  };
  if (request.compare_cas) {
    if (old == nullptr) return refuse(StoreStatus::kNotFound);
    if (old->cas != request.cas) {
      // Meta I: an older CAS does not fail the write but marks the result stale.
      if (!(request.invalidate && request.cas < old->cas)) return refuse(StoreStatus::kExists);
      item->mark(Item::kStale);
    }
  }
  switch (request.mode) {
    case StoreMode::kSet:
      break;
    case StoreMode::kAdd:
      if (old != nullptr) {
        old->mark(Item::kAccessed);  // memcached bumps the existing item
        return refuse(StoreStatus::kNotStored);
      }
      break;
    case StoreMode::kReplace:
      if (old == nullptr) return refuse(StoreStatus::kNotStored);
      break;
    case StoreMode::kAppend:
    case StoreMode::kPrepend: {
      if (old == nullptr) {
        if (request.vivify) break;  // meta N: the data becomes the value
        return refuse(StoreStatus::kNotStored);
      }
      bool too_large = false;
      Item* combined = nullptr;
      const std::size_t total = std::size_t{old->value_length} + item->value_length;
      if (!fits(old->key_length, total)) {
        too_large = true;
      } else {
        combined = copy_with_value(*old, total);
      }
      if (combined == nullptr) {
        release(item);
        if (too_large) return StoreStatus::kTooLarge;
        out_of_memory_.fetch_add(1, std::memory_order_relaxed);
        return StoreStatus::kNoMemory;
      }
      const bool append = request.mode == StoreMode::kAppend;
      const Item& first = append ? *old : *item;
      const Item& second = append ? *item : *old;
      std::memcpy(combined->value(), first.value(), first.value_length);
      std::memcpy(combined->value() + first.value_length, second.value(), second.value_length);
      if (item->has(Item::kStale)) combined->mark(Item::kStale);
      release(item);
      item = combined;
      break;
    }
  }
  item->cas = request.new_cas != 0 ? request.new_cas : next_cas();
  link(shard, at, item, old, now);
  if (cas_out != nullptr) *cas_out = item->cas;
  return StoreStatus::kStored;
}

Item* ItemTable::replace_value(Shard& shard, std::atomic<Item*>* at, Item* old,
                               std::string_view value, uint64_t cas, ServerTime now) {
  Item* item = copy_with_value(*old, value.size());
  if (item == nullptr) return nullptr;
  std::memcpy(item->value(), value.data(), value.size());
  item->cas = cas != 0 ? cas : next_cas();
  link(shard, at, item, old, now);
  return item;
}

DeleteStatus ItemTable::remove(std::string_view key, const DeleteRequest& request,
                               ServerTime now) {
  const uint32_t hash = hash_key(key);
  Shard& shard = shards_[shard_index(hash)];
  SpinLockGuard guard(shard.lock);
  std::atomic<Item*>* at = locate(key, hash);
  if (at == nullptr) return DeleteStatus::kNotFound;
  Item* old = at->load(std::memory_order_relaxed);
  if (!is_live(old, now)) {
    unlink(shard, at, old);
    return DeleteStatus::kNotFound;
  }
  if (request.compare_cas && old->cas != request.cas) return DeleteStatus::kExists;
  if (request.invalidate || request.keep_empty) {
    // The item stays, as a new version: stale (meta I) and/or emptied (meta x).
    Item* item = copy_with_value(*old, request.keep_empty ? 0 : old->value_length);
    if (item == nullptr) {  // cannot keep it: removing is the safe fallback
      unlink(shard, at, old);
      return DeleteStatus::kDeleted;
    }
    if (request.keep_empty) item->client_flags = 0;
    else std::memcpy(item->value(), old->value(), old->value_length);
    if (request.invalidate) {
      item->mark(Item::kStale);
      if (request.stale_exptime != 0)
        item->exptime.store(request.stale_exptime, std::memory_order_relaxed);
    }
    item->cas = next_cas();
    link(shard, at, item, old, now);
    return DeleteStatus::kDeleted;
  }
  unlink(shard, at, old);
  return DeleteStatus::kDeleted;
}

ArithResult ItemTable::arith(std::string_view key, const ArithRequest& request, ServerTime now) {
  const uint32_t hash = hash_key(key);
  Shard& shard = shards_[shard_index(hash)];
  SpinLockGuard guard(shard.lock);
  std::atomic<Item*>* at = locate(key, hash);
  Item* old = at != nullptr ? at->load(std::memory_order_relaxed) : nullptr;
  if (old != nullptr && !is_live(old, now)) {
    unlink(shard, at, old);
    old = nullptr;
    at = nullptr;
  }
  char digits[kMaxDecimalDigits];
  if (old == nullptr) {
    if (!request.vivify) return {ArithStatus::kNotFound};
    const std::size_t n = format_decimal(request.initial, digits);
    bool too_large = false;
    Item* item = allocate(key, 0, request.vivify_exptime, n, &too_large);
    if (item == nullptr) return {ArithStatus::kNoMemory};
    std::memcpy(item->value(), digits, n);
    item->cas = request.new_cas != 0 ? request.new_cas : next_cas();
    link(shard, nullptr, item, nullptr, now);
    return {ArithStatus::kOk, request.initial, item->cas};
  }
  // memcached checks the value before the CAS.
  uint64_t value = 0;
  if (!parse_strtoull(old->value_view(), &value)) return {ArithStatus::kNonNumeric};
  if (request.compare_cas && old->cas != request.cas) return {ArithStatus::kExists};
  if (request.incr) value += request.delta;  // wraps at 2^64, as memcached's does
  else value = request.delta > value ? 0 : value - request.delta;
  // A shorter number keeps the old length, padded with spaces, as
  // memcached's in-place update does ("10" decremented reads "9 ").
  char text[64];
  std::size_t n = format_decimal(value, text);
  if (n < old->value_length && old->value_length <= sizeof text) {
    std::memset(text + n, ' ', old->value_length - n);
    n = old->value_length;
  }
  Item* item = replace_value(shard, at, old, {text, n}, request.new_cas, now);
  if (item == nullptr) {
    out_of_memory_.fetch_add(1, std::memory_order_relaxed);
    return {ArithStatus::kNoMemory};
  }
  return {ArithStatus::kOk, value, item->cas};
}

void ItemTable::flush(ServerTime when, ServerTime now) {
  if (when == 0 || when <= now) {
    flush_epoch_.fetch_add(1, std::memory_order_release);
    oldest_live_.store(0, std::memory_order_relaxed);
  } else {
    oldest_live_.store(when, std::memory_order_relaxed);
  }
}

std::size_t ItemTable::remove_unless(bool (*keep)(void* context, std::string_view key), void* context) {
  std::size_t removed = 0;
  for (uint32_t i = 0; i <= shard_mask_; ++i) {
    Shard& shard = shards_[i];
    SpinLockGuard guard(shard.lock);
    for (Item* item = shard.lru_head; item != nullptr;) {
      Item* next = item->lru_next;
      if (!keep(context, item->key())) {
        std::atomic<Item*>* at = locate(item->key(), item->hash);
        EBB_CHECK(at != nullptr && at->load(std::memory_order_relaxed) == item,
                  "memcached: an item on the LRU is missing from its hash chain");
        unlink(shard, at, item);
        ++removed;
      }
      item = next;
    }
  }
  return removed;
}

TableStats ItemTable::stats() const {
  TableStats s;
  for (uint32_t i = 0; i <= shard_mask_; ++i) {
    const Shard& shard = shards_[i];
    s.curr_items += shard.curr_items.load(std::memory_order_relaxed);
    s.bytes += shard.bytes.load(std::memory_order_relaxed);
    s.total_items += shard.total_items.load(std::memory_order_relaxed);
    s.evictions += shard.evictions.load(std::memory_order_relaxed);
    s.reclaimed += shard.reclaimed.load(std::memory_order_relaxed);
    s.expired_unfetched += shard.expired_unfetched.load(std::memory_order_relaxed);
    s.evicted_unfetched += shard.evicted_unfetched.load(std::memory_order_relaxed);
  }
  s.out_of_memory = out_of_memory_.load(std::memory_order_relaxed);
  s.hash_buckets = std::size_t{bucket_mask_} + 1;
  s.limit_bytes = memory_limit_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace ebb::memcached
