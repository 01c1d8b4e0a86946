#include "ebbs/net/stack/reassembly.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace ebb::net::stack {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
const FragmentKey kKey{0x0a000001, 0x0a000002, 0x1234, 17};

// The byte at `offset` of the datagram with `key`: every datagram's bytes
// differ from every other's, so pieces put in the wrong place or the wrong
// datagram show in the content.
uint8_t byte_at(const FragmentKey& key, uint32_t offset) {
  uint32_t h = key.source * 0x9e3779b1u ^ key.destination * 0x85ebca6bu ^
               (uint32_t{key.id} << 8 | key.protocol) * 0xc2b2ae35u;
  h += offset * 0x27d4eb2fu;
  h ^= h >> 15;
  h *= 0x2c1b3c6du;
  h ^= h >> 13;
  return static_cast<uint8_t>(h);
}

std::string content(const FragmentKey& key, uint32_t begin, uint32_t end) {
  std::string s;
  for (uint32_t i = begin; i < end; ++i)
    s.push_back(static_cast<char>(byte_at(key, i)));
  return s;
}

IOBuf payload(const FragmentKey& key, uint32_t offset, uint32_t length) {
  const std::string s = content(key, offset, offset + length);
  return IOBuf::CopyOf(s.data(), s.size()).value();
}

std::optional<IOBuf> add(Reassembler& r, const FragmentKey& key, uint32_t offset, uint32_t length,
                         bool more, uint64_t now = 0) {
  return r.add(key, offset, more, payload(key, offset, length), now);
}

struct Piece {
  uint32_t offset;
  uint32_t length;
  bool more;
};

// `total` bytes cut into pieces of `sizes` (multiples of 8) in turn, the last
// piece whatever remains.
std::vector<Piece> cut(uint32_t total, const std::vector<uint32_t>& sizes) {
  std::vector<Piece> pieces;
  uint32_t at = 0;
  for (std::size_t i = 0; at < total; ++i) {
    const uint32_t size = sizes[i % sizes.size()];
    if (total - at <= size) {
      pieces.push_back({at, total - at, false});
      break;
    }
    pieces.push_back({at, size, true});
    at += size;
  }
  return pieces;
}

// Feeds the pieces in the given order; expects nothing back until the last
// one, and returns what that one gives back.
std::optional<IOBuf> feed(Reassembler& r, const FragmentKey& key,
                          const std::vector<Piece>& pieces) {
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) {
    auto out = add(r, key, pieces[i].offset, pieces[i].length, pieces[i].more);
    EXPECT_FALSE(out.has_value()) << "piece " << i << " at " << pieces[i].offset;
  }
  const Piece& last = pieces.back();
  return add(r, key, last.offset, last.length, last.more);
}

// Buffers whose release is counted: what the reassembler still holds is
// exactly what is alive (results are dropped as soon as they are checked).
std::size_t g_live_buffers = 0;
std::size_t g_live_bytes = 0;
void release_counted(void* data, void* arg) {
  --g_live_buffers;
  g_live_bytes -= reinterpret_cast<std::size_t>(arg);
  std::free(data);
}
IOBuf counted(const std::string& bytes) {
  void* data = std::malloc(bytes.size() + 1);  // +1: malloc(0) may be null
  std::memcpy(data, bytes.data(), bytes.size());
  ++g_live_buffers;
  g_live_bytes += bytes.size();
  return IOBuf::TakeOwnership(data, bytes.size(), release_counted,
                              reinterpret_cast<void*>(bytes.size()))
      .value();
}

void expect_empty(const Reassembler& r) {
  EXPECT_EQ(r.datagrams_in_progress(), 0u);
  EXPECT_EQ(r.bytes_held(), 0u);
  EXPECT_EQ(r.next_deadline(), 0u);
}

// ---- reassembly ----

