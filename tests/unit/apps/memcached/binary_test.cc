#include "apps/memcached/protocol/binary.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apps/memcached/server/settings.h"
#include "apps/memcached/store/item.h"
#include "tests/unit/apps/memcached/harness.h"

namespace ebb::memcached::testing {
namespace {

enum : uint8_t {
  kGet = 0x00,
  kSet = 0x01,
  kAdd = 0x02,
  kReplace = 0x03,
  kDelete = 0x04,
  kIncrement = 0x05,
  kDecrement = 0x06,
  kQuit = 0x07,
  kFlush = 0x08,
  kGetQ = 0x09,
  kNoop = 0x0a,
  kVersionOp = 0x0b,
  kGetK = 0x0c,
  kGetKQ = 0x0d,
  kAppend = 0x0e,
  kPrepend = 0x0f,
  kStat = 0x10,
  kSetQ = 0x11,
  kAddQ = 0x12,
  kReplaceQ = 0x13,
  kDeleteQ = 0x14,
  kIncrementQ = 0x15,
  kDecrementQ = 0x16,
  kQuitQ = 0x17,
  kFlushQ = 0x18,
  kAppendQ = 0x19,
  kPrependQ = 0x1a,
  kVerbosity = 0x1b,
  kTouch = 0x1c,
  kGat = 0x1d,
  kGatQ = 0x1e,
  kGatK = 0x23,
  kGatKQ = 0x24,
};

enum : uint16_t {
  kSuccess = 0x0000,
  kNotFound = 0x0001,
  kExists = 0x0002,
  kTooLarge = 0x0003,
  kInvalid = 0x0004,
  kNotStored = 0x0005,
  kNonNumeric = 0x0006,
  kUnknown = 0x0081,
};

constexpr uint32_t kNoCreate = 0xffffffff;

std::string be(uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i)
    s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}
std::string be32(uint32_t v) {
  return be(v, 4);
}
uint64_t read_be(std::string_view s) {
  uint64_t v = 0;
  for (char c : s)
    v = v << 8 | static_cast<uint8_t>(c);
  return v;
}

// One request, built the way a client would; the lengths are computed
// unless a test lies about them.
struct Request {
  uint8_t opcode = kNoop;
  std::string key;
  std::string extras;
  std::string value;
  uint64_t cas = 0;
  uint32_t opaque = 0x01020304;
  uint8_t magic = binary::kRequestMagic;
  uint8_t data_type = 0;
  int64_t body_length = -1;  // -1: the true length

  std::string bytes() const {
    const std::size_t body = extras.size() + key.size() + value.size();
    std::string s;
    s.push_back(static_cast<char>(magic));
    s.push_back(static_cast<char>(opcode));
    s += be(key.size(), 2);
    s.push_back(static_cast<char>(extras.size()));
    s.push_back(static_cast<char>(data_type));
    s += be(0, 2);
    s += be32(body_length < 0 ? static_cast<uint32_t>(body) : static_cast<uint32_t>(body_length));
    s += be32(opaque);
    s += be(cas, 8);
    return s + extras + key + value;
  }
};

std::string simple(uint8_t opcode, std::string key = "", uint64_t cas = 0) {
  Request r;
  r.opcode = opcode;
  r.key = std::move(key);
  r.cas = cas;
  return r.bytes();
}
std::string update(uint8_t opcode, std::string key, std::string value, uint32_t flags = 0,
                   uint32_t exptime = 0, uint64_t cas = 0) {
  Request r;
  r.opcode = opcode;
  r.key = std::move(key);
  r.value = std::move(value);
  r.extras = be32(flags) + be32(exptime);
  r.cas = cas;
  return r.bytes();
}
std::string concat(uint8_t opcode, std::string key, std::string value) {
  Request r;
  r.opcode = opcode;
  r.key = std::move(key);
  r.value = std::move(value);
  return r.bytes();
}
std::string arith(uint8_t opcode, std::string key, uint64_t delta, uint64_t initial,
                  uint32_t exptime, uint64_t cas = 0) {
  Request r;
  r.opcode = opcode;
  r.key = std::move(key);
  r.extras = be(delta, 8) + be(initial, 8) + be32(exptime);
  r.cas = cas;
  return r.bytes();
}
std::string with_exptime(uint8_t opcode, std::string key, uint32_t exptime) {
  Request r;
  r.opcode = opcode;
  r.key = std::move(key);
  r.extras = be32(exptime);
  return r.bytes();
}
std::string flush(uint8_t opcode, int64_t delay = -1) {
  Request r;
  r.opcode = opcode;
  if (delay >= 0) r.extras = be32(static_cast<uint32_t>(delay));
  return r.bytes();
}

struct Response {
  uint8_t magic = 0;
  uint8_t opcode = 0;
  uint16_t status = 0;
  uint8_t data_type = 0;
  uint32_t opaque = 0;
  uint64_t cas = 0;
  std::string extras;
  std::string key;
  std::string value;

