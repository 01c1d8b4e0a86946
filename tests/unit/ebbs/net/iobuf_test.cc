#include "ebbs/net/iobuf/iobuf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ebbs/net/iobuf/cursor.h"

namespace ebb::net {
namespace {

// 18 bytes over links of every kind: owned, unowned, taken over, a zero-length
// link, and links that share one buffer.
const std::string kText = "abcdefghijklmnopqr";

int g_released = 0;
void count_release(void* data, void*) {
  ++g_released;
  std::free(data);
}

IOBuf mixed_chain() {
  IOBuf chain = IOBuf::CopyOf("abc", 3, /*headroom=*/8, /*tailroom=*/8).value();  // owned
  chain.append(IOBuf::WrapUnowned("d", 1).value());                             // unowned
  chain.append(IOBuf::Create(16).value());                                      // empty link
  void* taken = std::malloc(5);
  std::memcpy(taken, "efghi", 5);
  chain.append(IOBuf::TakeOwnership(taken, 5, count_release).value());  // taken over
  // "jklmnop" and "qr": two links sharing one buffer.
  IOBuf shared = IOBuf::CopyOf("jklmnopqr", 9).value();
  IOBuf first = shared.split_front(7).value();
  chain.append(std::move(first));
  chain.append(std::move(shared));
  return chain;
}

TEST(IOBuf, CloneRangeOfEveryPieceSharesTheBytes) {
  const IOBuf chain = mixed_chain();
  for (std::size_t offset = 0; offset <= kText.size(); ++offset) {
    for (std::size_t n = 0; offset + n <= kText.size(); ++n) {
      IOBuf piece = chain.clone_range(offset, n).value();
      ASSERT_EQ(piece.to_string(), kText.substr(offset, n)) << offset << "+" << n;
      EXPECT_EQ(piece.headroom(), 0u);  // shared: never writable
    }
  }
  EXPECT_EQ(chain.to_string(), kText);  // the source is unchanged
}

// An owned buffer's first link lives in the buffer's own allocation: a
// clone must keep the bytes alive after that link is gone, and the last
// one to go frees everything (ASan checks both).
TEST(IOBuf, ACloneOutlivesTheLinkThatCameWithItsBuffer) {
  IOBuf original = IOBuf::CopyOf("embedded", 8).value();
  IOBuf clone = original.clone().value();
  original.clear();
  EXPECT_EQ(clone.to_string(), "embedded");
  IOBuf again = clone.clone().value();
  clone.clear();
  EXPECT_EQ(again.to_string(), "embedded");
}

TEST(IOBuf, AMixedChainReadsBackWhole) {
  g_released = 0;
  {
    IOBuf chain = mixed_chain();
    EXPECT_EQ(chain.length(), kText.size());
    EXPECT_EQ(chain.link_count(), 6u);
    EXPECT_EQ(chain.to_string(), kText);
  }
  EXPECT_EQ(g_released, 1);  // the taken-over memory went back exactly once
}

TEST(IOBuf, EverySplitPointKeepsBothSides) {
  for (std::size_t n = 0; n <= kText.size(); ++n) {
    g_released = 0;
    {
      IOBuf rest = mixed_chain();
      IOBuf front = rest.split_front(n).value();
      EXPECT_EQ(front.to_string(), kText.substr(0, n)) << n;
      EXPECT_EQ(rest.to_string(), kText.substr(n)) << n;
      EXPECT_EQ(front.length() + rest.length(), kText.size());
      // Put back together, the chain is what it was.
      front.append(std::move(rest));
      EXPECT_EQ(front.to_string(), kText) << n;
      EXPECT_TRUE(rest.empty());
    }
    EXPECT_EQ(g_released, 1) << n;
  }
}

TEST(IOBuf, EverySplitPointOfEveryPiece) {
  // Split at n, then split the rest again at every m: three pieces.
  for (std::size_t n = 0; n <= kText.size(); ++n) {
    for (std::size_t m = 0; m <= kText.size() - n; ++m) {
      IOBuf c = mixed_chain();
      IOBuf a = c.split_front(n).value();
      IOBuf b = c.split_front(m).value();
      ASSERT_EQ(a.to_string() + "|" + b.to_string() + "|" + c.to_string(),
                kText.substr(0, n) + "|" + kText.substr(n, m) + "|" + kText.substr(n + m));
    }
  }
}

TEST(IOBuf, TrimEitherEndAtEveryPoint) {
  for (std::size_t n = 0; n <= kText.size(); ++n) {
    IOBuf front = mixed_chain();
    front.trim_front(n);
    EXPECT_EQ(front.to_string(), kText.substr(n));
    IOBuf back = mixed_chain();
    back.trim_back(n);
    EXPECT_EQ(back.to_string(), kText.substr(0, kText.size() - n));
    EXPECT_EQ(back.length(), kText.size() - n);
    // The chain still takes appends at its (new) end.
    ASSERT_TRUE(back.append_copy("!", 1).ok());
    EXPECT_EQ(back.to_string(), kText.substr(0, kText.size() - n) + "!");
  }
}

TEST(IOBuf, GatherEveryPrefix) {
  for (std::size_t n = 0; n <= kText.size(); ++n) {
    IOBuf chain = mixed_chain();
    Result<const uint8_t*> bytes = chain.gather(n);
    ASSERT_TRUE(bytes.ok()) << n;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(*bytes), n), kText.substr(0, n)) << n;
    EXPECT_EQ(chain.to_string(), kText) << n;  // contents unchanged
    EXPECT_EQ(chain.length(), kText.size());
    EXPECT_GE(chain.first_link()->length, n);
  }
  IOBuf chain = mixed_chain();
  EXPECT_EQ(chain.gather(kText.size() + 1).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(chain.to_string(), kText);
}

TEST(IOBuf, GatherGrowsAWritableFirstLinkInPlace) {
  IOBuf chain = IOBuf::CopyOf("ab", 2, 0, /*tailroom=*/64).value();
  const uint8_t* first = chain.first_link()->data;
  chain.append(IOBuf::CopyOf("cdef", 4).value());
  const uint8_t* bytes = chain.gather(5).value();
  EXPECT_EQ(bytes, first);  // no new buffer
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes), 5), "abcde");
  EXPECT_EQ(chain.to_string(), "abcdef");
}