TEST(Reassembler, InOrder) {
  Reassembler r;
  auto pieces = cut(1000, {408, 200});  // 408, 200, 392
  ASSERT_EQ(pieces.size(), 3u);
  auto out = feed(r, kKey, pieces);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 1000));
  EXPECT_EQ(r.counters().fragments, 3u);
  EXPECT_EQ(r.counters().reassembled, 1u);
  expect_empty(r);
}

TEST(Reassembler, ReverseOrder) {
  Reassembler r;
  auto pieces = cut(1003, {8, 96, 512});
  std::reverse(pieces.begin(), pieces.end());
  auto out = feed(r, kKey, pieces);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 1003));
  EXPECT_EQ(r.counters().reassembled, 1u);
  expect_empty(r);
}

TEST(Reassembler, RandomOrder) {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    std::vector<uint32_t> sizes;
    for (int i = 0; i < 8; ++i)
      sizes.push_back(8 * std::uniform_int_distribution<uint32_t>(1, 64)(rng));
    const uint32_t total = std::uniform_int_distribution<uint32_t>(1, 4000)(rng);
    auto pieces = cut(total, sizes);
    std::shuffle(pieces.begin(), pieces.end(), rng);
    Reassembler r;
    FragmentKey key = kKey;
    key.id = static_cast<uint16_t>(seed);
    auto out = pieces.size() == 1 ? add(r, key, 0, total, false) : feed(r, key, pieces);
    ASSERT_TRUE(out.has_value()) << "seed " << seed;
    EXPECT_EQ(out->to_string(), content(key, 0, total)) << "seed " << seed;
    expect_empty(r);
  }
}

TEST(Reassembler, TheLastFragmentArrivingAfterTheOthersCompletes) {
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 16, 8, true));
  EXPECT_FALSE(add(r, kKey, 0, 16, true));
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  EXPECT_EQ(r.bytes_held(), 24u);
  auto out = add(r, kKey, 24, 5, false);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 29));
  expect_empty(r);
}

TEST(Reassembler, TheLastFragmentFirstWaitsForTheRest) {
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 24, 5, false));
  EXPECT_FALSE(add(r, kKey, 0, 8, true));
  EXPECT_FALSE(add(r, kKey, 16, 8, true));
  auto out = add(r, kKey, 8, 8, true);  // the hole, with more_fragments set
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 29));
  expect_empty(r);
}

TEST(Reassembler, AnUnfragmentedDatagramComesBackAsIsAndTouchesNothing) {
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 0, 16, true));
  // Offset 0 with more_fragments clear, same key: a whole datagram of its own.
  auto whole = add(r, kKey, 0, 40, false);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->to_string(), content(kKey, 0, 40));
  auto empty = add(r, kKey, 0, 0, false);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  // The datagram in progress is untouched and still completes.
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  EXPECT_EQ(r.bytes_held(), 16u);
  auto out = add(r, kKey, 16, 3, false);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 19));
  EXPECT_EQ(r.counters().reassembled, 1u);  // only the fragmented one
  EXPECT_EQ(r.counters().fragments, 4u);
  expect_empty(r);
}

TEST(Reassembler, KeepsTheFragmentsBuffersWithoutCopying) {
  Reassembler r;
  auto pieces = cut(3000, {1480, 8, 64});
  std::mt19937 rng(7);
  std::shuffle(pieces.begin(), pieces.end(), rng);
  std::vector<std::pair<uint32_t, const uint8_t*>> where;  // offset, bytes
  std::optional<IOBuf> out;
  for (const Piece& p : pieces) {
    IOBuf buf = payload(kKey, p.offset, p.length);
    where.push_back({p.offset, buf.first_link()->data});
    out = r.add(kKey, p.offset, p.more, std::move(buf), 0);
  }
  ASSERT_TRUE(out.has_value());
  std::sort(where.begin(), where.end());
  ASSERT_EQ(out->link_count(), where.size());
  std::size_t i = 0;
  for (const IOBuf::Link* l = out->first_link(); l != nullptr; l = l->next, ++i)
    EXPECT_EQ(l->data, where[i].second) << "link " << i;
  EXPECT_EQ(out->to_string(), content(kKey, 0, 3000));
}