  uint32_t flags() const { return static_cast<uint32_t>(read_be(extras)); }
};

// Splits reply bytes into responses; a test fails on trailing bytes.
std::vector<Response> parse(std::string_view bytes) {
  std::vector<Response> out;
  while (bytes.size() >= 24) {
    Response r;
    r.magic = static_cast<uint8_t>(bytes[0]);
    r.opcode = static_cast<uint8_t>(bytes[1]);
    const std::size_t key_length = read_be(bytes.substr(2, 2));
    const std::size_t extras_length = static_cast<uint8_t>(bytes[4]);
    r.data_type = static_cast<uint8_t>(bytes[5]);
    r.status = static_cast<uint16_t>(read_be(bytes.substr(6, 2)));
    const std::size_t body = read_be(bytes.substr(8, 4));
    r.opaque = static_cast<uint32_t>(read_be(bytes.substr(12, 4)));
    r.cas = read_be(bytes.substr(16, 8));
    EXPECT_GE(bytes.size(), 24 + body);
    EXPECT_LE(extras_length + key_length, body);
    if (bytes.size() < 24 + body || extras_length + key_length > body) break;
    r.extras = bytes.substr(24, extras_length);
    r.key = bytes.substr(24 + extras_length, key_length);
    r.value = bytes.substr(24 + extras_length + key_length, body - extras_length - key_length);
    out.push_back(r);
    bytes.remove_prefix(24 + body);
  }
  EXPECT_TRUE(bytes.empty()) << bytes.size() << " stray reply bytes";
  return out;
}

class BinaryTest : public MemcachedTest {
 protected:
  std::vector<Response> exchange(std::string_view bytes) { return parse(send(bytes)); }
  // The one response a request gets.
  Response one(std::string_view bytes) {
    std::vector<Response> all = exchange(bytes);
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Response{} : all[0];
  }
  void expect_error(std::string_view bytes, uint16_t status, std::string_view text) {
    const Response r = one(bytes);
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.value, text);
    EXPECT_EQ(r.cas, 0u);
    EXPECT_TRUE(r.extras.empty());
  }
  // The value stored under key, or "<miss>".
  std::string value_of(const std::string& key) {
    const Response r = one(simple(kGet, key));
    return r.status == kSuccess ? r.value : "<miss>";
  }
  CounterValues counters() { return server().totals(); }
  // send_split's twin with the two sends in order: an operator+ between
  // them (harness.h) lets the compiler make the second send first.
  std::string send_in_two(std::string_view bytes, std::size_t at) {
    std::string replies = send(bytes.substr(0, at));
    replies += send(bytes.substr(at));
    return replies;
  }
};

TEST_F(BinaryTest, NoopEchoesOpaqueAndOpcode) {
  Request r;
  r.opaque = 0xdeadbeef;
  const Response noop = one(r.bytes());
  EXPECT_EQ(noop.magic, binary::kResponseMagic);
  EXPECT_EQ(noop.opcode, kNoop);
  EXPECT_EQ(noop.status, kSuccess);
  EXPECT_EQ(noop.data_type, 0);
  EXPECT_EQ(noop.opaque, 0xdeadbeefu);
  EXPECT_EQ(noop.cas, 0u);
  EXPECT_TRUE(noop.key.empty() && noop.extras.empty() && noop.value.empty());
  EXPECT_FALSE(closed());
}

TEST_F(BinaryTest, VersionIsTheServers) {
  const Response r = one(simple(kVersionOp));
  EXPECT_EQ(r.status, kSuccess);
  EXPECT_EQ(r.value, kVersion);
}

TEST_F(BinaryTest, SetThenGetReturnsFlagsValueAndCas) {
  const Response set = one(update(kSet, "key", "value", 0xdeadbeef));
  EXPECT_EQ(set.opcode, kSet);
  EXPECT_EQ(set.status, kSuccess);
  EXPECT_NE(set.cas, 0u);
  EXPECT_TRUE(set.value.empty());
  const Response get = one(simple(kGet, "key"));
  EXPECT_EQ(get.status, kSuccess);
  EXPECT_EQ(get.flags(), 0xdeadbeefu);
  EXPECT_EQ(get.extras.size(), 4u);
  EXPECT_TRUE(get.key.empty());
  EXPECT_EQ(get.value, "value");
  EXPECT_EQ(get.cas, set.cas);
  const Response again = one(update(kSet, "key", "other"));
  EXPECT_NE(again.cas, set.cas);
  EXPECT_EQ(value_of("key"), "other");
  EXPECT_EQ(counters().cmd_set, 2u);
  EXPECT_EQ(counters().get_hits, 2u);
}