TEST(IOBuf, CopyOutEveryRange) {
  const IOBuf chain = mixed_chain();
  for (std::size_t offset = 0; offset <= kText.size(); ++offset) {
    for (std::size_t size = 0; size + offset <= kText.size(); ++size) {
      std::string out(size, '\0');
      ASSERT_TRUE(chain.copy_out(offset, out.data(), size));
      ASSERT_EQ(out, kText.substr(offset, size));
    }
    char c;
    EXPECT_FALSE(chain.copy_out(offset, &c, kText.size() - offset + 1));
  }
}

TEST(IOBuf, HeadroomAndTailroomOnlyWhenTheBufferIsOurs) {
  IOBuf chain = IOBuf::Create(100, 16).value();
  EXPECT_EQ(chain.headroom(), 16u);
  EXPECT_EQ(chain.tailroom(), 100u);
  std::memcpy(chain.push_back(5), "world", 5);
  std::memcpy(chain.push_front(6), "hello ", 6);
  EXPECT_EQ(chain.to_string(), "hello world");
  EXPECT_EQ(chain.headroom(), 10u);
  EXPECT_EQ(chain.push_front(11), nullptr);  // more than there is: nothing changes
  EXPECT_EQ(chain.to_string(), "hello world");
  {
    IOBuf copy = chain.clone().value();
    EXPECT_TRUE(chain.is_shared());
    EXPECT_EQ(chain.headroom(), 0u);  // another chain sees these bytes
    EXPECT_EQ(chain.tailroom(), 0u);
    EXPECT_EQ(chain.push_back(1), nullptr);
    ASSERT_TRUE(chain.append_copy("!", 1).ok());  // goes into a new link instead
    EXPECT_EQ(chain.to_string(), "hello world!");
    EXPECT_EQ(copy.to_string(), "hello world");
  }
  EXPECT_FALSE(chain.is_shared());
  IOBuf unowned = IOBuf::WrapUnowned("constant", 8).value();
  unowned.trim_front(3);
  EXPECT_EQ(unowned.headroom(), 0u);  // never written through
  EXPECT_EQ(unowned.tailroom(), 0u);
}

TEST(IOBuf, AppendCopyFillsTailroomThenAddsLinks) {
  IOBuf chain = IOBuf::Create(4).value();
  std::string expect;
  for (int i = 0; i < 100; ++i) {
    const std::string piece = std::to_string(i) + ",";
    ASSERT_TRUE(chain.append_copy(piece.data(), piece.size(), /*link_capacity=*/16).ok());
    expect += piece;
  }
  EXPECT_EQ(chain.to_string(), expect);
  EXPECT_GT(chain.link_count(), 10u);
  EXPECT_LT(chain.link_count(), expect.size() / 16 + 3);  // links are filled, not one per write
}

TEST(IOBuf, ClonesShareBytesAndOutliveTheOriginal) {
  g_released = 0;
  IOBuf copy;
  {
    IOBuf chain = mixed_chain();
    copy = chain.clone().value();
    EXPECT_EQ(copy.to_string(), kText);
    chain.trim_front(5);  // changes the original's view only
    EXPECT_EQ(copy.to_string(), kText);
  }
  EXPECT_EQ(g_released, 0);  // the clone still refers to the taken-over memory
  EXPECT_EQ(copy.to_string(), kText);
  copy.clear();
  EXPECT_EQ(g_released, 1);
}