TEST(Reassembler, KeysThatDifferInAnyFieldDoNotMix) {
  std::vector<FragmentKey> keys(5, kKey);
  keys[1].id = kKey.id + 1;
  keys[2].protocol = 6;
  keys[3].source = kKey.source + 1;
  keys[4].destination = kKey.destination + 1;
  // Cut alike (so a mixed-up piece would fit), different in length.
  Reassembler r;
  std::vector<std::vector<Piece>> pieces;
  for (std::size_t k = 0; k < keys.size(); ++k)
    pieces.push_back(cut(100 + k, {32}));
  std::size_t done = 0;
  for (std::size_t i = 0; i < pieces[0].size(); ++i) {
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const Piece& p = pieces[k][pieces[k].size() - 1 - i];  // each in reverse, interleaved
      auto out = add(r, keys[k], p.offset, p.length, p.more);
      if (i + 1 < pieces[k].size()) {
        EXPECT_FALSE(out.has_value());
        continue;
      }
      ASSERT_TRUE(out.has_value()) << "key " << k;
      EXPECT_EQ(out->to_string(), content(keys[k], 0, 100 + k)) << "key " << k;
      ++done;
    }
  }
  EXPECT_EQ(done, keys.size());
  EXPECT_EQ(r.counters().reassembled, keys.size());
  EXPECT_EQ(r.counters().overlaps + r.counters().duplicates + r.counters().malformed, 0u);
  expect_empty(r);
}

TEST(Reassembler, TheLargestDatagramInPiecesOfManySizes) {
  constexpr uint32_t kTotal = 65535;  // the most an IPv4 datagram can carry
  ReassemblyLimits limits;
  limits.max_fragments = 8192;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    std::mt19937 rng(seed);
    std::vector<uint32_t> sizes;
    for (int i = 0; i < 100; ++i)
      sizes.push_back(8 * std::uniform_int_distribution<uint32_t>(1, seed == 1 ? 1 : 512)(rng));
    auto pieces = cut(kTotal, sizes);  // seed 1: 8192 pieces of 8 bytes (the last 7)
    if (seed == 1) {
      ASSERT_EQ(pieces.size(), 8192u);
      std::reverse(pieces.begin(), pieces.end());
    } else {
      std::shuffle(pieces.begin(), pieces.end(), rng);
    }
    Reassembler r(limits);
    auto out = feed(r, kKey, pieces);
    ASSERT_TRUE(out.has_value()) << "seed " << seed;
    EXPECT_EQ(out->length(), kTotal);
    EXPECT_EQ(out->link_count(), pieces.size());
    EXPECT_EQ(out->to_string(), content(kKey, 0, kTotal)) << "seed " << seed;
    expect_empty(r);
  }
}

// ---- duplicates and overlaps ----

TEST(Reassembler, ExactDuplicatesAreIgnoredAndCounted) {
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 0, 16, true));
  EXPECT_FALSE(add(r, kKey, 32, 4, false));
  // A repeat of held bytes, even with other content: the first copy stays.
  EXPECT_FALSE(r.add(kKey, 0, true, IOBuf::CopyOf(std::string(16, 'x')).value(), 0));
  EXPECT_FALSE(add(r, kKey, 32, 4, false));
  EXPECT_EQ(r.counters().duplicates, 2u);
  EXPECT_EQ(r.bytes_held(), 20u);
  auto out = add(r, kKey, 16, 16, true);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 36));
  EXPECT_EQ(r.counters().overlaps, 0u);
  expect_empty(r);
  // After completion the datagram is forgotten: a late repeat starts a new
  // attempt (which will time out), not a duplicate.
  EXPECT_FALSE(add(r, kKey, 0, 16, true));
  EXPECT_EQ(r.counters().duplicates, 2u);
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
}

