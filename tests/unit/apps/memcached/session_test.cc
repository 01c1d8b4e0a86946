// Session: protocol choice by the first byte, input kept across calls,
// replies held back past the batch limit, and memory that stays bounded.

#include "apps/memcached/server/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/unit/apps/memcached/harness.h"

namespace ebb::memcached::testing {
namespace {

using SessionTest = MemcachedTest;

TEST_F(SessionTest, RequestsArrivingByteByByteAreServed) {
  const std::string request = "set k 0 0 5\r\nhello\r\nget k\r\n";
  std::string replies;
  for (char c : request) replies += send(std::string(1, c));
  EXPECT_EQ(replies, "STORED\r\nVALUE k 0 5\r\nhello\r\nEND\r\n");
}

TEST_F(SessionTest, ABinaryClientIsRecognisedByItsFirstByte) {
  // A binary NOOP: magic 0x80, opcode 0x0a, everything else zero.
  std::string noop(24, '\0');
  noop[0] = '\x80';
  noop[1] = '\x0a';
  const std::string reply = send(noop);
  ASSERT_EQ(reply.size(), 24u);
  EXPECT_EQ(static_cast<uint8_t>(reply[0]), 0x81);
  EXPECT_EQ(reply[1], '\x0a');
}

TEST_F(SessionTest, RepliesPastTheBatchLimitWaitForTheClient) {
  const std::string value(100000, 'v');
  send("set big 0 0 100000\r\n" + value + "\r\n");
  std::string gets;
  for (int i = 0; i < 30; ++i) gets += "get big\r\n";
  std::size_t total = 0;
  std::size_t batches = 0;
  run(0, [&] {
    // Reach into the harness's session the way a connection does.
    Session session(server(), 0);
    net::IOBuf out;
    Session::Outcome outcome =
        session.receive(reinterpret_cast<const uint8_t*>(gets.data()), gets.size(), out);
    while (true) {
      ++batches;
      EXPECT_LE(out.length(), Session::kMaxBatchReply + 2 * value.size());
      total += out.length();
      out.clear();
      if (outcome != Session::Outcome::kPaused) break;
      outcome = session.resume(out);
    }
    EXPECT_EQ(outcome, Session::Outcome::kDone);
    EXPECT_EQ(session.buffered(), 0u);
  });
  EXPECT_GE(batches, 3u);
  EXPECT_EQ(total, 30 * (std::string("VALUE big 0 100000\r\n").size() + value.size() + 2 + 5));
}

TEST_F(SessionTest, GarbageGetsErrorsAndTheNextRequestStillWorks) {
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += static_cast<char>((i * 37) & 0x7f);
  garbage.erase(std::remove(garbage.begin(), garbage.end(), '\x80'), garbage.end());
  garbage = "x" + garbage + "\r\n";  // not 0x80 first: ASCII
  const std::string reply = send(garbage);
  EXPECT_NE(reply.find("ERROR"), std::string::npos);
  EXPECT_FALSE(closed());  // short lines: errors, not a close
  EXPECT_EQ(send("version\r\n"), std::string("VERSION ") + kVersion + "\r\n");
}

TEST_F(SessionTest, AClientThatStallsMidValueHoldsOnlyThatValue) {
  EXPECT_EQ(send("set k 0 0 1000\r\n" + std::string(500, 'a')), "");
  EXPECT_EQ(send(std::string(500, 'a') + "\r\nget k\r\n").substr(0, 8), "STORED\r\n");
}

}  // namespace
}  // namespace ebb::memcached::testing