TEST_F(BinaryTest, EmptyValueIsStored) {
  EXPECT_EQ(one(update(kSet, "k", "")).status, kSuccess);
  const Response get = one(simple(kGet, "k"));
  EXPECT_EQ(get.status, kSuccess);
  EXPECT_TRUE(get.value.empty());
}

TEST_F(BinaryTest, GetMissSaysNotFound) {
  expect_error(simple(kGet, "nope"), kNotFound, "Not found");
  EXPECT_EQ(counters().cmd_get, 1u);
  EXPECT_EQ(counters().get_misses, 1u);
}

TEST_F(BinaryTest, GetKCarriesTheKeyOnHitAndMiss) {
  one(update(kSet, "here", "v", 7));
  const Response hit = one(simple(kGetK, "here"));
  EXPECT_EQ(hit.status, kSuccess);
  EXPECT_EQ(hit.key, "here");
  EXPECT_EQ(hit.value, "v");
  EXPECT_EQ(hit.flags(), 7u);
  const Response miss = one(simple(kGetK, "gone"));
  EXPECT_EQ(miss.status, kNotFound);
  EXPECT_EQ(miss.key, "gone");
  EXPECT_TRUE(miss.value.empty());  // the key, no text
}

TEST_F(BinaryTest, NoopTerminatedMultiGetRepliesOnlyForHits) {
  one(update(kSet, "a", "1"));
  one(update(kSet, "c", "3"));
  const auto replies = exchange(simple(kGetKQ, "a") + simple(kGetKQ, "b") + simple(kGetKQ, "c") +
                                simple(kGetQ, "a") + simple(kGetQ, "b") + simple(kNoop));
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].opcode, kGetKQ);
  EXPECT_EQ(replies[0].key, "a");
  EXPECT_EQ(replies[0].value, "1");
  EXPECT_EQ(replies[1].key, "c");
  EXPECT_EQ(replies[1].value, "3");
  EXPECT_EQ(replies[2].opcode, kGetQ);
  EXPECT_TRUE(replies[2].key.empty());
  EXPECT_EQ(replies[2].value, "1");
  EXPECT_EQ(replies[3].opcode, kNoop);
  EXPECT_EQ(counters().get_misses, 2u);
  EXPECT_EQ(counters().get_hits, 3u);
}

TEST_F(BinaryTest, QuietStoresAreSilentUnlessTheyFail) {
  EXPECT_EQ(send(update(kSetQ, "k", "v")), "");
  EXPECT_EQ(send(update(kAddQ, "new", "v")), "");
  EXPECT_EQ(send(update(kReplaceQ, "k", "w")), "");
  EXPECT_EQ(send(concat(kAppendQ, "k", "x")), "");
  EXPECT_EQ(send(concat(kPrependQ, "k", "<")), "");
  EXPECT_EQ(value_of("k"), "<wx");
  const Response add = one(update(kAddQ, "k", "v"));
  EXPECT_EQ(add.opcode, kAddQ);
  EXPECT_EQ(add.status, kExists);
  EXPECT_EQ(one(update(kReplaceQ, "missing", "v")).status, kNotFound);
  EXPECT_EQ(one(concat(kAppendQ, "missing", "v")).status, kNotStored);
  EXPECT_EQ(one(update(kSetQ, "k", "v", 0, 0, 12345)).status, kExists);
}

TEST_F(BinaryTest, AddOnlyAddsAMissingKey) {
  EXPECT_EQ(one(update(kAdd, "k", "first")).status, kSuccess);
  expect_error(update(kAdd, "k", "second"), kExists, "Data exists for key.");
  EXPECT_EQ(value_of("k"), "first");
}

TEST_F(BinaryTest, ReplaceOnlyReplacesAnExistingKey) {
  expect_error(update(kReplace, "k", "v"), kNotFound, "Not found");
  one(update(kSet, "k", "old"));
  const Response r = one(update(kReplace, "k", "new", 9));
  EXPECT_EQ(r.status, kSuccess);
  EXPECT_NE(r.cas, 0u);
  EXPECT_EQ(value_of("k"), "new");
  EXPECT_EQ(one(simple(kGet, "k")).flags(), 9u);
}

TEST_F(BinaryTest, AppendAndPrependKeepFlags) {
  expect_error(concat(kAppend, "k", "x"), kNotStored, "Not stored.");
  expect_error(concat(kPrepend, "k", "x"), kNotStored, "Not stored.");
  one(update(kSet, "k", "mid", 42));
  const Response append = one(concat(kAppend, "k", ">"));
  EXPECT_EQ(append.status, kSuccess);
  EXPECT_NE(append.cas, 0u);
  EXPECT_EQ(one(concat(kPrepend, "k", "<")).status, kSuccess);
  const Response get = one(simple(kGet, "k"));
  EXPECT_EQ(get.value, "<mid>");
  EXPECT_EQ(get.flags(), 42u);
}