TEST(Reassembler, APartialOverlapDiscardsTheDatagram) {
  for (bool later_first : {false, true}) {
    Reassembler r;
    EXPECT_FALSE(add(r, kKey, 40, 8, false));
    // [0, 24) and [16, 32), in either order.
    EXPECT_FALSE(add(r, kKey, later_first ? 16 : 0, 16 + (later_first ? 0 : 8), true));
    EXPECT_FALSE(add(r, kKey, later_first ? 0 : 16, 16 + (later_first ? 8 : 0), true));
    EXPECT_EQ(r.counters().overlaps, 1u);
    expect_empty(r);
    // Later fragments with the key start afresh: they neither complete
    // against the discarded bytes nor count as overlaps.
    EXPECT_FALSE(add(r, kKey, 24, 16, true));
    EXPECT_FALSE(add(r, kKey, 40, 8, false));
    EXPECT_EQ(r.datagrams_in_progress(), 1u);
    EXPECT_EQ(r.bytes_held(), 24u);
    EXPECT_EQ(r.counters().overlaps, 1u);
    EXPECT_EQ(r.counters().reassembled, 0u);
  }
}

TEST(Reassembler, TouchingFragmentsAreNotAnOverlap) {
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 8, 8, true));
  EXPECT_FALSE(add(r, kKey, 0, 8, true));  // ends where the held one starts
  EXPECT_FALSE(add(r, kKey, 24, 8, false));
  EXPECT_TRUE(add(r, kKey, 16, 8, true));  // between two, touching both
  EXPECT_EQ(r.counters().overlaps, 0u);
}

TEST(Reassembler, AFragmentContainingAnotherDiscardsTheDatagram) {
  {
    Reassembler r;
    EXPECT_FALSE(add(r, kKey, 8, 8, true));
    EXPECT_FALSE(add(r, kKey, 0, 24, true));  // contains [8, 16)
    EXPECT_EQ(r.counters().overlaps, 1u);
    expect_empty(r);
  }
  {
    Reassembler r;
    EXPECT_FALSE(add(r, kKey, 0, 24, true));
    EXPECT_FALSE(add(r, kKey, 8, 8, true));  // inside [0, 24)
    EXPECT_EQ(r.counters().overlaps, 1u);
    expect_empty(r);
  }
  {
    Reassembler r;
    EXPECT_FALSE(add(r, kKey, 0, 8, true));
    EXPECT_FALSE(add(r, kKey, 0, 16, true));  // same offset, longer
    EXPECT_EQ(r.counters().overlaps, 1u);
    EXPECT_EQ(r.counters().duplicates, 0u);
    expect_empty(r);
  }
}

TEST(Reassembler, TeardropPairsHoldNothing) {
  // The original: a 40-byte first fragment, then a last fragment inside it
  // that ends before it does (old stacks computed a negative length). It
  // contradicts the bytes held past its end: malformed.
  {
    Reassembler r;
    EXPECT_FALSE(add(r, kKey, 0, 40, true));
    EXPECT_FALSE(add(r, kKey, 24, 4, false));
    EXPECT_EQ(r.counters().malformed, 1u);
    expect_empty(r);
  }
  // With more_fragments on the second: an overlap.
  {
    Reassembler r;
    EXPECT_FALSE(add(r, kKey, 0, 40, true));
    EXPECT_FALSE(add(r, kKey, 24, 8, true));
    EXPECT_FALSE(add(r, kKey, 48, 8, false));  // a new attempt, never whole
    EXPECT_EQ(r.counters().overlaps, 1u);
    EXPECT_EQ(r.counters().reassembled, 0u);
    EXPECT_EQ(r.bytes_held(), 8u);
  }
}

// ---- timeouts ----