TEST(IOBuf, ABufferMayBeReleasedOnAnotherThread) {
  for (int round = 0; round < 200; ++round) {
    IOBuf chain = IOBuf::CopyOf(kText).value();
    IOBuf copy = chain.clone().value();
    std::thread other([c = std::move(copy)]() mutable { c.clear(); });
    chain.clear();
    other.join();
  }
}

TEST(IOBuf, PrependAndMoves) {
  IOBuf tail = IOBuf::CopyOf("world").value();
  IOBuf head = IOBuf::CopyOf("hello ").value();
  tail.prepend(std::move(head));
  EXPECT_EQ(tail.to_string(), "hello world");
  EXPECT_TRUE(head.empty());
  IOBuf moved = std::move(tail);
  EXPECT_EQ(moved.to_string(), "hello world");
  EXPECT_TRUE(tail.empty());
  EXPECT_EQ(tail.link_count(), 0u);
  moved.append(std::move(moved));  // appending a chain to itself changes nothing
  EXPECT_EQ(moved.to_string(), "hello world");
}

TEST(IOBuf, ImpossibleSizesAreErrorsNotCrashes) {
  EXPECT_EQ(IOBuf::Create(SIZE_MAX, 16).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(IOBuf::Create(std::size_t{1} << 60).error().code(), Errc::kExhausted);
  IOBuf chain = IOBuf::CopyOf("abc").value();
  EXPECT_EQ(chain.append_copy("x", 1, std::size_t{1} << 60).error().code(), Errc::kExhausted);
  EXPECT_EQ(chain.to_string(), "abc");  // unchanged
}

TEST(IOBufDeathTest, CuttingPastTheEndPanics) {
  IOBuf chain = IOBuf::CopyOf("abc").value();
  EXPECT_DEATH((void)chain.split_front(4), "split_front\\(4\\) of a 3-byte chain");
  EXPECT_DEATH(chain.trim_front(4), "trim_front");
  EXPECT_DEATH(chain.trim_back(4), "trim_back");
}

// ---- Cursor and Appender ---------------------------------------------------------

TEST(Cursor, ReadsIntegersAtEveryOffsetAcrossLinks) {
  // 64 bytes 0, 1, 2, ... over links of 1, 2, 3, ... bytes.
  IOBuf chain;
  uint8_t next = 0;
  for (std::size_t size = 1; next < 64; ++size) {
    IOBuf link = IOBuf::Create(size).value();
    for (std::size_t i = 0; i < size && next < 64; ++i) *link.push_back(1) = next++;
    chain.append(std::move(link));
  }
  ASSERT_EQ(chain.length(), 64u);
  for (std::size_t at = 0; at + 8 <= 64; ++at) {
    Cursor in(chain);
    ASSERT_TRUE(in.skip(at));
    uint64_t be = 0, le = 0;
    Cursor again = in;
    ASSERT_TRUE(in.read_be(be));
    ASSERT_TRUE(again.read_le(le));
    uint64_t want_be = 0, want_le = 0;
    for (int i = 0; i < 8; ++i) {
      want_be = (want_be << 8) | (at + i);
      want_le |= uint64_t(at + i) << (8 * i);
    }
    EXPECT_EQ(be, want_be) << at;
    EXPECT_EQ(le, want_le) << at;
    EXPECT_EQ(in.position(), at + 8);
    EXPECT_EQ(in.remaining(), 64 - at - 8);
    uint16_t u16 = 0;
    Cursor c16(chain);
    ASSERT_TRUE(c16.skip(at));
    ASSERT_TRUE(c16.read_be(u16));
    EXPECT_EQ(u16, (at << 8) | (at + 1));
  }
}

TEST(Cursor, ShortReadsFailAndConsumeNothing) {
  const IOBuf chain = mixed_chain();
  Cursor in(chain);
  ASSERT_TRUE(in.skip(15));
  uint32_t word = 0xdeadbeef;
  EXPECT_FALSE(in.read_be(word));  // 3 bytes left
  EXPECT_EQ(word, 0xdeadbeefu);
  EXPECT_EQ(in.remaining(), 3u);
  char rest[4] = {};
  EXPECT_FALSE(in.read(rest, 4));
  EXPECT_FALSE(in.skip(4));
  ASSERT_TRUE(in.read(rest, 3));
  EXPECT_STREQ(rest, "pqr");
  EXPECT_EQ(in.remaining(), 0u);
  EXPECT_EQ(in.peek_length(), 0u);
  uint8_t byte;
  EXPECT_FALSE(in.read_be(byte));
}

TEST(Cursor, PeekWalksTheLinks) {
  const IOBuf chain = mixed_chain();
  Cursor in(chain);
  std::string seen;
  while (in.remaining() > 0) {
    seen.append(reinterpret_cast<const char*>(in.peek_data()), in.peek_length());
    ASSERT_GT(in.peek_length(), 0u);  // empty links are skipped
    ASSERT_TRUE(in.skip(in.peek_length()));
  }
  EXPECT_EQ(seen, kText);
}

TEST(Appender, WritesIntegersThatACursorReadsBack) {
  IOBuf chain;
  Appender out(chain, /*link_capacity=*/7);  // links end mid-integer
  for (uint32_t i = 0; i < 500; ++i) {
    ASSERT_TRUE(out.write_be(static_cast<uint16_t>(i)).ok());
    ASSERT_TRUE(out.write_le(i * 2654435761u).ok());
    ASSERT_TRUE(out.write_be(static_cast<uint64_t>(i) << 40).ok());
    ASSERT_TRUE(out.write("|", 1).ok());
  }
  EXPECT_EQ(chain.length(), 500u * 15);
  EXPECT_GT(chain.link_count(), 100u);
  Cursor in(chain);
  for (uint32_t i = 0; i < 500; ++i) {
    uint16_t a;
    uint32_t b;
    uint64_t c;
    char bar;
    ASSERT_TRUE(in.read_be(a) && in.read_le(b) && in.read_be(c) && in.read(&bar, 1)) << i;
    ASSERT_EQ(a, static_cast<uint16_t>(i));
    ASSERT_EQ(b, i * 2654435761u);
    ASSERT_EQ(c, static_cast<uint64_t>(i) << 40);
    ASSERT_EQ(bar, '|');
  }
  EXPECT_EQ(in.remaining(), 0u);
}

// ---- recycled buffers (off under sanitizers, which must see every free) ----

class Recycling : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IOBuf::recycles()) GTEST_SKIP() << "recycling is off in this build";
    IOBuf::release_kept_buffers();
  }
  void TearDown() override { IOBuf::release_kept_buffers(); }
};