TEST_F(BinaryTest, AppendWithCasCompares) {
  const uint64_t cas = one(update(kSet, "k", "a")).cas;
  Request r;
  r.opcode = kAppend;
  r.key = "k";
  r.value = "b";
  r.cas = cas + 100;
  EXPECT_EQ(one(r.bytes()).status, kExists);
  r.cas = cas;
  EXPECT_EQ(one(r.bytes()).status, kSuccess);
  EXPECT_EQ(value_of("k"), "ab");
}

TEST_F(BinaryTest, CasMatchMismatchAndMissing) {
  const uint64_t cas = one(update(kSet, "k", "v1")).cas;
  expect_error(update(kSet, "k", "v2", 0, 0, cas + 1), kExists, "Data exists for key.");
  const Response ok = one(update(kSet, "k", "v2", 0, 0, cas));
  EXPECT_EQ(ok.status, kSuccess);
  EXPECT_NE(ok.cas, cas);
  EXPECT_EQ(value_of("k"), "v2");
  expect_error(update(kSet, "other", "v", 0, 0, 77), kNotFound, "Not found");
  // memcached turns ADD and REPLACE with a CAS into a compare-and-set.
  EXPECT_EQ(one(update(kAdd, "k", "v3", 0, 0, ok.cas)).status, kSuccess);
  EXPECT_EQ(one(update(kReplace, "k", "v4", 0, 0, 1)).status, kExists);
  EXPECT_EQ(value_of("k"), "v3");
  const CounterValues c = counters();
  EXPECT_EQ(c.cas_hits, 2u);
  EXPECT_EQ(c.cas_badval, 2u);
  EXPECT_EQ(c.cas_misses, 1u);
}

TEST_F(BinaryTest, DeleteHitMissQuietAndCas) {
  expect_error(simple(kDelete, "k"), kNotFound, "Not found");
  const uint64_t cas = one(update(kSet, "k", "v")).cas;
  expect_error(simple(kDelete, "k", cas + 1), kExists, "Data exists for key.");
  const Response r = one(simple(kDelete, "k", cas));
  EXPECT_EQ(r.status, kSuccess);
  EXPECT_TRUE(r.value.empty());
  EXPECT_EQ(value_of("k"), "<miss>");
  one(update(kSet, "k", "v"));
  EXPECT_EQ(send(simple(kDeleteQ, "k")), "");
  EXPECT_EQ(one(simple(kDeleteQ, "k")).status, kNotFound);
  EXPECT_EQ(counters().delete_hits, 2u);
  EXPECT_EQ(counters().delete_misses, 2u);
}

TEST_F(BinaryTest, IncrCreatesWithInitialUnlessTold) {
  expect_error(arith(kIncrement, "n", 1, 5, kNoCreate), kNotFound, "Not found");
  EXPECT_EQ(value_of("n"), "<miss>");
  const Response created = one(arith(kIncrement, "n", 1, 5, 0));
  EXPECT_EQ(created.status, kSuccess);
  EXPECT_EQ(created.value, be(5, 8));  // the initial value, no delta applied
  EXPECT_NE(created.cas, 0u);
  EXPECT_EQ(value_of("n"), "5");
  const Response bumped = one(arith(kIncrement, "n", 10, 0, kNoCreate));
  EXPECT_EQ(read_be(bumped.value), 15u);
  EXPECT_NE(bumped.cas, created.cas);
  EXPECT_EQ(value_of("n"), "15");
  EXPECT_EQ(read_be(one(arith(kDecrement, "d", 3, 9, 0)).value), 9u);
  EXPECT_EQ(read_be(one(arith(kDecrement, "d", 3, 9, 0)).value), 6u);
  const CounterValues c = counters();
  EXPECT_EQ(c.incr_misses, 2u);
  EXPECT_EQ(c.incr_hits, 1u);
  EXPECT_EQ(c.decr_misses, 1u);
  EXPECT_EQ(c.decr_hits, 1u);
}

TEST_F(BinaryTest, IncrWrapsAndDecrStopsAtZero) {
  one(update(kSet, "n", "18446744073709551615"));
  EXPECT_EQ(read_be(one(arith(kIncrement, "n", 2, 0, kNoCreate)).value), 1u);
  EXPECT_EQ(read_be(one(arith(kDecrement, "n", 5, 0, kNoCreate)).value), 0u);
  // memcached pads a shrunk counter with spaces: only the digits matter.
  const std::string text = value_of("n");
  EXPECT_EQ(text.substr(0, text.find_last_not_of(' ') + 1), "0");
}