TEST(Reassembler, ADatagramTimesOutAfterItsFirstFragment) {
  ReassemblyLimits limits;
  limits.timeout_ns = 30 * kSecond;
  Reassembler r(limits);
  EXPECT_EQ(r.next_deadline(), 0u);
  EXPECT_FALSE(add(r, kKey, 0, 8, true, 100));
  EXPECT_EQ(r.next_deadline(), 100 + 30 * kSecond);
  // Later fragments do not move the deadline.
  EXPECT_FALSE(add(r, kKey, 8, 8, true, 20 * kSecond));
  FragmentKey other = kKey;
  other.id = 7;
  EXPECT_FALSE(add(r, other, 0, 8, true, 10 * kSecond));
  EXPECT_EQ(r.next_deadline(), 100 + 30 * kSecond);  // the earliest

  r.expire(100 + 30 * kSecond - 1);
  EXPECT_EQ(r.datagrams_in_progress(), 2u);
  EXPECT_EQ(r.counters().timeouts, 0u);
  r.expire(100 + 30 * kSecond);  // reached at the instant
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  EXPECT_EQ(r.bytes_held(), 8u);
  EXPECT_EQ(r.counters().timeouts, 1u);
  EXPECT_EQ(r.next_deadline(), 40 * kSecond);
  r.expire(1000 * kSecond);
  EXPECT_EQ(r.counters().timeouts, 2u);
  expect_empty(r);
}

TEST(Reassembler, AddDropsADueDatagramBeforeUsingIt) {
  ReassemblyLimits limits;
  limits.timeout_ns = kSecond;
  Reassembler r(limits);
  EXPECT_FALSE(add(r, kKey, 0, 8, true, 0));
  // The missing piece comes at the deadline, with no expire() in between:
  // too late; it starts a new attempt instead.
  EXPECT_FALSE(add(r, kKey, 8, 8, false, kSecond));
  EXPECT_EQ(r.counters().timeouts, 1u);
  EXPECT_EQ(r.counters().reassembled, 0u);
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  EXPECT_EQ(r.bytes_held(), 8u);
  EXPECT_EQ(r.next_deadline(), 2 * kSecond);
  // Just within that attempt's deadline, it completes.
  auto out = add(r, kKey, 0, 8, true, 2 * kSecond - 1);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 16));
}

TEST(Reassembler, AHugeTimeoutSaturatesInsteadOfWrapping) {
  ReassemblyLimits limits;
  limits.timeout_ns = UINT64_MAX;
  Reassembler r(limits);
  EXPECT_FALSE(add(r, kKey, 0, 8, true, 5));
  EXPECT_EQ(r.next_deadline(), UINT64_MAX);
  r.expire(UINT64_MAX - 1);
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
}

// ---- limits ----

TEST(Reassembler, AFullTableRefusesNewDatagramsAndKeepsThoseInProgress) {
  ReassemblyLimits limits;
  limits.max_datagrams = 4;
  limits.timeout_ns = kSecond;
  Reassembler r(limits);
  EXPECT_FALSE(add(r, kKey, 0, 8, true, 0));  // honest, first
  for (uint32_t i = 0; i < 1000; ++i) {
    FragmentKey hostile{0xc0a80000 + i, kKey.destination, static_cast<uint16_t>(i), 17};
    EXPECT_FALSE(add(r, hostile, 0, 8, true, 1));
    ASSERT_LE(r.datagrams_in_progress(), 4u);
  }
  EXPECT_EQ(r.datagrams_in_progress(), 4u);
  EXPECT_EQ(r.counters().over_limit, 997u);
  EXPECT_EQ(r.bytes_held(), 32u);
  // The honest datagram still completes, and frees its place.
  auto out = add(r, kKey, 8, 8, false, 2);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 16));
  EXPECT_EQ(r.datagrams_in_progress(), 3u);
  FragmentKey late = kKey;
  late.id = 99;
  EXPECT_FALSE(add(r, late, 0, 8, true, 3));
  EXPECT_EQ(r.datagrams_in_progress(), 4u);
  EXPECT_EQ(r.counters().over_limit, 997u);
  // The flood times out; the table takes new datagrams again.
  FragmentKey after = kKey;
  after.id = 100;
  EXPECT_FALSE(add(r, after, 0, 8, true, kSecond + 1));
  EXPECT_EQ(r.counters().timeouts, 3u);  // the three hostile ones let in
  EXPECT_EQ(r.datagrams_in_progress(), 2u);
}

