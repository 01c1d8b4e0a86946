// ItemTable: the store's semantics (modes, CAS, expiry, flush, arithmetic),
// its memory limit and LRU, and lock-free readers beside writers on two cores.

#include "apps/memcached/store/table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "runtime/fiber.h"
#include "runtime/submit.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::memcached::testing {
namespace {

class TableTest : public ebb::testing::RuntimeFixture {
 protected:
  void SetUp() override { start(2); }
  void TearDown() override {
    run(0, [this] { table_.reset(); });
    stop();
  }
  void make(const TableOptions& options) {
    run(0, [&] { table_ = std::make_unique<ItemTable>(options); });
  }
  // Runs fn(table) as an event on core 0.
  template <class F>
  void with_table(F fn) {
    run(0, [&] { fn(*table_); });
  }

  std::unique_ptr<ItemTable> table_;
};

StoreStatus put(ItemTable& t, std::string_view key, std::string_view value, ServerTime now,
                StoreRequest request = {}, ServerTime exptime = 0, uint64_t* cas = nullptr) {
  Item* item = t.allocate(key, 7, exptime, value.size());
  if (item == nullptr) return StoreStatus::kTooLarge;
  std::memcpy(item->value(), value.data(), value.size());
  return t.store(item, request, now, cas);
}

std::string get(const ItemTable& t, std::string_view key, ServerTime now) {
  const Item* item = t.find(key, now);
  return item == nullptr ? "<miss>" : std::string(item->value_view());
}

TEST_F(TableTest, ModesFollowMemcached) {
  make({});
  with_table([](ItemTable& t) {
    StoreRequest add{.mode = StoreMode::kAdd};
    StoreRequest replace{.mode = StoreMode::kReplace};
    StoreRequest append{.mode = StoreMode::kAppend};
    StoreRequest prepend{.mode = StoreMode::kPrepend};
    EXPECT_EQ(put(t, "k", "x", 10, replace), StoreStatus::kNotStored);
    EXPECT_EQ(put(t, "k", "x", 10, append), StoreStatus::kNotStored);
    EXPECT_EQ(put(t, "k", "mid", 10, add), StoreStatus::kStored);
    EXPECT_EQ(put(t, "k", "again", 10, add), StoreStatus::kNotStored);
    EXPECT_EQ(put(t, "k", "end", 10, append), StoreStatus::kStored);
    EXPECT_EQ(put(t, "k", "start", 10, prepend), StoreStatus::kStored);
    EXPECT_EQ(get(t, "k", 10), "startmidend");
    EXPECT_EQ(t.find("k", 10)->client_flags, 7u);
    EXPECT_EQ(put(t, "k", "new", 10, replace), StoreStatus::kStored);
    EXPECT_EQ(get(t, "k", 10), "new");
    EXPECT_EQ(t.stats().curr_items, 1u);
    EXPECT_EQ(t.stats().total_items, 4u);  // each successful write
  });
}

TEST_F(TableTest, CasIsUniqueAndCompared) {
  make({});
  with_table([](ItemTable& t) {
    uint64_t first = 0, second = 0;
    ASSERT_EQ(put(t, "a", "1", 10, {}, 0, &first), StoreStatus::kStored);
    ASSERT_EQ(put(t, "b", "1", 10, {}, 0, &second), StoreStatus::kStored);
    EXPECT_NE(first, second);
    StoreRequest cas{.compare_cas = true, .cas = first + 100};
    EXPECT_EQ(put(t, "a", "2", 10, cas), StoreStatus::kExists);
    EXPECT_EQ(put(t, "missing", "2", 10, cas), StoreStatus::kNotFound);
    cas.cas = first;
    uint64_t third = 0;
    EXPECT_EQ(put(t, "a", "2", 10, cas, 0, &third), StoreStatus::kStored);
    EXPECT_GT(third, second);
    EXPECT_EQ(put(t, "a", "3", 10, cas), StoreStatus::kExists);  // the old CAS is spent
    EXPECT_EQ(get(t, "a", 10), "2");
    // An explicit CAS (meta E) is taken as given.
    StoreRequest explicit_cas{.new_cas = 999};
    uint64_t got = 0;
    EXPECT_EQ(put(t, "a", "4", 10, explicit_cas, 0, &got), StoreStatus::kStored);
    EXPECT_EQ(got, 999u);
  });
}

TEST_F(TableTest, ItemsExpireAtTheirTime) {
  make({});
  with_table([](ItemTable& t) {
    ASSERT_EQ(put(t, "k", "v", 10, {}, 15), StoreStatus::kStored);
    EXPECT_EQ(get(t, "k", 14), "v");
    EXPECT_EQ(get(t, "k", 15), "<miss>");
    // An expired item is absent for add and replace alike.
    EXPECT_EQ(put(t, "k", "w", 16, {.mode = StoreMode::kReplace}), StoreStatus::kNotStored);
    EXPECT_EQ(put(t, "k", "w", 16, {.mode = StoreMode::kAdd}), StoreStatus::kStored);
    const Item* item = t.find("k", 16);
    ASSERT_NE(item, nullptr);
    ItemTable::set_exptime(item, 20);  // touch
    EXPECT_EQ(get(t, "k", 19), "w");
    EXPECT_EQ(get(t, "k", 20), "<miss>");
  });
}

TEST_F(TableTest, FlushNowAndLater) {
  make({});
  with_table([](ItemTable& t) {
    put(t, "old", "1", 10);
    t.flush(0, 10);
    EXPECT_EQ(get(t, "old", 10), "<miss>");
    put(t, "new", "2", 10);  // stored in the same second, after the flush
    EXPECT_EQ(get(t, "new", 10), "2");
    // Delayed: what is stored before the time dies when it comes.
    t.flush(20, 12);
    EXPECT_EQ(get(t, "new", 19), "2");
    EXPECT_EQ(get(t, "new", 20), "<miss>");
    put(t, "later", "3", 21);
    EXPECT_EQ(get(t, "later", 21), "3");
  });
}

TEST_F(TableTest, Arithmetic) {
  make({});
  with_table([](ItemTable& t) {
    EXPECT_EQ(t.arith("n", {.incr = true, .delta = 1}, 10).status, ArithStatus::kNotFound);
    put(t, "n", "18446744073709551615", 10);
    ArithResult r = t.arith("n", {.incr = true, .delta = 2}, 10);
    EXPECT_EQ(r.status, ArithStatus::kOk);
    EXPECT_EQ(r.value, 1u);  // wraps at 2^64
    r = t.arith("n", {.incr = false, .delta = 5}, 10);
    EXPECT_EQ(r.value, 0u);  // decr stops at 0
    EXPECT_EQ(get(t, "n", 10), "0" + std::string(19, ' '));  // memcached keeps the length
    put(t, "padded", "12  ", 10);
    EXPECT_EQ(t.arith("padded", {.incr = true, .delta = 1}, 10).value, 13u);
    put(t, "text", "12a", 10);
    EXPECT_EQ(t.arith("text", {.incr = true, .delta = 1}, 10).status, ArithStatus::kNonNumeric);
    put(t, "empty", "", 10);
    EXPECT_EQ(t.arith("empty", {.incr = true, .delta = 1}, 10).status, ArithStatus::kNonNumeric);
    put(t, "long", "123456789012345678901", 10);
    EXPECT_EQ(t.arith("long", {.incr = true, .delta = 1}, 10).status, ArithStatus::kNonNumeric);
    ArithRequest vivify{.incr = true, .delta = 1, .vivify = true, .initial = 40};
    r = t.arith("fresh", vivify, 10);
    EXPECT_EQ(r.value, 40u);
    EXPECT_EQ(get(t, "fresh", 10), "40");
  });
}

TEST_F(TableTest, RemoveComparesCasAndInvalidateKeepsAStaleCopy) {
  make({});
  with_table([](ItemTable& t) {
    uint64_t cas = 0;
    put(t, "k", "v", 10, {}, 0, &cas);
    EXPECT_EQ(t.remove("k", {.compare_cas = true, .cas = cas + 1}, 10), DeleteStatus::kExists);
    EXPECT_EQ(t.remove("k", {.invalidate = true}, 10), DeleteStatus::kDeleted);
    const Item* stale = t.find("k", 10);
    ASSERT_NE(stale, nullptr);
    EXPECT_TRUE(stale->has(Item::kStale));
    EXPECT_EQ(stale->value_view(), "v");
    EXPECT_EQ(t.remove("k", {}, 10), DeleteStatus::kDeleted);
    EXPECT_EQ(t.remove("k", {}, 10), DeleteStatus::kNotFound);
  });
}

TEST_F(TableTest, SizesAtAndPastTheItemLimit) {
  TableOptions options;
  options.item_size_max = 1024;
  make(options);
  with_table([](ItemTable& t) {
    const std::size_t fits = 1024 - Item::size_for(1, 0);
    bool too_large = false;
    Item* item = t.allocate("k", 0, 0, fits, &too_large);
    ASSERT_NE(item, nullptr);
    ItemTable::release(item);
    EXPECT_EQ(t.allocate("k", 0, 0, fits + 1, &too_large), nullptr);
    EXPECT_TRUE(too_large);
    EXPECT_EQ(t.allocate(std::string(251, 'k'), 0, 0, 1, &too_large), nullptr);
    EXPECT_TRUE(too_large);
    EXPECT_NE(t.allocate(std::string(250, 'k'), 0, 0, 1), nullptr);  // freed below
  });
}

TEST_F(TableTest, AppendPastTheLimitIsTooLarge) {
  TableOptions options;
  options.item_size_max = 1024;
  make(options);
  with_table([](ItemTable& t) {
    put(t, "k", std::string(600, 'a'), 10);
    EXPECT_EQ(put(t, "k", std::string(600, 'b'), 10, {.mode = StoreMode::kAppend}),
              StoreStatus::kTooLarge);
    EXPECT_EQ(get(t, "k", 10), std::string(600, 'a'));
  });
}

TEST_F(TableTest, MemoryStaysUnderTheLimitAndRecentReadsSurvive) {
  TableOptions options;
  options.memory_limit = 1 << 20;
  make(options);
  with_table([&](ItemTable& t) {
    const std::string value(1000, 'v');
    put(t, "hot", value, 10);
    for (int i = 0; i < 5000; ++i) {
      ASSERT_EQ(put(t, "key" + std::to_string(i), value, 10), StoreStatus::kStored);
      if (i % 50 == 0) {  // keeps it warm
        const Item* hot = t.find("hot", 10);
        ASSERT_NE(hot, nullptr) << "evicted before insert " << i;
        ItemTable::note_read(hot, 10);
      }
      ASSERT_LE(t.stats().bytes, options.memory_limit);
    }
    const TableStats s = t.stats();
    EXPECT_GT(s.evictions, 3000u);
    EXPECT_EQ(get(t, "hot", 10), value);
    EXPECT_EQ(get(t, "key4999", 10), value);  // the newest stays
    EXPECT_EQ(get(t, "key0", 10), "<miss>");  // the oldest went
  });
}

TEST_F(TableTest, WithoutEvictionAFullTableRefuses) {
  TableOptions options;
  options.memory_limit = 1 << 20;
  options.evict = false;
  make(options);
  with_table([](ItemTable& t) {
    const std::string value(1000, 'v');
    int stored = 0;
    StoreStatus last = StoreStatus::kStored;
    for (int i = 0; i < 2000 && last == StoreStatus::kStored; ++i) {
      last = put(t, "key" + std::to_string(i), value, 10);
      stored += last == StoreStatus::kStored;
    }
    EXPECT_EQ(last, StoreStatus::kNoMemory);
    EXPECT_GT(stored, 900);
    EXPECT_EQ(get(t, "key0", 10), value);  // nothing was evicted
    t.remove("key0", {}, 10);              // room again
    EXPECT_EQ(put(t, "another", value, 10), StoreStatus::kStored);
  });
}

TEST_F(TableTest, ExpiredItemsAreReclaimedBeforeLiveOnesAreEvicted) {
  TableOptions options;
  options.memory_limit = 1 << 20;
  make(options);
  with_table([](ItemTable& t) {
    const std::string value(1000, 'v');
    for (int i = 0; i < 900; ++i) put(t, "short" + std::to_string(i), value, 10, {}, 11);
    for (int i = 0; i < 900; ++i) put(t, "long" + std::to_string(i), value, 12);
    EXPECT_GT(t.stats().reclaimed, 0u);
  });
}

// Readers on core 1 look up keys while core 0 replaces and removes them:
// every value read is whole (sanitizer builds check the memory too).
TEST_F(TableTest, ReadersOnAnotherCoreSeeWholeValues) {
  make({});
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  auto reader = submit_to(1, [&] {
    while (!done.load(std::memory_order_acquire)) {
      for (int k = 0; k < 16; ++k) {
        const Item* item = table_->find("key" + std::to_string(k), 10);
        if (item == nullptr) continue;
        const std::string_view v = item->value_view();
        ASSERT_FALSE(v.empty());
        for (char c : v) ASSERT_EQ(c, v[0]);
        reads.fetch_add(1, std::memory_order_relaxed);
      }
      yield();
    }
  });
  run(0, [&] {
    for (int round = 0; round < 2000; ++round) {
      for (int k = 0; k < 16; ++k) {
        const std::string key = "key" + std::to_string(k);
        if (round % 7 == 3) table_->remove(key, {}, 10);
        else put(*table_, key, std::string(10 + (round % 50), static_cast<char>('a' + round % 26)), 10);
      }
      if (round % 64 == 0) yield();
    }
    done.store(true, std::memory_order_release);
  });
  ASSERT_TRUE(reader.block().ok());
  EXPECT_GT(reads.load(), 0u);
}

}  // namespace
}  // namespace ebb::memcached::testing