TEST_F(BinaryTest, IncrOfNonNumberIsRefused) {
  one(update(kSet, "t", "text"));
  expect_error(arith(kIncrement, "t", 1, 0, 0), kNonNumeric,
               "Non-numeric server-side value for incr or decr");
  expect_error(arith(kDecrementQ, "t", 1, 0, 0), kNonNumeric,
               "Non-numeric server-side value for incr or decr");
  EXPECT_EQ(value_of("t"), "text");
}

TEST_F(BinaryTest, IncrWithCasAndQuietVariants) {
  const uint64_t cas = one(update(kSet, "n", "1")).cas;
  EXPECT_EQ(one(arith(kIncrement, "n", 1, 0, 0, cas + 1)).status, kExists);
  EXPECT_EQ(read_be(one(arith(kIncrement, "n", 1, 0, 0, cas)).value), 2u);
  EXPECT_EQ(send(arith(kIncrementQ, "n", 5, 0, 0)), "");
  EXPECT_EQ(send(arith(kDecrementQ, "n", 1, 0, 0)), "");
  EXPECT_EQ(value_of("n"), "6");
  EXPECT_EQ(one(arith(kIncrementQ, "absent", 1, 0, kNoCreate)).status, kNotFound);
}

TEST_F(BinaryTest, TouchSetsExpiryAndReturnsFlagsOnly) {
  expect_error(with_exptime(kTouch, "k", 10), kNotFound, "Not found");
  const uint64_t cas = one(update(kSet, "k", "value", 3)).cas;
  const Response touch = one(with_exptime(kTouch, "k", 10));
  EXPECT_EQ(touch.status, kSuccess);
  EXPECT_EQ(touch.flags(), 3u);
  EXPECT_TRUE(touch.value.empty());
  EXPECT_EQ(touch.cas, cas);
  advance(5);
  EXPECT_EQ(value_of("k"), "value");
  advance(6);
  EXPECT_EQ(value_of("k"), "<miss>");
  EXPECT_EQ(counters().cmd_touch, 2u);
  EXPECT_EQ(counters().touch_hits, 1u);
  EXPECT_EQ(counters().touch_misses, 1u);
}

TEST_F(BinaryTest, GatVariantsReturnTheValueAndTouch) {
  one(update(kSet, "k", "value", 5, 3));
  const Response gat = one(with_exptime(kGat, "k", 100));
  EXPECT_EQ(gat.status, kSuccess);
  EXPECT_EQ(gat.value, "value");
  EXPECT_EQ(gat.flags(), 5u);
  EXPECT_TRUE(gat.key.empty());
  advance(10);  // past the first expiry, within the touched one
  const Response gatk = one(with_exptime(kGatK, "k", 2));
  EXPECT_EQ(gatk.key, "k");
  EXPECT_EQ(gatk.value, "value");
  advance(3);
  EXPECT_EQ(value_of("k"), "<miss>");
  EXPECT_EQ(one(with_exptime(kGatK, "k", 0)).key, "k");  // a miss names the key
  expect_error(with_exptime(kGat, "k", 0), kNotFound, "Not found");
  one(update(kSet, "q", "v"));
  const auto replies =
      exchange(with_exptime(kGatQ, "k", 0) + with_exptime(kGatKQ, "k", 0) +
               with_exptime(kGatQ, "q", 0) + with_exptime(kGatKQ, "q", 0) + simple(kNoop));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].opcode, kGatQ);
  EXPECT_EQ(replies[0].value, "v");
  EXPECT_EQ(replies[1].opcode, kGatKQ);
  EXPECT_EQ(replies[1].key, "q");
  EXPECT_EQ(replies[2].opcode, kNoop);
}

TEST_F(BinaryTest, ExpiryTimes) {
  one(update(kSet, "short", "v", 0, 2));
  one(update(kSet, "forever", "v", 0, 0));
  // Binary expiry times are unsigned: 0xffffffff is a Unix time in 2106.
  one(update(kSet, "far", "v", 0, 0xffffffff));
  advance(3);
  EXPECT_EQ(value_of("short"), "<miss>");
  EXPECT_EQ(value_of("forever"), "v");
  EXPECT_EQ(value_of("far"), "v");
}

TEST_F(BinaryTest, FlushNowAndLater) {
  one(update(kSet, "a", "1"));
  const Response r = one(flush(kFlush));
  EXPECT_EQ(r.status, kSuccess);
  EXPECT_TRUE(r.value.empty());
  EXPECT_EQ(value_of("a"), "<miss>");
  one(update(kSet, "b", "2"));
  EXPECT_EQ(one(flush(kFlush, 2)).status, kSuccess);
  EXPECT_EQ(value_of("b"), "2");
  advance(3);
  EXPECT_EQ(value_of("b"), "<miss>");
  one(update(kSet, "c", "3"));
  EXPECT_EQ(send(flush(kFlushQ)), "");
  EXPECT_EQ(value_of("c"), "<miss>");
  EXPECT_EQ(send(flush(kFlushQ, 0)), "");
  EXPECT_EQ(counters().cmd_flush, 4u);
}