TEST(Reassembler, MaxBytesBoundsWhatIsHeld) {
  ReassemblyLimits limits;
  limits.max_bytes = 1000;
  Reassembler r(limits);
  FragmentKey a = kKey, b = kKey, c = kKey;
  b.id = 2;
  c.id = 3;
  EXPECT_FALSE(add(r, a, 0, 400, true));
  EXPECT_FALSE(add(r, b, 0, 400, true));
  EXPECT_FALSE(add(r, c, 0, 400, true));  // a new datagram that does not fit
  EXPECT_EQ(r.counters().over_limit, 1u);
  EXPECT_EQ(r.datagrams_in_progress(), 2u);
  EXPECT_FALSE(add(r, a, 400, 200, true));  // exactly up to the limit
  EXPECT_EQ(r.bytes_held(), 1000u);
  // b cannot take 8 more: it could never complete, so it goes.
  EXPECT_FALSE(add(r, b, 400, 8, false));
  EXPECT_EQ(r.counters().over_limit, 2u);
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  EXPECT_EQ(r.bytes_held(), 600u);
  auto out = add(r, a, 600, 8, false);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(a, 0, 608));
  expect_empty(r);
}

TEST(Reassembler, MaxFragmentsBoundsEachDatagram) {
  ReassemblyLimits limits;
  limits.max_fragments = 4;
  Reassembler r(limits);
  // Four pieces: fits.
  auto out = feed(r, kKey, cut(30, {8}));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 30));
  // Five: the fifth discards the datagram; a repeat at the limit is still
  // only a duplicate.
  auto five = cut(40, {8});
  ASSERT_EQ(five.size(), 5u);
  for (int i = 0; i < 4; ++i)
    EXPECT_FALSE(add(r, kKey, five[i].offset, 8, true));
  EXPECT_FALSE(add(r, kKey, 8, 8, true));
  EXPECT_EQ(r.counters().duplicates, 1u);
  EXPECT_EQ(r.counters().over_limit, 0u);
  EXPECT_EQ(r.bytes_held(), 32u);
  EXPECT_FALSE(add(r, kKey, 32, 8, false));
  EXPECT_EQ(r.counters().over_limit, 1u);
  expect_empty(r);
}

TEST(Reassembler, AFloodOfTinyFragmentsStaysWithinEveryLimit) {
  ReassemblyLimits limits;
  limits.max_datagrams = 8;
  limits.max_fragments = 16;
  limits.max_bytes = 1 << 20;
  g_live_buffers = g_live_bytes = 0;
  {
    Reassembler r(limits);
    // 8-byte fragments 16 bytes apart: never whole, never overlapping.
    uint64_t sent = 0;
    for (uint32_t k = 0; k < 20; ++k) {
      FragmentKey key = kKey;
      key.id = static_cast<uint16_t>(k);
      for (uint32_t off = 0; off < 4096; off += 16, ++sent) {
        EXPECT_FALSE(r.add(key, off, true, counted(content(key, off, off + 8)), 0));
        ASSERT_LE(g_live_buffers, limits.max_datagrams * limits.max_fragments);
        ASSERT_EQ(g_live_bytes, r.bytes_held());
      }
    }
    EXPECT_EQ(r.counters().fragments, sent);
    // Each of the first 8 keys: 16 held, the 17th discards, the 18th starts
    // again... (256 offsets: 15 rounds of 17, then 1 held); keys 9..20 are
    // refused whole.
    EXPECT_EQ(r.datagrams_in_progress(), 8u);
    EXPECT_EQ(r.bytes_held(), 8u * 8u);
    EXPECT_EQ(r.counters().over_limit, 8u * 15u + 12u * 256u);
  }
  EXPECT_EQ(g_live_buffers, 0u);  // destroying the reassembler frees what it held
}

