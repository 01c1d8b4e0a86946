// The meta commands (mg, ms, md, ma, mn, me), flag by flag, with the bytes
// memcached 1.6.18 answers. Requests whose replies show a TTL or an access
// time are sent in one batch (one server time), or checked to within the
// second the wall clock may add, so that nothing depends on when tests run.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/unit/apps/memcached/harness.h"

namespace ebb::memcached::testing {
namespace {

using MetaTest = MemcachedTest;

// The number after " <flag>" in a reply, or INT64_MIN when it is not there.
int64_t flag_number(const std::string& reply, char flag) {
  const std::size_t at = reply.find(std::string(" ") + flag);
  if (at == std::string::npos) return INT64_MIN;
  return std::strtoll(reply.c_str() + at + 2, nullptr, 10);
}

// A reply's TTL or access time, `expected` give or take the one second the
// wall clock may have added between two batches.
void expect_about(const std::string& reply, char flag, int64_t expected) {
  const int64_t got = flag_number(reply, flag);
  EXPECT_TRUE(got == expected || got == expected - 1 || got == expected + 1)
      << reply << " (" << flag << " expected about " << expected << ")";
}

std::string key_of(std::size_t length) {
  return std::string(length, 'k');
}

// --- mn, unknown commands, the basics ---------------------------------------

TEST_F(MetaTest, NoopAnswersMn) {
  EXPECT_EQ(send("mn\r\n"), "MN\r\n");
  EXPECT_EQ(send("mn ignored tokens\r\n"), "MN\r\n");
  EXPECT_EQ(send("mn\n"), "MN\r\n");
}

TEST_F(MetaTest, CommandsWithoutAKey) {
  EXPECT_EQ(send("mg\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("ms\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("md\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("ma\r\n"), "ERROR\r\n");
  EXPECT_EQ(send("me\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("ms k\r\n"), "CLIENT_ERROR bad command line format\r\n");
}

TEST_F(MetaTest, SetThenGet) {
  EXPECT_EQ(send("ms k 3\r\nabc\r\n"), "HD\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 3\r\nabc\r\n");
  EXPECT_EQ(send("mg k\r\n"), "HD\r\n");
  EXPECT_EQ(send("mg missing v\r\n"), "EN\r\n");
  EXPECT_EQ(send("ms k 0\r\n\r\nmg k v\r\n"), "HD\r\nVA 0\r\n\r\n");
  // Runs of spaces separate tokens; a bare "\n" ends a line.
  EXPECT_EQ(send("ms  k  2 \nhi\r\nmg k   v \n"), "HD\r\nVA 2\r\nhi\r\n");
}

TEST_F(MetaTest, ValuesAreBinarySafe) {
  const std::string value("a\r\nb\0c", 6);
  EXPECT_EQ(send("ms k 6\r\n" + value + "\r\nmg k v\r\n"), "HD\r\nVA 6\r\n" + value + "\r\n");
}

// --- mg's flags -----------------------------------------------------------------

TEST_F(MetaTest, GetReturnsFlagsInRequestOrder) {
  EXPECT_EQ(send("ms k 3 F5 T100\r\nabc\r\nmg k s v f t c k h l O123\r\n"),
            "HD\r\nVA 3 s3 f5 t100 c1 kk h0 l0 O123\r\nabc\r\n");
  EXPECT_EQ(send("mg k O9 h k c f\r\n"), "HD O9 h1 kk c1 f5\r\n");
  // P and L are for proxies: accepted, not echoed.
  EXPECT_EQ(send("mg k Pfoo Lbar s\r\n"), "HD s3\r\n");
}

TEST_F(MetaTest, HitBeforeAndLastAccess) {
  EXPECT_EQ(send("ms k 1\r\nx\r\nmg k h l\r\n"), "HD\r\nHD h0 l0\r\n");
  EXPECT_EQ(send("mg k h\r\n"), "HD h1\r\n");
  advance(5);
  expect_about(send("mg k l\r\n"), 'l', 5);
  expect_about(send("mg k l\r\n"), 'l', 0);  // the last mg was an access
}

TEST_F(MetaTest, NoBumpLeavesHitAndAccessAlone) {
  send("ms k 1\r\nx\r\n");
  EXPECT_EQ(send("mg k u v\r\n"), "VA 1\r\nx\r\n");
  EXPECT_EQ(send("mg k h u\r\n"), "HD h0\r\n");
  advance(5);
  EXPECT_EQ(send("mg k h\r\n"), "HD h0\r\n");
  expect_about(send("mg k h l\r\n"), 'l', 0);
}

TEST_F(MetaTest, TtlAndTouch) {
  EXPECT_EQ(send("ms k 1 T100\r\nx\r\nmg k t\r\n"), "HD\r\nHD t100\r\n");
  EXPECT_EQ(send("ms n 1\r\nx\r\nmg n t\r\n"), "HD\r\nHD t-1\r\n");
  advance(40);
  expect_about(send("mg k t\r\n"), 't', 60);
  // T sets the TTL for a t after it, not before it.
  expect_about(send("mg k t T20\r\n"), 't', 60);
  EXPECT_EQ(send("mg k T10 t\r\n"), "HD t10\r\n");
  EXPECT_EQ(send("mg n T0 t\r\n"), "HD t-1\r\n");
  advance(8);
  EXPECT_EQ(send("mg k v\r\n"), "VA 1\r\nx\r\n");
  advance(3);
  EXPECT_EQ(send("mg k v\r\n"), "EN\r\n");
}

TEST_F(MetaTest, TouchIsCountedAsATouch) {
  send("ms k 1\r\nx\r\n");
  send("mg k T30\r\nmg missing T30\r\nmg k\r\n");
  const CounterValues totals = server().totals();
  EXPECT_EQ(totals.cmd_touch, 1u);
  EXPECT_EQ(totals.touch_hits, 1u);
  EXPECT_EQ(totals.cmd_get, 2u);  // memcached counts an mg miss as a get, T or not
  EXPECT_EQ(totals.get_hits, 1u);
  EXPECT_EQ(totals.get_misses, 1u);
}

TEST_F(MetaTest, NegativeAndOverflowingTtls) {
  EXPECT_EQ(send("ms k 1 T-1\r\nx\r\nmg k\r\n"), "HD\r\nEN\r\n");
  // memcached stores the number into 32 bits: this is a time in 2008, past,
  // and the t it reports wraps.
  send("ms k 1\r\nx\r\n");
  const std::string wrapped = send("mg k T99999999999 t\r\n");
  EXPECT_TRUE(wrapped.starts_with("HD t")) << wrapped;
  EXPECT_GT(flag_number(wrapped, 't'), 4'000'000'000);
  EXPECT_EQ(send("mg k\r\n"), "EN\r\n");
  EXPECT_EQ(send("mg k T99999999999999999999\r\n"),
            "CLIENT_ERROR bad token in command line format\r\n");
  EXPECT_EQ(send("mg k T\r\n"), "CLIENT_ERROR bad token in command line format\r\n");
  EXPECT_EQ(send("mg k T1x\r\n"), "CLIENT_ERROR bad token in command line format\r\n");
  EXPECT_EQ(send("ms k 1 T+50\r\nx\r\nmg k t\r\n"), "HD\r\nHD t50\r\n");
}

TEST_F(MetaTest, SizeFlag) {
  EXPECT_EQ(send("ms k 5\r\nhello\r\nmg k s\r\n"), "HD\r\nHD s5\r\n");
  // memcached 1.6 takes the size as ms's second token; S is no flag of its.
  EXPECT_EQ(send("ms k 5 S5\r\nhello\r\nmn\r\n"), "CLIENT_ERROR invalid flag\r\nMN\r\n");
  EXPECT_EQ(send("mg k S5\r\n"), "CLIENT_ERROR invalid flag\r\n");
}

TEST_F(MetaTest, OpaqueIsEchoedAndLimited) {
  const std::string fits = "O" + std::string(31, 'x');
  const std::string too_long = "O" + std::string(32, 'x');
  EXPECT_EQ(send("ms k 1 O1\r\nx\r\n"), "HD O1\r\n");
  EXPECT_EQ(send("mg k " + fits + "\r\n"), "HD " + fits + "\r\n");
  EXPECT_EQ(send("mg missing O2 k\r\n"), "EN O2 kmissing\r\n");
  EXPECT_EQ(send("md missing O3\r\n"), "NF O3\r\n");
  EXPECT_EQ(send("ma missing O4\r\n"), "NF O4\r\n");
  EXPECT_EQ(send("mg k " + too_long + "\r\n"), "CLIENT_ERROR opaque token too long\r\n");
  EXPECT_EQ(send("mg missing " + too_long + "\r\n"), "CLIENT_ERROR opaque token too long\r\n");
  EXPECT_EQ(send("md k " + too_long + "\r\n"), "CLIENT_ERROR opaque token too long\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 1\r\nx\r\n");  // md did nothing
  // ms skips the value it refuses.
  EXPECT_EQ(send("ms k 1 " + too_long + "\r\ny\r\nmg k v\r\n"),
            "CLIENT_ERROR opaque token too long\r\nVA 1\r\nx\r\n");
}

// --- quiet mode -------------------------------------------------------------------

TEST_F(MetaTest, QuietHidesTheNominalReplyOnly) {
  EXPECT_EQ(send("ms k 1 q\r\nx\r\n"), "");
  EXPECT_EQ(send("ms k 1 q ME\r\nx\r\n"), "NS\r\n");
  EXPECT_EQ(send("mg missing q\r\n"), "");
  EXPECT_EQ(send("mg missing q k O1\r\n"), "");
  EXPECT_EQ(send("mg k q v\r\n"), "VA 1\r\nx\r\n");  // q hides mg's EN, not its hits
  EXPECT_EQ(send("mg k q\r\n"), "HD\r\n");
  EXPECT_EQ(send("mg k q zz\r\n"), "CLIENT_ERROR invalid flag\r\n");  // errors always
  EXPECT_EQ(send("md k q\r\n"), "");
  EXPECT_EQ(send("md k q\r\n"), "NF\r\n");
  EXPECT_EQ(send("ma n q\r\n"), "NF\r\n");
  EXPECT_EQ(send("ma n q N0 v\r\n"), "VA 1\r\n0\r\n");  // memcached shows what it created
  EXPECT_EQ(send("ma n q v\r\n"), "");
  EXPECT_EQ(send("mg n v\r\n"), "VA 1\r\n1\r\n");
}

TEST_F(MetaTest, QuietPipelineEndsWithMn) {
  send("ms b 1\r\nB\r\n");
  EXPECT_EQ(send("mg a q v k\r\nmg b q v k\r\nmg c q v k\r\nmn\r\n"), "VA 1 kb\r\nB\r\nMN\r\n");
  EXPECT_EQ(send("ms a 1 q\r\nA\r\nms b 1 q ME\r\nX\r\nmd c q\r\nmn\r\n"), "NS\r\nNF\r\nMN\r\n");
}

// --- keys ---------------------------------------------------------------------------

TEST_F(MetaTest, KeyLengthLimit) {
  const std::string longest = key_of(250);
  const std::string too_long = key_of(251);
  EXPECT_EQ(send("ms " + longest + " 1\r\nx\r\nmg " + longest + " v\r\n"), "HD\r\nVA 1\r\nx\r\n");
  EXPECT_EQ(send("mg " + too_long + " v\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("md " + too_long + "\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("ma " + too_long + "\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("me " + too_long + "\r\n"), "CLIENT_ERROR bad command line format\r\n");
  // ms refuses the line before its size: the value is read as a command.
  EXPECT_EQ(send("ms " + too_long + " 1\r\nmn\r\n"),
            "CLIENT_ERROR bad command line format\r\nMN\r\n");
}

TEST_F(MetaTest, KeysWithControlCharactersAreKeysLikeAnyOther) {
  // As memcached 1.6 answers: only spaces and line ends end a key.
  EXPECT_EQ(send("mg a\x01"
                 "b v\r\n"),
            "EN\r\n");
  EXPECT_EQ(send("ms a\x01"
                 "b 1\r\nx\r\nmg a\x01"
                 "b v\r\n"),
            "HD\r\nVA 1\r\nx\r\n");
  EXPECT_EQ(send("mg a\tb v\r\nmg a\x7f"
                 "b v\r\n"),
            "EN\r\nEN\r\n");
  EXPECT_EQ(send("get a\x01"
                 "b\r\n"),
            "VALUE a\x01"
            "b 0 1\r\nx\r\nEND\r\n");  // one key space for both protocols
}

TEST_F(MetaTest, Base64Keys) {
  // "AAEC" is the bytes 00 01 02.
  EXPECT_EQ(send("ms AAEC 2 b k\r\nhi\r\n"), "HD kAAEC b\r\n");
  EXPECT_EQ(send("mg AAEC b k v s\r\n"), "VA 2 kAAEC b s2\r\nhi\r\n");
  EXPECT_EQ(send("mg AAEC v\r\n"), "EN\r\n");  // the token itself is another key
  EXPECT_EQ(send("ma AAEC b\r\n"),
            "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
  EXPECT_EQ(send("md AAEC b k\r\n"), "HD kAAEC b\r\n");
  EXPECT_EQ(send("mg AAEC b k\r\n"), "EN kAAEC b\r\n");
  // A binary key may hold spaces and line ends: "a b\r\n".
  EXPECT_EQ(send("ms YSBiDQo= 1 b\r\nx\r\nmg YSBiDQo= b v k\r\n"),
            "HD\r\nVA 1 kYSBiDQo= b\r\nx\r\n");
}

TEST_F(MetaTest, Base64DecodingIsLenientLikeMemcached) {
  EXPECT_EQ(send("mg QQ== b k\r\n"), "EN kQQ== b\r\n");
  EXPECT_EQ(send("mg QQ=x b k\r\n"), "EN kQQA= b\r\n");   // data after padding
  EXPECT_EQ(send("mg Q!UJD b k\r\n"), "EN kQUJD b\r\n");  // characters outside the alphabet
  EXPECT_EQ(send("mg Zm9 b\r\n"), "CLIENT_ERROR error decoding key\r\n");
  EXPECT_EQ(send("mg Q=== b\r\n"), "CLIENT_ERROR error decoding key\r\n");
  EXPECT_EQ(send("mg ==== b\r\n"), "CLIENT_ERROR error decoding key\r\n");
  EXPECT_EQ(send("ms Zm9 1 b\r\nx\r\nmn\r\n"), "CLIENT_ERROR error decoding key\r\nMN\r\n");
  EXPECT_EQ(send("md Zm9 b\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("me Zm9 b\r\n"), "CLIENT_ERROR bad command line format\r\n");
  // The limit applies to the token as sent, as in memcached.
  std::string long_token;
  for (int i = 0; i < 63; ++i)
    long_token += "QUJD";
  EXPECT_EQ(send("mg " + long_token + " b\r\n"), "CLIENT_ERROR bad command line format\r\n");
  EXPECT_EQ(send("mg " + long_token.substr(0, 248) + " b k\r\n"),
            "EN k" + long_token.substr(0, 248) + " b\r\n");
}

// --- ms -------------------------------------------------------------------------------

TEST_F(MetaTest, SetModes) {
  EXPECT_EQ(send("ms k 1 MR\r\nx\r\n"), "NS\r\n");
  EXPECT_EQ(send("ms k 1 MA\r\nx\r\n"), "NS\r\n");
  EXPECT_EQ(send("ms k 1 MP\r\nx\r\n"), "NS\r\n");
  EXPECT_EQ(send("ms k 1 ME F3\r\nb\r\n"), "HD\r\n");
  EXPECT_EQ(send("ms k 1 ME\r\nx\r\n"), "NS\r\n");
  EXPECT_EQ(send("ms k 2 MA F9 T99\r\ncd\r\n"), "HD\r\n");
  EXPECT_EQ(send("ms k 1 MP\r\na\r\n"), "HD\r\n");
  EXPECT_EQ(send("mg k v f t\r\n"), "VA 4 f3 t-1\r\nabcd\r\n");  // append keeps flags and TTL
  EXPECT_EQ(send("ms k 1 MR F1\r\nz\r\nmg k v f\r\n"), "HD\r\nVA 1 f1\r\nz\r\n");
  EXPECT_EQ(send("ms k 1 MS\r\ny\r\nmg k v\r\n"), "HD\r\nVA 1\r\ny\r\n");
  EXPECT_EQ(send("ms k 1 MX\r\nx\r\nmn\r\n"), "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n");
  EXPECT_EQ(send("ms k 1 MAA\r\nx\r\nmn\r\n"),
            "CLIENT_ERROR incorrect length for M token\r\nMN\r\n");
}

TEST_F(MetaTest, AppendWithVivifyCreatesTheItem) {
  EXPECT_EQ(send("ms k 2 MA N30\r\nab\r\nmg k v t\r\n"), "HD\r\nVA 2 t30\r\nab\r\n");
  EXPECT_EQ(send("ms k 1 MA N30\r\nc\r\nmg k v\r\n"), "HD\r\nVA 3\r\nabc\r\n");
  EXPECT_EQ(send("ms j 1 MS N30\r\nx\r\nmg j t\r\n"), "HD\r\nHD t-1\r\n");  // N is for appends
}

TEST_F(MetaTest, ClientFlags) {
  EXPECT_EQ(send("ms k 1 F4294967295\r\nx\r\nmg k f\r\n"), "HD\r\nHD f4294967295\r\n");
  EXPECT_EQ(send("ms k 1 F+7\r\nx\r\nmg k f\r\n"), "HD\r\nHD f7\r\n");
  // memcached cuts the number to 32 bits.
  EXPECT_EQ(send("ms k 1 F4294967296\r\nx\r\nmg k f\r\n"), "HD\r\nHD f0\r\n");
  EXPECT_EQ(send("ms k 1 F-1\r\nx\r\nmn\r\n"), "CLIENT_ERROR bad command line format\r\nMN\r\n");
  EXPECT_EQ(send("ms k 1 Fx\r\nx\r\nmn\r\n"), "CLIENT_ERROR bad command line format\r\nMN\r\n");
}

TEST_F(MetaTest, BadDatalen) {
  // Refused before the value is known: the data line is read as a command.
  EXPECT_EQ(send("ms k -1\r\nmn\r\n"), "CLIENT_ERROR bad command line format\r\nMN\r\n");
  EXPECT_EQ(send("ms k x\r\nmn\r\n"), "CLIENT_ERROR bad command line format\r\nMN\r\n");
  EXPECT_EQ(send("ms k 2147483646\r\nmn\r\n"), "CLIENT_ERROR bad command line format\r\nMN\r\n");
  EXPECT_EQ(send("ms k 99999999999999999999\r\nmn\r\n"),
            "CLIENT_ERROR bad command line format\r\nMN\r\n");
  EXPECT_EQ(send("ms k +1\r\nx\r\nmg k v\r\n"), "HD\r\nVA 1\r\nx\r\n");
}

TEST_F(MetaTest, BadDataChunk) {
  send("ms k 1\r\nx\r\n");
  // The line, then datalen + 2 bytes, are used up whatever they hold.
  EXPECT_EQ(send("ms k 2\r\nabXYmn\r\n"), "CLIENT_ERROR bad data chunk\r\nMN\r\n");
  EXPECT_EQ(send("ms k 2 q\r\nab\n\nmn\r\n"), "CLIENT_ERROR bad data chunk\r\nMN\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 1\r\nx\r\n");
  EXPECT_EQ(server().totals().cmd_set, 3u);  // memcached counts the refused ones
}

TEST_F(MetaTest, SetWaitsForItsValue) {
  EXPECT_EQ(send("ms k 5 T0\r\nhel"), "");
  EXPECT_EQ(send("lo"), "");
  EXPECT_EQ(send("\r"), "");
  EXPECT_EQ(send("\nmn\r\n"), "HD\r\nMN\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 5\r\nhello\r\n");
  EXPECT_EQ(server().totals().cmd_meta, 3u);
  EXPECT_EQ(server().totals().cmd_set, 1u);
}

TEST_F(MetaTest, InvalidFlagsAndTokens) {
  send("ms k 1\r\nx\r\n");
  EXPECT_EQ(send("mg k zz\r\n"), "CLIENT_ERROR invalid flag\r\n");
  EXPECT_EQ(send("mg k v v\r\n"), "CLIENT_ERROR duplicate flag\r\n");
  EXPECT_EQ(send("mg k O1 O2\r\n"), "CLIENT_ERROR duplicate flag\r\n");
  EXPECT_EQ(send("mg k \x7f\r\n"), "CLIENT_ERROR duplicate flag\r\n");  // memcached's wording
  EXPECT_EQ(send("mg k \x01\r\n"), "CLIENT_ERROR invalid flag\r\n");
  EXPECT_EQ(send("mg k N\r\n"), "CLIENT_ERROR bad token in command line format\r\n");
  EXPECT_EQ(send("mg k R-\r\n"), "CLIENT_ERROR bad token in command line format\r\n");
  EXPECT_EQ(send("mg k C-1\r\n"), "CLIENT_ERROR bad token in command line format\r\n");
  EXPECT_EQ(send("mg k Jx\r\n"), "CLIENT_ERROR invalid numeric initial value\r\n");
  EXPECT_EQ(send("mg k Dx\r\n"), "CLIENT_ERROR invalid numeric delta value\r\n");
  // The last bad token's message is the one memcached gives.
  EXPECT_EQ(send("mg k Dx T\r\n"), "CLIENT_ERROR bad token in command line format\r\n");
  EXPECT_EQ(send("mg k T Fx\r\n"), "CLIENT_ERROR bad token in command line format\r\n");
  // Later memcached releases' E and x: only where the store honours them.
  EXPECT_EQ(send("mg k E5\r\n"), "CLIENT_ERROR invalid flag\r\n");
  EXPECT_EQ(send("mg k x\r\n"), "CLIENT_ERROR invalid flag\r\n");
  EXPECT_EQ(send("md k E5\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("ms k 1 x\r\ny\r\nmn\r\n"), "CLIENT_ERROR invalid flag\r\nMN\r\n");
  // md and ma answer one message for every bad flag.
  EXPECT_EQ(send("md k zz\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("md k q q\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("md k T\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("ma k zz\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 1\r\nx\r\n");  // nothing was done
}

TEST_F(MetaTest, TooManyTokens) {
  send("ms k 1\r\nx\r\n");
  // 17 flags fit; memcached refuses a line of 20 tokens.
  const std::string flags17 = "s t c f h l k v u O1 P2 L3 R5 I C5 F5 MS";
  EXPECT_TRUE(send("mg k " + flags17 + "\r\n").starts_with("VA 1 "));
  EXPECT_EQ(send("mg k " + flags17 + " q\r\n"), "CLIENT_ERROR options flags are too long\r\n");
  EXPECT_EQ(send("md k " + flags17 + " q\r\n"), "CLIENT_ERROR options flags too long\r\n");
  EXPECT_EQ(send("ma k " + flags17 + " q\r\n"), "CLIENT_ERROR options flags too long\r\n");
  // ms has its datalen too; it refuses without reading the value.
  const std::string flags16 = "s t c f h l k v u O1 P2 L3 R5 I T0 F5";
  EXPECT_EQ(send("ms k 1 " + flags16 + "\r\nz\r\n"), "HD c2 kk O1\r\n");
  EXPECT_EQ(send("ms k 1 " + flags16 + " q\r\nmn\r\n"),
            "CLIENT_ERROR options flags too long\r\nMN\r\n");
}

// --- CAS -----------------------------------------------------------------------------

TEST_F(MetaTest, CompareAndSwap) {
  const std::string set = send("ms k 1 c\r\na\r\n");
  const int64_t cas = flag_number(set, 'c');
  ASSERT_GT(cas, 0) << set;
  const std::string c = std::to_string(cas);
  EXPECT_EQ(send("ms k 1 c C" + std::to_string(cas + 100) + "\r\nb\r\n"), "EX c0\r\n");
  EXPECT_EQ(send("ms missing 1 c C" + c + "\r\nb\r\n"), "NF c0\r\n");
  const std::string swapped = send("ms k 1 c C" + c + "\r\nb\r\n");
  EXPECT_TRUE(swapped.starts_with("HD c")) << swapped;
  EXPECT_NE(flag_number(swapped, 'c'), cas);
  EXPECT_EQ(send("ms k 1 C" + c + "\r\nc\r\n"), "EX\r\n");
  EXPECT_EQ(send("ms k 1 MR C0\r\nc\r\n"), "EX\r\n");  // C0 is a CAS like any other
  EXPECT_EQ(send("mg k v\r\n"), "VA 1\r\nb\r\n");
  const CounterValues totals = server().totals();
  EXPECT_EQ(totals.cas_hits, 1u);
  EXPECT_EQ(totals.cas_badval, 3u);
  EXPECT_EQ(totals.cas_misses, 1u);
}

TEST_F(MetaTest, CasInOtherModes) {
  send("ms k 1\r\na\r\n");
  const int64_t cas = flag_number(send("mg k c\r\n"), 'c');
  EXPECT_EQ(send("ms k 1 ME C" + std::to_string(cas) + "\r\nx\r\n"), "NS\r\n");  // add: no CAS
  EXPECT_EQ(send("ms k 1 MA C" + std::to_string(cas + 1) + "\r\nx\r\n"), "EX\r\n");
  EXPECT_EQ(send("ms k 1 MA C0\r\nb\r\n"), "HD\r\n");  // append: C0 compares nothing
  EXPECT_EQ(send("ms none 1 MA C5\r\nb\r\n"), "NS\r\n");
  EXPECT_EQ(send("ms none 1 ME C5\r\nb\r\nmg none v\r\n"), "HD\r\nVA 1\r\nb\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 2\r\nab\r\n");
  EXPECT_EQ(server().totals().cas_badval, 0u);  // memcached counts only set/replace with C
}

TEST_F(MetaTest, ExplicitNewCas) {
  EXPECT_EQ(send("ms k 1 E999 c\r\nx\r\nmg k c\r\n"), "HD c999\r\nHD c999\r\n");
  EXPECT_EQ(send("ms k 1 C999 E1234 c\r\ny\r\n"), "HD c1234\r\n");
  EXPECT_EQ(send("ms n 1\r\n5\r\nma n E77 c v\r\n"), "HD\r\nVA 1 c77\r\n6\r\n");
  EXPECT_EQ(send("ms k 1 E-1\r\nx\r\nmn\r\n"),
            "CLIENT_ERROR bad token in command line format\r\nMN\r\n");
}

// A server started with -C keeps no CAS: memcached reports 0 for it.
class MetaNoCasTest : public MemcachedTest {
 protected:
  MetaNoCasTest() { settings.cas = false; }
};

TEST_F(MetaNoCasTest, EveryCasReadsZero) {
  EXPECT_EQ(send("ms k 1 c\r\nx\r\nmg k c\r\nme k\r\n"),
            "HD c0\r\nHD c0\r\nME k exp=-1 la=0 cas=0 fetch=yes cls=1 size=53\r\n");
}

// --- stale, win and recache ---------------------------------------------------------

TEST_F(MetaTest, VivifyOnMissWinsOnce) {
  EXPECT_EQ(send("mg k N30 s t v c\r\n"), "VA 0 s0 t30 c1 W\r\n\r\n");
  EXPECT_EQ(send("mg k N30 s v c\r\n"), "VA 0 s0 c1 Z\r\n\r\n");
  EXPECT_EQ(send("mg k v h\r\n"), "VA 0 h1 Z\r\n\r\n");
  // The winner's value replaces the empty item, and its win flags with it.
  EXPECT_EQ(send("ms k 3 T60\r\nnew\r\nmg k v\r\n"), "HD\r\nVA 3\r\nnew\r\n");
  EXPECT_EQ(server().totals().get_hits, 4u);  // memcached counts a vivify as a hit
  EXPECT_EQ(server().totals().get_misses, 0u);
  // N's TTL, applied after an earlier T as memcached applies flags in order.
  EXPECT_EQ(send("mg j T60 N30 t\r\nmg j t\r\n"), "HD t30 W\r\nHD t30 Z\r\n");
  EXPECT_EQ(send("mg i t N30\r\n"), "HD t-1 W\r\n");
}

TEST_F(MetaTest, VivifiedItemExpires) {
  EXPECT_EQ(send("mg k N10\r\n"), "HD W\r\n");
  advance(11);
  EXPECT_EQ(send("mg k N10\r\n"), "HD W\r\n");  // a new one, won again
}

TEST_F(MetaTest, RecacheWinsBeforeExpiry) {
  EXPECT_EQ(send("ms k 1 T60\r\nx\r\nmg k R100 t\r\n"), "HD\r\nHD t60 W\r\n");
  EXPECT_EQ(send("mg k R100\r\n"), "HD Z\r\n");
  EXPECT_EQ(send("mg k R10\r\n"), "HD Z\r\n");
  EXPECT_EQ(send("ms k 1 T60\r\nx\r\nmg k R10\r\n"), "HD\r\nHD\r\n");  // 60s left: not yet
  EXPECT_EQ(send("ms k 1\r\nx\r\nmg k R100\r\n"), "HD\r\nHD\r\n");     // never expires
}

TEST_F(MetaTest, InvalidateMarksStaleAndOneClientWins) {
  send("ms k 3 T100\r\nold\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 3\r\nold\r\n");
  EXPECT_EQ(send("md k I T30 q\r\nmg k v t h\r\n"), "VA 3 t30 h1 X W\r\nold\r\n");
  EXPECT_EQ(send("mg k v\r\n"), "VA 3 Z X\r\nold\r\n");
  // Invalidating again lets the next client win again.
  EXPECT_EQ(send("md k I\r\nmg k\r\nmg k\r\n"), "HD\r\nHD X W\r\nHD Z X\r\n");
  // A recache with an older CAS is kept, still stale, keeping its TTL.
  EXPECT_EQ(send("ms k 3 C1 I T999\r\nnew\r\nmg k v\r\n"), "HD\r\nVA 3 Z X\r\nnew\r\n");
  expect_about(send("mg k t\r\n"), 't', 30);
  // A plain set ends it.
  EXPECT_EQ(send("ms k 3\r\nnew\r\nmg k v\r\n"), "HD\r\nVA 3\r\nnew\r\n");
  EXPECT_EQ(send("md k I T0\r\nmg k t\r\n"), "HD\r\nHD t-1 X W\r\n");
  EXPECT_EQ(send("md k I T-1\r\nmg k\r\n"), "HD\r\nEN\r\n");
}

TEST_F(MetaTest, SetWithInvalidateAndAnOlderCas) {
  send("ms k 3\r\nabc\r\n");
  const int64_t cas = flag_number(send("mg k c\r\n"), 'c');
  const std::string newer = std::to_string(cas + 10);
  EXPECT_EQ(send("ms k 3 I C" + newer + "\r\nzzz\r\n"), "EX\r\n");
  EXPECT_EQ(send("ms k 3 I C" + std::to_string(cas) + "\r\nyyy\r\nmg k v\r\n"),
            "HD\r\nVA 3\r\nyyy\r\n");  // the same CAS: a plain swap, not stale
  const int64_t now = flag_number(send("mg k c\r\n"), 'c');
  EXPECT_EQ(send("ms k 3 I C" + std::to_string(now - 1) + "\r\nxxx\r\nmg k v\r\n"),
            "HD\r\nVA 3 X W\r\nxxx\r\n");
  EXPECT_EQ(send("md k I C1\r\n"), "EX\r\n");
}

// --- md -----------------------------------------------------------------------------

TEST_F(MetaTest, Delete) {
  EXPECT_EQ(send("md k\r\n"), "NF\r\n");
  EXPECT_EQ(send("ms k 1\r\nx\r\nmd k k O5\r\nmg k\r\n"), "HD\r\nHD kk O5\r\nEN\r\n");
  send("ms k 1\r\nx\r\n");
  EXPECT_EQ(send("md k C0\r\n"), "EX\r\n");
  const int64_t cas = flag_number(send("mg k c\r\n"), 'c');
  EXPECT_EQ(send("md k C" + std::to_string(cas) + "\r\n"), "HD\r\n");
  const CounterValues totals = server().totals();
  EXPECT_EQ(totals.delete_hits, 2u);
  EXPECT_EQ(totals.delete_misses, 2u);
}

TEST_F(MetaTest, DeleteValueKeepsTheItem) {
  EXPECT_EQ(send("ms k 3 F5 T100\r\nabc\r\nmd k x\r\nmg k v f t\r\n"),
            "HD\r\nHD\r\nVA 0 f0 t100\r\n\r\n");
  EXPECT_EQ(send("md missing x\r\n"), "NF\r\n");
}

// --- ma -----------------------------------------------------------------------------

TEST_F(MetaTest, ArithmeticBasics) {
  EXPECT_EQ(send("ma n\r\n"), "NF\r\n");
  EXPECT_EQ(send("ma n MD\r\n"), "NF\r\n");
  EXPECT_EQ(send("ma n N0 J10 v\r\n"), "VA 2\r\n10\r\n");
  EXPECT_EQ(send("ma n v\r\n"), "VA 2\r\n11\r\n");
  EXPECT_EQ(send("ma n\r\n"), "HD\r\n");
  EXPECT_EQ(send("ma n v D5 MD\r\n"), "VA 1\r\n7\r\n");
  EXPECT_EQ(send("ma n v D100 M-\r\n"), "VA 1\r\n0\r\n");  // stops at 0
  EXPECT_EQ(send("ma n v D3 M+\r\n"), "VA 1\r\n3\r\n");
  EXPECT_EQ(send("ma n v MI\r\n"), "VA 1\r\n4\r\n");
  // memcached writes a shorter result in place, padded with spaces.
  EXPECT_EQ(send("mg n v\r\n"), "VA 2\r\n4 \r\n");
  const CounterValues totals = server().totals();
  EXPECT_EQ(totals.incr_misses, 1u);
  EXPECT_EQ(totals.decr_misses, 1u);
  EXPECT_EQ(totals.incr_hits, 4u);
  EXPECT_EQ(totals.decr_hits, 2u);
}

TEST_F(MetaTest, ArithmeticLimits) {
  send("ms n 20\r\n18446744073709551615\r\n");
  EXPECT_EQ(send("ma n v\r\n"), "VA 1\r\n0\r\n");  // incr wraps
  EXPECT_EQ(send("ma n v D18446744073709551615\r\n"), "VA 20\r\n18446744073709551615\r\n");
  EXPECT_EQ(send("ma n D18446744073709551616\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("ma n D-1\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("ma m N0 J-1\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("ma m N0 J18446744073709551616\r\n"),
            "CLIENT_ERROR invalid or duplicate flag\r\n");
  EXPECT_EQ(send("ma m N0 J-0 D-0 v\r\n"), "VA 1\r\n0\r\n");  // strtoull's "-0" is 0
  EXPECT_EQ(send("ma n v MX\r\n"), "CLIENT_ERROR invalid mode for ma M token\r\n");
  EXPECT_EQ(send("ma n v MDD\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
  send("ms s 2\r\nhi\r\nms e 0\r\n\r\n");
  EXPECT_EQ(send("ma s\r\n"), "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
  EXPECT_EQ(send("ma e\r\n"), "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
}

TEST_F(MetaTest, ArithmeticFlagsInOrder) {
  // Created: t comes before N gives it a TTL; T then sets another.
  // Then t reads the TTL as it stands, and N applies only to what ma creates.
  EXPECT_EQ(send("ma n v t k O1 N0 T100\r\nmg n t\r\nma n v T50 t\r\nma n N30 v t\r\n"),
            "VA 1 t-1 kn O1\r\n0\r\nHD t100\r\nVA 1 t50\r\n1\r\nVA 1 t50\r\n2\r\n");
  const std::string c = send("ma n c\r\n");
  const int64_t cas = flag_number(c, 'c');
  EXPECT_EQ(send("mg n c v\r\n"), "VA 1 c" + std::to_string(cas) + "\r\n3\r\n");
  EXPECT_EQ(send("ma n C" + std::to_string(cas + 1) + " k\r\n"), "EX kn\r\n");
  EXPECT_EQ(send("ma n C0 v\r\n"), "VA 1\r\n4\r\n");  // C0 compares nothing
  EXPECT_EQ(send("ma n C" + std::to_string(cas) + " v\r\n"), "EX\r\n");
  const int64_t latest = flag_number(send("mg n c\r\n"), 'c');
  EXPECT_EQ(send("ma n C" + std::to_string(latest) + " v\r\n"), "VA 1\r\n5\r\n");
  EXPECT_EQ(send("ma n b\r\n"), "CLIENT_ERROR invalid or duplicate flag\r\n");
}

TEST_F(MetaTest, ArithmeticOpaqueTooLongStillCounts) {
  // memcached checks ma's opaque once the number has changed.
  send("ms n 1\r\n1\r\n");
  EXPECT_EQ(send("ma n O" + std::string(32, 'x') + "\r\n"),
            "CLIENT_ERROR opaque token too long\r\n");
  EXPECT_EQ(send("mg n v\r\n"), "VA 1\r\n2\r\n");
}

// --- me -----------------------------------------------------------------------------

TEST_F(MetaTest, Debug) {
  EXPECT_EQ(send("me k\r\n"), "EN\r\n");
  // size is memcached's item size: header 48, key + NUL, value + CRLF,
  // 4 for non-zero flags, 8 for the CAS.
  EXPECT_EQ(send("ms k 3\r\nabc\r\nme k\r\nme k\r\n"),
            "HD\r\nME k exp=-1 la=0 cas=1 fetch=no cls=1 size=63\r\n"
            "ME k exp=-1 la=0 cas=1 fetch=no cls=1 size=63\r\n");  // me is no access
  // memcached 1.6.18 prints now - exptime: minus the seconds left.
  EXPECT_EQ(send("ms k 1 T100 F5\r\nx\r\nmg k\r\nme k extra tokens\r\n"),
            "HD\r\nHD\r\nME k exp=-100 la=0 cas=2 fetch=yes cls=1 size=65\r\n");
  EXPECT_EQ(send("ms AAEC 2 b\r\nhi\r\nme AAEC b\r\n"),
            "HD\r\nME AAEC exp=-1 la=0 cas=3 fetch=no cls=1 size=64\r\n");
  EXPECT_EQ(send("me AAEC\r\n"), "EN\r\n");
  advance(5);
  const std::string later = send("me k\r\n");
  const std::size_t la = later.find(" la=");
  ASSERT_NE(la, std::string::npos) << later;
  expect_about(" l" + later.substr(la + 4), 'l', 5);
}

// --- counters -----------------------------------------------------------------------

TEST_F(MetaTest, EveryMetaCommandIsCounted) {
  send("mn\r\nme k\r\nmg k\r\nms k 1\r\nx\r\nmd k\r\nma k\r\nmg k zz\r\n");
  const CounterValues totals = server().totals();
  EXPECT_EQ(totals.cmd_meta, 7u);
  EXPECT_EQ(totals.cmd_get, 1u);
  EXPECT_EQ(totals.cmd_set, 1u);
}

// --- values at the size limit ------------------------------------------------------

class MetaLimitTest : public MemcachedTest {
 protected:
  static constexpr std::size_t kLimit = 2048;
  MetaLimitTest() { table_options.item_size_max = kLimit; }
  // send_split with its two sends in order: harness.h's joins them with an
  // operator+, whose operands the compiler may evaluate second first.
  std::string send_in_order(std::string_view bytes, std::size_t at) {
    std::string replies = send(bytes.substr(0, at));
    replies += send(bytes.substr(at));
    return replies;
  }
  // The largest value a key of this length may have.
  static std::size_t largest(std::size_t key_length) {
    return kLimit - Item::size_for(key_length, 0);
  }
};

TEST_F(MetaLimitTest, ValueExactlyAtTheLimitAndOnePast) {
  const std::size_t fits = largest(1);
  const std::string value(fits, 'v');
  EXPECT_EQ(send("ms k " + std::to_string(fits) + "\r\n" + value + "\r\nmg k s\r\n"),
            "HD\r\nHD s" + std::to_string(fits) + "\r\n");
  // One byte more: refused, the old value dropped (as memcached does), the
  // data skipped.
  EXPECT_EQ(send("ms k " + std::to_string(fits + 1) + "\r\n" + value + "x\r\nmg k s\r\n"),
            "SERVER_ERROR object too large for cache\r\nEN\r\n");
  EXPECT_EQ(server().totals().store_too_large, 1u);
  // A longer key leaves less room.
  EXPECT_EQ(send("ms kk " + std::to_string(fits) + " q\r\n" + value + "\r\nmn\r\n"),
            "SERVER_ERROR object too large for cache\r\nMN\r\n");
}

TEST_F(MetaLimitTest, RefusedValueIsSkippedAsItArrives) {
  const std::size_t size = 10 * kLimit;
  EXPECT_EQ(send("ms k " + std::to_string(size) + " T0\r\n"),
            "SERVER_ERROR object too large for cache\r\n");
  EXPECT_EQ(send(std::string(size / 2, 'x')), "");
  EXPECT_EQ(send(std::string(size - size / 2, 'x') + "\r\nmn\r\n"), "MN\r\n");
}

TEST_F(MetaLimitTest, AppendPastTheLimitIsNotStored) {
  const std::size_t fits = largest(1);
  send("ms k " + std::to_string(fits) + "\r\n" + std::string(fits, 'a') + "\r\n");
  EXPECT_EQ(send("ms k 1 MA c\r\nb\r\n"), "NS c0\r\n");
  EXPECT_EQ(send("mg k s\r\n"), "HD s" + std::to_string(fits) + "\r\n");
}

// --- pipelining ----------------------------------------------------------------------

TEST_F(MetaLimitTest, PipelineSplitAtEveryByteGivesTheSameReplies) {
  // Starts by deleting what it makes, so that every run answers the same.
  const std::string too_large(kLimit, 'z');
  const std::string pipeline =
      "md a q\r\nmd b q\r\nmd n q\r\nmd AAEC b q\r\n"
      "ms a 5 F3 k O1\r\nva\r\nl\r\n"
      "mg a v f k O2\r\n"
      "mg b q v\r\n"
      "ms b " +
      std::to_string(kLimit) + "\r\n" + too_large +
      "\r\n"
      "ms AAEC 2 b k\r\nhi\r\n"
      "mg AAEC b v k\r\n"
      "ms a 1 MA q\r\n!\r\n"
      "ms a 2\r\nxyzw"
      "mg b N30 s\r\nmg b s\r\n"
      "md a I q\nmg a v\r\nmg a\r\n"
      "ma n N0 J41 v\r\nma n v\r\nma n MD D2 q\r\nma n v\r\n"
      "mg a zz\r\n"
      "mn\r\n";
  send(pipeline);
  const std::string expected = send(pipeline);
  EXPECT_EQ(expected,
            "HD ka O1\r\n"
            "VA 5 f3 ka O2\r\nva\r\nl\r\n"
            "SERVER_ERROR object too large for cache\r\n"
            "HD kAAEC b\r\n"
            "VA 2 kAAEC b\r\nhi\r\n"
            "CLIENT_ERROR bad data chunk\r\n"
            "HD s0 W\r\nHD s0 Z\r\n"
            "VA 6 X W\r\nva\r\nl!\r\nHD Z X\r\n"
            "VA 2\r\n41\r\nVA 2\r\n42\r\nVA 2\r\n41\r\n"
            "CLIENT_ERROR invalid flag\r\n"
            "MN\r\n");
  for (std::size_t at = 1; at < pipeline.size(); ++at)
    ASSERT_EQ(send_in_order(pipeline, at), expected) << "split at " << at;
}

}  // namespace
}  // namespace ebb::memcached::testing