TEST_F(BinaryTest, VerbositySetsTheServers) {
  Request r;
  r.opcode = kVerbosity;
  r.extras = be32(2);
  const Response reply = one(r.bytes());
  EXPECT_EQ(reply.status, kSuccess);
  EXPECT_EQ(server().verbosity.load(), 2u);
}

TEST_F(BinaryTest, StatGroupsEndWithAnEmptyPacket) {
  const auto all = exchange(simple(kStat));
  ASSERT_GT(all.size(), 10u);
  bool saw_version = false;
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    EXPECT_EQ(all[i].opcode, kStat);
    EXPECT_EQ(all[i].status, kSuccess);
    EXPECT_FALSE(all[i].key.empty());
    if (all[i].key == "version") saw_version = all[i].value == kVersion;
  }
  EXPECT_TRUE(saw_version);
  EXPECT_TRUE(all.back().key.empty() && all.back().value.empty());
  EXPECT_EQ(all.back().status, kSuccess);
  const auto settings = exchange(simple(kStat, "settings"));
  ASSERT_GT(settings.size(), 2u);
  bool saw_item_size_max = false;
  for (const Response& r : settings)
    saw_item_size_max |= r.key == "item_size_max";
  EXPECT_TRUE(saw_item_size_max);
  EXPECT_TRUE(settings.back().key.empty());
  EXPECT_TRUE(exchange(simple(kStat, "items")).back().key.empty());
  expect_error(simple(kStat, "bogus"), kNotFound, "Not found");
}

TEST_F(BinaryTest, QuitRepliesThenCloses) {
  const Response r = one(simple(kQuit));
  EXPECT_EQ(r.opcode, kQuit);
  EXPECT_EQ(r.status, kSuccess);
  EXPECT_TRUE(closed());
}

TEST_F(BinaryTest, QuitQClosesSilently) {
  EXPECT_EQ(send(simple(kQuitQ) + simple(kNoop)), "");
  EXPECT_TRUE(closed());
}

TEST_F(BinaryTest, KeyOf250IsFine251IsRefused) {
  const std::string key250(250, 'k');
  EXPECT_EQ(one(update(kSet, key250, "v")).status, kSuccess);
  EXPECT_EQ(one(simple(kGetK, key250)).key, key250);
  const auto replies = exchange(simple(kGet, std::string(251, 'k')) + simple(kNoop));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, kInvalid);
  EXPECT_EQ(replies[0].value, "Invalid arguments");
  EXPECT_TRUE(closed());
}

TEST_F(BinaryTest, UnknownOpcodeIsRefusedAndItsBodySkipped) {
  Request r;
  r.opcode = 0x40;
  r.key = "key";
  r.extras = "ext";
  r.value = std::string(100, '\x80');  // would read as request magic if not skipped
  const auto replies = exchange(r.bytes() + simple(kNoop));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].opcode, 0x40);
  EXPECT_EQ(replies[0].status, kUnknown);
  EXPECT_EQ(replies[0].value, "Unknown command");
  EXPECT_EQ(replies[1].opcode, kNoop);
  EXPECT_FALSE(closed());
  // SASL is not served: its opcodes are unknown too.
  EXPECT_EQ(one(simple(0x20)).status, kUnknown);
}

class BinaryMalformedTest : public BinaryTest, public ::testing::WithParamInterface<Request> {};

// Each request breaks one rule of its opcode's layout: Invalid arguments,
// then the connection closes (memcached's protocol error).
TEST_P(BinaryMalformedTest, RefusedWithInvalidArgumentsAndClosed) {
  const auto replies = exchange(GetParam().bytes() + simple(kNoop));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].opcode, GetParam().opcode);
  EXPECT_EQ(replies[0].status, kInvalid);
  EXPECT_EQ(replies[0].value, "Invalid arguments");
  EXPECT_TRUE(closed());
}

Request malformed(uint8_t opcode, std::string key, std::string extras, std::string value = "") {
  Request r;
  r.opcode = opcode;
  r.key = std::move(key);
  r.extras = std::move(extras);
  r.value = std::move(value);
  return r;
}