// Random fragments, hostile and honest, under small limits: after every one,
// the reassembler holds no more than its limits allow (counted by the
// buffers it keeps alive), and whatever it hands back is a right datagram.
TEST(Reassembler, HostileFloodKeepsMemoryBoundedAndResultsRight) {
  ReassemblyLimits limits;
  limits.max_datagrams = 16;
  limits.max_bytes = 8192;
  limits.max_fragments = 12;
  limits.timeout_ns = kSecond;
  g_live_buffers = g_live_bytes = 0;
  uint64_t completed = 0, whole = 0, calls = 0;
  {
    Reassembler r(limits);
    std::mt19937 rng(12345);
    auto pick = [&](uint32_t lo, uint32_t hi) {
      return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
    };
    std::vector<std::pair<FragmentKey, Piece>> honest;  // pieces still to send
    uint64_t now = 0;
    uint16_t next_honest_id = 0;
    for (int step = 0; step < 200000; ++step) {
      now += pick(0, 200) * 1000;  // up to 0.2 ms
      FragmentKey key = kKey;
      Piece p{};
      if (honest.empty() && pick(0, 9) == 0) {
        // A well-formed datagram of a few pieces, sent shuffled among the noise.
        key.id = 0x8000 | next_honest_id++;
        auto pieces = cut(pick(1, 4000), {8 * pick(1, 100), 8 * pick(1, 100)});
        std::shuffle(pieces.begin(), pieces.end(), rng);
        for (const Piece& q : pieces)
          honest.push_back({key, q});
      }
      if (!honest.empty() && pick(0, 3) == 0) {
        key = honest.back().first;
        p = honest.back().second;
        if (pick(0, 7) != 0) honest.pop_back();  // else sent again: a duplicate
      } else {
        key.id = static_cast<uint16_t>(pick(0, 40));
        key.protocol = static_cast<uint8_t>(pick(0, 1));
        const uint32_t kind = pick(0, 9);
        p.offset = kind == 0 ? pick(0, 70000) : 8 * pick(0, kind < 5 ? 64 : 8191);
        p.length = kind == 1 ? pick(0, 3000) : 8 * pick(0, kind < 5 ? 64 : 400);
        p.more = pick(0, 4) != 0;
      }
      const bool p_whole = p.offset == 0 && !p.more;
      ++calls;
      auto out =
          r.add(key, p.offset, p.more, counted(content(key, p.offset, p.offset + p.length)), now);
      if (out.has_value()) {
        if (p_whole) {
          ++whole;
        } else {
          ++completed;
        }
        ASSERT_EQ(out->to_string(), content(key, 0, out->length())) << "step " << step;
        out.reset();
      }
      ASSERT_LE(r.bytes_held(), limits.max_bytes) << "step " << step;
      ASSERT_EQ(g_live_bytes, r.bytes_held()) << "step " << step;
      ASSERT_LE(r.datagrams_in_progress(), limits.max_datagrams);
      ASSERT_LE(g_live_buffers, limits.max_datagrams * limits.max_fragments);
      if (step % 1000 == 0) r.expire(now);
    }
    const ReassemblyCounters& c = r.counters();
    EXPECT_EQ(c.fragments, calls);
    EXPECT_EQ(c.reassembled, completed);
    // Every way out happened, so the flood exercised them all.
    EXPECT_GT(completed, 0u);
    EXPECT_GT(whole, 0u);
    EXPECT_GT(c.duplicates, 0u);
    EXPECT_GT(c.overlaps, 0u);
    EXPECT_GT(c.timeouts, 0u);
    EXPECT_GT(c.over_limit, 0u);
    EXPECT_GT(c.malformed, 0u);
  }
  EXPECT_EQ(g_live_buffers, 0u);
  EXPECT_EQ(g_live_bytes, 0u);
}