TEST_F(Recycling, ADroppedBufferIsHandedOutAgainForItsClass) {
  for (std::size_t size : {1, 100, 400, 1500, 2048}) {
    IOBuf::release_kept_buffers();  // the last round's buffer
    const uint8_t* first;
    {
      Result<IOBuf> b = IOBuf::Create(size);
      ASSERT_TRUE(b.ok());
      first = b->push_back(size);
      ASSERT_NE(first, nullptr);
    }
    EXPECT_EQ(IOBuf::kept_buffers(), 1u) << size;
    Result<IOBuf> again = IOBuf::Create(size);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->push_back(size), first) << size;
    EXPECT_EQ(IOBuf::kept_buffers(), 0u) << size;
  }
}

TEST_F(Recycling, LargeBuffersAndUnownedMemoryAreNeverKept) {
  { Result<IOBuf> big = IOBuf::Create(4096); ASSERT_TRUE(big.ok()); }
  { Result<IOBuf> big = IOBuf::Create(2048, 64); ASSERT_TRUE(big.ok()); }  // over 2 KiB in all
  { Result<IOBuf> wrapped = IOBuf::WrapUnowned(kText.data(), kText.size()); ASSERT_TRUE(wrapped.ok()); }
  EXPECT_EQ(IOBuf::kept_buffers(), 0u);
}

TEST_F(Recycling, TheListIsBoundedAndReleasable) {
  {
    std::vector<IOBuf> many;
    for (int i = 0; i < 200; ++i) {
      Result<IOBuf> b = IOBuf::Create(64);
      ASSERT_TRUE(b.ok());
      many.push_back(std::move(*b));
    }
  }
  const std::size_t kept = IOBuf::kept_buffers();
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, 200u);  // the rest went back to the allocator
  IOBuf::release_kept_buffers();
  EXPECT_EQ(IOBuf::kept_buffers(), 0u);
}

TEST_F(Recycling, EachThreadKeepsItsOwn) {
  { Result<IOBuf> b = IOBuf::Create(64); ASSERT_TRUE(b.ok()); }
  ASSERT_EQ(IOBuf::kept_buffers(), 1u);
  std::size_t kept_there = 0, left_there = 99;
  Result<IOBuf> made_here = IOBuf::Create(64);  // takes this thread's kept buffer
  ASSERT_TRUE(made_here.ok());
  std::thread other([&] {
    left_there = IOBuf::kept_buffers();
    *made_here = IOBuf();  // dropped on this thread: kept by this thread
    kept_there = IOBuf::kept_buffers();
  });  // and freed when it exits
  other.join();
  EXPECT_EQ(left_there, 0u);
  EXPECT_EQ(kept_there, 1u);
  EXPECT_EQ(IOBuf::kept_buffers(), 0u);
}

}  // namespace
}  // namespace ebb::net