Request with_data_type(Request r, uint8_t type) {
  r.data_type = type;
  return r;
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, BinaryMalformedTest,
    ::testing::Values(
        malformed(kGet, "k", "abcd"), malformed(kGet, "", ""), malformed(kGetQ, "k", "", "value"),
        malformed(kSet, "k", "abcd", "v"), malformed(kSet, "", std::string(8, '\0'), "v"),
        malformed(kAddQ, "k", std::string(12, '\0'), "v"), malformed(kAppend, "k", "abcd", "v"),
        malformed(kDelete, "k", "abcd"), malformed(kIncrement, "n", std::string(8, '\0')),
        malformed(kDecrementQ, "n", std::string(20, '\0'), "x"), malformed(kTouch, "k", ""),
        malformed(kGat, "k", "ab"), malformed(kFlush, "", "ab"), malformed(kFlush, "k", ""),
        malformed(kNoop, "", "", "x"), malformed(kVersionOp, "k", ""), malformed(kQuit, "", "abcd"),
        malformed(kStat, "", "abcd"), malformed(kVerbosity, "", ""),
        with_data_type(malformed(kGet, "k", ""), 1)));

TEST_F(BinaryTest, LengthsThatDoNotAddUpClose) {
  Request r;
  r.opcode = kGet;
  r.key = "key";
  r.body_length = 2;  // shorter than the key
  const auto replies = exchange(r.bytes() + simple(kNoop));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, kUnknown);
  EXPECT_TRUE(closed());
}

TEST_F(BinaryTest, BadMagicMidStreamCloses) {
  Request bad;
  bad.magic = binary::kResponseMagic;
  const auto replies = exchange(simple(kNoop) + bad.bytes() + simple(kNoop));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].opcode, kNoop);
  EXPECT_TRUE(closed());
}

TEST_F(BinaryTest, BadMagicInALaterSendCloses) {
  EXPECT_EQ(exchange(simple(kNoop)).size(), 1u);
  EXPECT_EQ(send("GET foo\r\n"), "");
  EXPECT_TRUE(closed());
}

TEST_F(BinaryTest, HugeLyingBodyLengthIsSwallowedNotBuffered) {
  Request set;
  set.opcode = kSet;
  set.key = "k";
  set.extras = std::string(8, '\0');
  set.body_length = 0xffffffff;
  one(update(kSet, "k", "old"));
  // The refusal comes with the header and key alone: nothing waits for 4 GiB.
  expect_error(set.bytes(), kTooLarge, "Too large.");
  EXPECT_FALSE(closed());
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(send(std::string(64 << 10, '\x80')), "");
  EXPECT_FALSE(closed());
  EXPECT_EQ(counters().store_too_large, 1u);
  reconnect();
  EXPECT_EQ(value_of("k"), "<miss>");  // a refused SET does not leave the old value
}

TEST_F(BinaryTest, HugeBodyOfUnknownOpcodeIsSwallowed) {
  Request r;
  r.opcode = 0x99;
  r.body_length = 0xfffffff0;
  expect_error(r.bytes(), kUnknown, "Unknown command");
  EXPECT_EQ(send(std::string(1 << 20, '\x80')), "");
  EXPECT_FALSE(closed());
}

TEST_F(BinaryTest, HugeBodyOfFixedLayoutOpcodeCloses) {
  Request r;
  r.opcode = kGet;
  r.key = "k";
  r.body_length = 0xffffffff;
  expect_error(r.bytes(), kInvalid, "Invalid arguments");
  EXPECT_TRUE(closed());
}

TEST_F(BinaryTest, HeaderArrivingInPiecesWaits) {
  const std::string noop = simple(kNoop);
  EXPECT_EQ(send(noop.substr(0, 1)), "");
  EXPECT_EQ(send(noop.substr(1, 22)), "");
  EXPECT_EQ(exchange(noop.substr(23)).size(), 1u);
}

// A small item limit keeps the limit tests and the every-byte split fast.
class BinaryLimitTest : public BinaryTest {
 protected:
  static constexpr std::size_t kLimit = 1024;
  BinaryLimitTest() {
    table_options.item_size_max = kLimit;
    settings.item_size_max = kLimit;
  }
  // The longest value an item with this key can hold.
  static std::size_t max_value(std::size_t key_length) {
    return kLimit - Item::size_for(key_length, 0);
  }
};

TEST_F(BinaryLimitTest, ValueAtTheLimitIsStoredOnePastIsSwallowed) {
  const std::string fits(max_value(3), 'a');
  EXPECT_EQ(one(update(kSet, "key", fits)).status, kSuccess);
  EXPECT_EQ(value_of("key"), fits);
  const std::string request = update(kSet, "key", fits + "b");
  // Refused from the header and key alone, then the value is skipped.
  const std::size_t head = 24 + 8 + 3;
  const Response refused = one(request.substr(0, head));
  EXPECT_EQ(refused.status, kTooLarge);
  EXPECT_EQ(refused.value, "Too large.");
  EXPECT_EQ(send(request.substr(head, 100)), "");
  const auto replies = exchange(request.substr(head + 100) + simple(kNoop));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].opcode, kNoop);
  EXPECT_EQ(value_of("key"), "<miss>");  // memcached drops the old value of a refused SET
  EXPECT_EQ(counters().store_too_large, 1u);
}