TEST(Reassembler, ZeroLimitsRefuseEveryFragment) {
  ReassemblyLimits limits;
  limits.max_datagrams = 0;
  Reassembler r(limits);
  EXPECT_FALSE(add(r, kKey, 8, 8, false));
  limits = {};
  limits.max_fragments = 0;
  Reassembler s(limits);
  EXPECT_FALSE(add(s, kKey, 8, 8, false));
  limits = {};
  limits.max_bytes = 7;
  Reassembler t(limits);
  EXPECT_FALSE(add(t, kKey, 8, 8, false));
  for (const Reassembler* x : {&r, &s, &t}) {
    EXPECT_EQ(x->counters().over_limit, 1u);
    expect_empty(*x);
  }
}

// ---- malformed ----

TEST(Reassembler, FragmentsMalformedOnTheirOwnAreDroppedAndLeaveTheDatagram) {
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 0, 16, true));
  const Piece bad[] = {
      {65528, 16, true},  // ends past 65535
      {65528, 8, false},  // ends at 65536
      {70000, 8, false},  // starts past 65535
      {16, 12, true},     // not the last, not a multiple of 8
      {16, 0, true},      // not the last, empty
      {16, 0, false},     // the last, empty, past offset 0
      {20, 8, true},      // offset not a multiple of 8
  };
  for (const Piece& p : bad)
    EXPECT_FALSE(add(r, kKey, p.offset, p.length, p.more));
  EXPECT_EQ(r.counters().malformed, std::size(bad));
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  EXPECT_EQ(r.bytes_held(), 16u);
  auto out = add(r, kKey, 16, 5, false);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 21));
}

TEST(Reassembler, TheLargestEndIs65535) {
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 65528, 7, false));
  EXPECT_EQ(r.counters().malformed, 0u);
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
}

TEST(Reassembler, FragmentsContradictingTheDatagramDiscardIt) {
  struct Case {
    const char* what;
    Piece first, second;
  };
  const Case cases[] = {
      {"a second last fragment with another end", {8, 8, false}, {16, 8, false}},
      {"a second last fragment ending sooner", {24, 8, false}, {8, 8, false}},
      {"data past the known end", {8, 8, false}, {16, 8, true}},
      {"a last fragment ending before bytes held", {24, 8, true}, {8, 8, false}},
  };
  for (const Case& c : cases) {
    Reassembler r;
    EXPECT_FALSE(add(r, kKey, c.first.offset, c.first.length, c.first.more)) << c.what;
    EXPECT_FALSE(add(r, kKey, c.second.offset, c.second.length, c.second.more)) << c.what;
    EXPECT_EQ(r.counters().malformed, 1u) << c.what;
    EXPECT_EQ(r.counters().overlaps, 0u) << c.what;
    expect_empty(r);
  }
  // The same last fragment twice is a duplicate, not a contradiction.
  Reassembler r;
  EXPECT_FALSE(add(r, kKey, 8, 8, false));
  EXPECT_FALSE(add(r, kKey, 8, 8, false));
  EXPECT_EQ(r.counters().malformed, 0u);
  EXPECT_EQ(r.counters().duplicates, 1u);
  // So is the last fragment again with more_fragments set: it ends at the
  // known end, not past it (as Linux allows).
  EXPECT_FALSE(add(r, kKey, 8, 8, true));
  EXPECT_EQ(r.counters().duplicates, 2u);
  auto out = add(r, kKey, 0, 8, true);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_string(), content(kKey, 0, 16));
}

}  // namespace
}  // namespace ebb::net::stack
