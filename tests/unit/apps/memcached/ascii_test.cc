// The ASCII protocol, command by command, with memcached 1.6's exact replies.

#include <gtest/gtest.h>

#include <string>

#include "apps/memcached/protocol/ascii.h"
#include "tests/unit/apps/memcached/harness.h"

namespace ebb::memcached::testing {
namespace {

using AsciiTest = MemcachedTest;

TEST_F(AsciiTest, SetThenGet) {
  EXPECT_EQ(send("set k 5 0 3\r\nabc\r\n"), "STORED\r\n");
  EXPECT_EQ(send("get k\r\n"), "VALUE k 5 3\r\nabc\r\nEND\r\n");
  EXPECT_EQ(send("get missing\r\n"), "END\r\n");
  EXPECT_EQ(send("get k missing k\r\n"),
            "VALUE k 5 3\r\nabc\r\nVALUE k 5 3\r\nabc\r\nEND\r\n");
}

TEST_F(AsciiTest, LinesMayEndInABareNewline) {
  EXPECT_EQ(send("set k 0 0 1\nx\r\nget k\n"), "STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n");
}

TEST_F(AsciiTest, GetsShowsCasAndCasUsesIt) {
  send("set k 0 0 1\r\na\r\n");
  const std::string reply = send("gets k\r\n");
  ASSERT_TRUE(reply.starts_with("VALUE k 0 1 ")) << reply;
  const std::string cas = reply.substr(12, reply.find("\r\n") - 12);
  EXPECT_EQ(send("cas k 0 0 1 " + cas + "1\r\nb\r\n"), "EXISTS\r\n");
  EXPECT_EQ(send("cas k 0 0 1 " + cas + "\r\nb\r\n"), "STORED\r\n");
  EXPECT_EQ(send("cas k 0 0 1 " + cas + "\r\nc\r\n"), "EXISTS\r\n");
  EXPECT_EQ(send("cas missing 0 0 1 1\r\nc\r\n"), "NOT_FOUND\r\n");
  EXPECT_EQ(send("get k\r\n"), "VALUE k 0 1\r\nb\r\nEND\r\n");
}

TEST_F(AsciiTest, AddReplaceAppendPrepend) {
  EXPECT_EQ(send("replace k 0 0 1\r\na\r\n"), "NOT_STORED\r\n");
  EXPECT_EQ(send("append k 0 0 1\r\na\r\n"), "NOT_STORED\r\n");
  EXPECT_EQ(send("prepend k 0 0 1\r\na\r\n"), "NOT_STORED\r\n");
  EXPECT_EQ(send("add k 3 0 1\r\nb\r\n"), "STORED\r\n");
  EXPECT_EQ(send("add k 0 0 1\r\nc\r\n"), "NOT_STORED\r\n");
  EXPECT_EQ(send("append k 9 0 2\r\ncd\r\n"), "STORED\r\n");
  EXPECT_EQ(send("prepend k 9 0 1\r\na\r\n"), "STORED\r\n");
  EXPECT_EQ(send("get k\r\n"), "VALUE k 3 4\r\nabcd\r\nEND\r\n");  // flags stay
  EXPECT_EQ(send("replace k 1 0 1\r\nz\r\n"), "STORED\r\n");
  EXPECT_EQ(send("get k\r\n"), "VALUE k 1 1\r\nz\r\nEND\r\n");
}

TEST_F(AsciiTest, NoreplySilencesEveryCommandThatAcceptsIt) {
  EXPECT_EQ(send("set k 0 0 1 noreply\r\n1\r\n"), "");
  EXPECT_EQ(send("add k 0 0 1 noreply\r\n1\r\n"), "");
  EXPECT_EQ(send("replace k 0 0 1 noreply\r\n2\r\n"), "");
  EXPECT_EQ(send("append k 0 0 1 noreply\r\n3\r\n"), "");
  EXPECT_EQ(send("prepend k 0 0 1 noreply\r\n4\r\n"), "");
  EXPECT_EQ(send("cas k 0 0 1 1 noreply\r\n5\r\n"), "");
  EXPECT_EQ(send("incr k 1 noreply\r\n"), "");
  EXPECT_EQ(send("decr k 1 noreply\r\n"), "");
  EXPECT_EQ(send("touch k 10 noreply\r\n"), "");
  EXPECT_EQ(send("get k\r\n"), "VALUE k 0 3\r\n423\r\nEND\r\n");
  EXPECT_EQ(send("delete k noreply\r\n"), "");
  EXPECT_EQ(send("delete k 0 noreply\r\n"), "");
  EXPECT_EQ(send("verbosity 1 noreply\r\n"), "");
  EXPECT_EQ(send("flush_all noreply\r\n"), "");
  EXPECT_EQ(send("flush_all 0 noreply\r\n"), "");
  EXPECT_EQ(send("get k\r\n"), "END\r\n");
}

TEST_F(AsciiTest, Delete) {
  send("set k 0 0 1\r\na\r\n");
  EXPECT_EQ(send("delete k\r\n"), "DELETED\r\n");
  EXPECT_EQ(send("delete k\r\n"), "NOT_FOUND\r\n");
  send("set k 0 0 1\r\na\r\n");
  EXPECT_EQ(send("delete k 0\r\n"), "DELETED\r\n");
  EXPECT_EQ(send("delete k 5\r\n"),
            "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
  EXPECT_EQ(send("delete\r\n"), "ERROR\r\n");
}

TEST_F(AsciiTest, IncrDecrEdges) {
  EXPECT_EQ(send("incr n 1\r\n"), "NOT_FOUND\r\n");
  send("set n 0 0 20\r\n18446744073709551615\r\n");
  EXPECT_EQ(send("incr n 1\r\n"), "0\r\n");  // wraps
  EXPECT_EQ(send("decr n 5\r\n"), "0\r\n");  // floors
  EXPECT_EQ(send("incr n 18446744073709551615\r\n"), "18446744073709551615\r\n");
  EXPECT_EQ(send("incr n 18446744073709551616\r\n"),
            "CLIENT_ERROR invalid numeric delta argument\r\n");
  EXPECT_EQ(send("incr n -1\r\n"), "CLIENT_ERROR invalid numeric delta argument\r\n");
  EXPECT_EQ(send("incr n abc\r\n"), "CLIENT_ERROR invalid numeric delta argument\r\n");
  send("set s 0 0 2\r\nhi\r\n");
  EXPECT_EQ(send("incr s 1\r\n"), "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
  send("set ten 0 0 2\r\n10\r\n");
  EXPECT_EQ(send("decr ten 1\r\n"), "9\r\n");
  EXPECT_EQ(send("get ten\r\n"), "VALUE ten 0 2\r\n9 \r\nEND\r\n");  // memcached pads
  EXPECT_EQ(send("incr ten\r\n"), "ERROR\r\n");
}

TEST_F(AsciiTest, TouchAndGatMoveTheExpiry) {
  send("set k 0 10 1\r\na\r\n");
  EXPECT_EQ(send("touch k 100\r\n"), "TOUCHED\r\n");
  EXPECT_EQ(send("touch missing 100\r\n"), "NOT_FOUND\r\n");
  EXPECT_EQ(send("touch k abc\r\n"), "CLIENT_ERROR invalid exptime argument\r\n");
  advance(50);
  EXPECT_EQ(send("get k\r\n"), "VALUE k 0 1\r\na\r\nEND\r\n");
  EXPECT_EQ(send("gat 10 k\r\n"), "VALUE k 0 1\r\na\r\nEND\r\n");
  const std::string gats = send("gats 100 k\r\n");
  EXPECT_TRUE(gats.starts_with("VALUE k 0 1 ")) << gats;
  EXPECT_EQ(send("gat x k\r\n"), "CLIENT_ERROR invalid exptime argument\r\n");
  advance(60);
  EXPECT_EQ(send("get k\r\n"), "VALUE k 0 1\r\na\r\nEND\r\n");
  advance(50);
  EXPECT_EQ(send("get k\r\n"), "END\r\n");
}

TEST_F(AsciiTest, RelativeAbsoluteAndNegativeExpiry) {
  send("set rel 0 5 1\r\na\r\n");
  send("set neg 0 -1 1\r\na\r\n");
  int64_t in_an_hour = 0;
  run(0, [&] { in_an_hour = store()->clock().unix_time(store()->clock().now()) + 3600; });
  send("set abs 0 " + std::to_string(in_an_hour) + " 1\r\na\r\n");
  send("set past 0 " + std::to_string(ServerClock::kMaxRelative + 1) + " 1\r\na\r\n");
  EXPECT_EQ(send("get neg past\r\n"), "END\r\n");
  EXPECT_EQ(send("get rel abs\r\n"), "VALUE rel 0 1\r\na\r\nVALUE abs 0 1\r\na\r\nEND\r\n");
  advance(5);
  EXPECT_EQ(send("get rel abs\r\n"), "VALUE abs 0 1\r\na\r\nEND\r\n");
  advance(3600);
  EXPECT_EQ(send("get abs\r\n"), "END\r\n");
}

TEST_F(AsciiTest, FlushAllWithAndWithoutDelay) {
  send("set a 0 0 1\r\n1\r\n");
  EXPECT_EQ(send("flush_all\r\n"), "OK\r\n");
  EXPECT_EQ(send("get a\r\n"), "END\r\n");
  send("set b 0 0 1\r\n2\r\n");
  EXPECT_EQ(send("flush_all 10\r\n"), "OK\r\n");
  EXPECT_EQ(send("get b\r\n"), "VALUE b 0 1\r\n2\r\nEND\r\n");
  advance(10);
  EXPECT_EQ(send("get b\r\n"), "END\r\n");
  EXPECT_EQ(send("flush_all x\r\n"), "CLIENT_ERROR invalid exptime argument\r\n");
}

TEST_F(AsciiTest, KeysOf250AndOf251Bytes) {
  const std::string ok(250, 'k');
  const std::string too_long(251, 'k');
  EXPECT_EQ(send("set " + ok + " 0 0 1\r\na\r\n"), "STORED\r\n");
  EXPECT_EQ(send("get " + ok + "\r\n"), "VALUE " + ok + " 0 1\r\na\r\nEND\r\n");
  EXPECT_EQ(send("set " + too_long + " 0 0 1\r\na\r\n"),
            "CLIENT_ERROR bad command line format\r\nERROR\r\n");  // the data line is a command
  EXPECT_EQ(send("get " + too_long + "\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("delete " + too_long + "\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("incr " + too_long + " 1\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("touch " + too_long + " 1\r\n"), "CLIENT_ERROR bad command line format\r\n");
}

TEST_F(AsciiTest, KeysWithControlCharactersAreKeysLikeAnyOther) {
  const std::string key = "a\x01\tb\x7f";
  EXPECT_EQ(send("set " + key + " 0 0 1\r\nx\r\n"), "STORED\r\n");
  EXPECT_EQ(send("get " + key + "\r\n"), "VALUE " + key + " 0 1\r\nx\r\nEND\r\n");
  EXPECT_EQ(send("get a\x01\r\n"), "END\r\n");
}

TEST_F(AsciiTest, BadNumbersInStorageCommands) {
  const std::string bad = "CLIENT_ERROR bad command line format\r\n";
  EXPECT_EQ(send("set k x 0 1\r\n"), bad);
  EXPECT_EQ(send("set k -1 0 1\r\n"), bad);
  EXPECT_EQ(send("set k 4294967296 0 1\r\n"), bad);
  EXPECT_EQ(send("set k 4294967295 0 1\r\na\r\n"), "STORED\r\n");
  EXPECT_EQ(send("set k 0 2147483648 1\r\n"), bad);
  EXPECT_EQ(send("set k 0 0 -1\r\n"), bad);
  EXPECT_EQ(send("set k 0 0 99999999999\r\n"), bad);
  EXPECT_EQ(send("cas k 0 0 1 -5\r\n"), bad);
  EXPECT_EQ(send("set k 0 0\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("set k 0 0 1 2 3\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("get k\r\n"), "VALUE k 4294967295 1\r\na\r\nEND\r\n");
}

TEST_F(AsciiTest, BadDataChunk) {
  EXPECT_EQ(send("set k 0 0 3\r\nabcde\r\n"), "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
  EXPECT_EQ(send("get k\r\n"), "END\r\n");
}

class SmallItemTest : public MemcachedTest {
 protected:
  SmallItemTest() {
    table_options.item_size_max = 2048;
    settings.item_size_max = 2048;
  }
};

TEST_F(SmallItemTest, ValueExactlyAtAndOnePastTheItemLimit) {
  const std::size_t fits = 2048 - Item::size_for(1, 0);
  const std::string value(fits, 'v');
  EXPECT_EQ(send("set k 0 0 " + std::to_string(fits) + "\r\n" + value + "\r\n"), "STORED\r\n");
  // One byte more: refused, the data skipped (even in pieces), the old value
  // gone, and the next command served.
  const std::string big(fits + 1, 'w');
  const std::string request = "set k 0 0 " + std::to_string(fits + 1) + "\r\n" + big + "\r\n";
  EXPECT_EQ(send(request.substr(0, 40)), "SERVER_ERROR object too large for cache\r\n");
  EXPECT_EQ(send(request.substr(40) + "get k\r\n"), "END\r\n");
  EXPECT_EQ(send("set k 0 0 1\r\na\r\nget k\r\n"), "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n");
}

TEST_F(AsciiTest, VersionVerbosityStatsUnknown) {
  EXPECT_EQ(send("version\r\n"), std::string("VERSION ") + kVersion + "\r\n");
  EXPECT_EQ(send("verbosity 1\r\n"), "OK\r\n");
  EXPECT_EQ(send("verbosity\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("bogus\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("stats nonsense\r\n"), "ERROR\r\n");
  send("set k 0 0 1\r\na\r\nget k\r\nget nope\r\n");
  const std::string stats = send("stats\r\n");
  EXPECT_NE(stats.find("STAT cmd_get 2\r\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("STAT get_hits 1\r\n"), std::string::npos);
  EXPECT_NE(stats.find("STAT get_misses 1\r\n"), std::string::npos);
  EXPECT_NE(stats.find("STAT curr_items 1\r\n"), std::string::npos);
  EXPECT_TRUE(stats.ends_with("END\r\n"));
  for (const char* group : {"settings", "items", "slabs", "conns", "cores"}) {
    const std::string reply = send(std::string("stats ") + group + "\r\n");
    EXPECT_TRUE(reply.starts_with("STAT ") && reply.ends_with("END\r\n")) << group << ": " << reply;
  }
  EXPECT_NE(send("stats settings\r\n").find("STAT item_size_max 1048576\r\n"), std::string::npos);
  EXPECT_NE(send("stats cores\r\n").find("STAT core0:cmd_get 2\r\n"), std::string::npos);
}

TEST_F(AsciiTest, CacheMemlimitChangesTheLimit) {
  EXPECT_EQ(send("cache_memlimit 100\r\n"), "OK\r\n");
  EXPECT_NE(send("stats\r\n").find("STAT limit_maxbytes 104857600\r\n"), std::string::npos);
  EXPECT_EQ(send("cache_memlimit 7\r\n"),
            "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
  EXPECT_EQ(send("cache_memlimit x\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("cache_memlimit 9 noreply\r\n"), "");
  EXPECT_NE(send("stats\r\n").find("STAT limit_maxbytes 9437184\r\n"), std::string::npos);
}

TEST_F(AsciiTest, QuitClosesAfterEarlierReplies) {
  EXPECT_EQ(send("set k 0 0 1\r\na\r\nquit\r\nget k\r\n"), "STORED\r\n");
  EXPECT_TRUE(closed());
}

TEST_F(AsciiTest, AnOverlongLineClosesTheConnection) {
  EXPECT_EQ(send(std::string(ascii::kMaxLine + 1, 'x')), "");
  EXPECT_TRUE(closed());
}

TEST_F(AsciiTest, AnOverlongLineClosesEvenWhenItsEndCameWithIt) {
  EXPECT_EQ(send("version\r\n" + std::string(ascii::kMaxLine + 1, 'x') + "\r\nversion\r\n"),
            std::string("VERSION ") + kVersion + "\r\n");
  EXPECT_TRUE(closed());
}

// The limit counts what comes before the '\n' ("\r" included), however the
// line arrives.
TEST_F(AsciiTest, ALineAtTheLimitIsServedAndOneByteMoreCloses) {
  const std::string at_limit = "touch k 1" + std::string(ascii::kMaxLine - 10, ' ') + "\r\n";
  ASSERT_EQ(at_limit.size(), ascii::kMaxLine + 1);
  EXPECT_EQ(send(at_limit), "NOT_FOUND\r\n");
  EXPECT_EQ(send_split(at_limit, 1000), "NOT_FOUND\r\n");
  EXPECT_FALSE(closed());
  EXPECT_EQ(send("touch k 1 " + std::string(ascii::kMaxLine - 10, ' ') + "\r\n"), "");
  EXPECT_TRUE(closed());
}

TEST_F(AsciiTest, ALongMultiGetIsFine) {
  send("set k 0 0 1\r\na\r\n");
  std::string line = "get";
  for (int i = 0; i < 2000; ++i) line += " k";
  std::string expected;
  for (int i = 0; i < 2000; ++i) expected += "VALUE k 0 1\r\na\r\n";
  EXPECT_EQ(send_split(line + "\r\n", 2500), expected + "END\r\n");
  EXPECT_FALSE(closed());
}

// Every request of a pipeline, fed in two pieces cut at every byte: the
// replies are the same bytes as when it comes whole.
TEST_F(AsciiTest, PipelineSplitAtEveryByte) {
  const std::string pipeline =
      "set a 1 0 3\r\nxyz\r\nget a b\r\nappend a 0 0 2 noreply\r\n12\r\nincr n 1\r\n"
      "set n 0 0 1\r\n5\r\nincr n 10\r\ngets a\r\ndelete a\r\ntouch n 100\r\n"
      "bogus\r\nmn\r\nversion\r\n";
  send("flush_all\r\n");
  std::string whole = send(pipeline);
  // The CAS in "gets" differs between runs; blank it out for comparing.
  auto without_cas = [](std::string s) {
    const std::size_t at = s.find("VALUE a 1 5 ");
    if (at != std::string::npos) s.erase(at + 12, s.find("\r\n", at) - at - 12);
    return s;
  };
  whole = without_cas(whole);
  ASSERT_NE(whole.find("VALUE a 1 5 \r\nxyz12\r\n"), std::string::npos) << whole;
  for (std::size_t cut = 1; cut < pipeline.size(); ++cut) {
    ASSERT_EQ(send("flush_all\r\n"), "OK\r\n") << "before cut " << cut;
    EXPECT_EQ(without_cas(send_split(pipeline, cut)), whole) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace ebb::memcached::testing