TEST_F(BinaryLimitTest, EveryStoreCommandRefusesTooLargeValues) {
  one(update(kSet, "k", "v"));
  const std::string big(max_value(1) + 1, 'x');
  for (uint8_t op : {kAdd, kReplace, kSetQ, kReplaceQ}) {
    const auto replies = exchange(update(op, "k", big) + simple(kNoop));
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].status, kTooLarge);
    EXPECT_EQ(replies[0].opcode, op);
  }
  EXPECT_EQ(one(concat(kAppend, "k", big)).status, kTooLarge);
  EXPECT_EQ(one(concat(kPrependQ, "k", big)).status, kTooLarge);
  EXPECT_EQ(value_of("k"), "<miss>");  // the SETQ dropped it
}

TEST_F(BinaryLimitTest, AppendPastTheLimitIsNotStored) {
  one(update(kSet, "k", std::string(max_value(1), 'a')));
  EXPECT_EQ(one(concat(kAppend, "k", "b")).status, kNotStored);
  EXPECT_EQ(value_of("k"), std::string(max_value(1), 'a'));
}

// Masks the CAS, which differs from one run to the next.
std::string without_cas(std::string replies) {
  std::size_t at = 0;
  while (at + 24 <= replies.size()) {
    const std::size_t body = read_be(std::string_view(replies).substr(at + 8, 4));
    replies.replace(at + 16, 8, 8, '\0');
    at += 24 + body;
  }
  return replies;
}

TEST_F(BinaryLimitTest, PipelineSplitAtEveryByteGivesTheSameReplies) {
  const std::string pipeline =
      flush(kFlush) + update(kSet, "a", "alpha", 1) + update(kSetQ, "b", "beta") +
      update(kAdd, "a", "x") + simple(kGet, "a") + simple(kGetKQ, "b") + simple(kGetKQ, "z") +
      arith(kIncrement, "n", 2, 40, 0) + arith(kIncrementQ, "n", 1, 0, 0) +
      concat(kAppend, "a", "!") + update(kSet, "big", std::string(max_value(3) + 10, 'B')) +
      with_exptime(kGatK, "a", 0) + with_exptime(kTouch, "b", 0) + simple(kDelete, "b") +
      simple(kDeleteQ, "z") + simple(kVersionOp) +
      [] {
        Request unknown;
        unknown.opcode = 0x50;
        unknown.value = "unknown body";
        return unknown.bytes();
      }() +
      simple(kGetK, "n") + simple(kNoop);
  const std::string whole = without_cas(send(pipeline));
  const auto replies = parse(whole);
  ASSERT_EQ(replies.size(), 16u);
  EXPECT_EQ(replies.back().opcode, kNoop);
  EXPECT_EQ(replies[replies.size() - 2].value, "41");
  for (std::size_t at = 0; at <= pipeline.size(); ++at) {
    reconnect();
    ASSERT_EQ(without_cas(send_in_two(pipeline, at)), whole) << "split at " << at;
    ASSERT_FALSE(closed());
  }
}

TEST_F(BinaryLimitTest, PipelineFedOneByteAtATime) {
  const std::string pipeline = update(kSet, "k", "value") + simple(kGetK, "k") +
                               update(kSet, "k", std::string(kLimit, 'x')) + simple(kGet, "k") +
                               simple(kNoop);
  reconnect();
  std::string replies;
  for (char c : pipeline)
    replies += send(std::string(1, c));
  const auto all = parse(replies);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[1].value, "value");
  EXPECT_EQ(all[2].status, kTooLarge);
  EXPECT_EQ(all[3].status, kNotFound);
  EXPECT_EQ(all[4].opcode, kNoop);
}

class BinaryNoCasTest : public BinaryTest {
 protected:
  BinaryNoCasTest() { settings.cas = false; }
};

TEST_F(BinaryNoCasTest, RepliesCarryNoCas) {
  EXPECT_EQ(one(update(kSet, "k", "1")).cas, 0u);
  EXPECT_EQ(one(simple(kGet, "k")).cas, 0u);
  EXPECT_EQ(one(arith(kIncrement, "k", 1, 0, 0)).cas, 0u);
  // A CAS in the request has nothing to compare with: a plain set.
  EXPECT_EQ(one(update(kSet, "k", "2", 0, 0, 999)).status, kSuccess);
  EXPECT_EQ(value_of("k"), "2");
}

}  // namespace
}  // namespace ebb::memcached::testing
