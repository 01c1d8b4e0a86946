#include "apps/loadgen/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ebb::loadgen {
namespace {

// A stream of every kind of reply, with a value whose data looks like the
// end of a reply (the parser must skip it by its length, not scan it).
const std::string kStream =
    "VALUE key1 0 5\r\nhello\r\nEND\r\n"
    "END\r\n"
    "STORED\r\n"
    "VALUE k 7 12 99\r\nab\r\nEND\r\ncde\r\nEND\r\n"
    "NOT_STORED\r\n"
    "SERVER_ERROR out of memory storing object\r\n"
    "ERROR\r\n"
    "CLIENT_ERROR bad data chunk\r\n"
    "EXISTS\r\n"
    "VALUE empty 0 0\r\n\r\nEND\r\n"
    "NOT_FOUND\r\n"
    "WHAT IS THIS\r\n"
    "VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n";

const std::vector<Reply> kReplies = {
    Reply::kHit,       Reply::kMiss,  Reply::kStored, Reply::kHit,       Reply::kNotStored,
    Reply::kError,     Reply::kError, Reply::kError,  Reply::kNotStored, Reply::kHit,
    Reply::kNotStored, Reply::kError, Reply::kHit,
};

std::vector<Reply> parse_in_pieces(const std::string& stream, const std::vector<std::size_t>& cuts,
                                   ReplyParser* parser) {
  std::vector<Reply> got;
  std::size_t at = 0;
  auto feed_to = [&](std::size_t end) {
    const auto* p = reinterpret_cast<const uint8_t*>(stream.data()) + at;
    EXPECT_TRUE(parser->feed(p, end - at, [&](Reply r) { got.push_back(r); }));
    at = end;
  };
  for (std::size_t cut : cuts)
    feed_to(cut);
  feed_to(stream.size());
  return got;
}

TEST(ReplyParser, ParsesEveryKindOfReplyInOnePiece) {
  ReplyParser parser;
  EXPECT_EQ(parse_in_pieces(kStream, {}, &parser), kReplies);
  EXPECT_FALSE(parser.mid_reply());
}

TEST(ReplyParser, AnyCutGivesTheSameReplies) {
  for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
    ReplyParser parser;
    ASSERT_EQ(parse_in_pieces(kStream, {cut}, &parser), kReplies) << "cut at " << cut;
  }
}

TEST(ReplyParser, EveryPairOfCutsGivesTheSameReplies) {
  for (std::size_t a = 0; a <= kStream.size(); ++a) {
    for (std::size_t b = a; b <= kStream.size(); ++b) {
      ReplyParser parser;
      ASSERT_EQ(parse_in_pieces(kStream, {a, b}, &parser), kReplies) << a << ", " << b;
    }
  }
}

TEST(ReplyParser, OneByteAtATime) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < kStream.size(); ++i)
    cuts.push_back(i);
  ReplyParser parser;
  EXPECT_EQ(parse_in_pieces(kStream, cuts, &parser), kReplies);
}

TEST(ReplyParser, AReplyIsOnlyReportedWhenComplete) {
  ReplyParser parser;
  const std::string part = "VALUE key 0 5\r\nhel";
  int replies = 0;
  parser.feed(reinterpret_cast<const uint8_t*>(part.data()), part.size(),
              [&](Reply) { ++replies; });
  EXPECT_EQ(replies, 0);
  EXPECT_TRUE(parser.mid_reply());
  const std::string rest = "lo\r\nEND\r";
  parser.feed(reinterpret_cast<const uint8_t*>(rest.data()), rest.size(),
              [&](Reply) { ++replies; });
  EXPECT_EQ(replies, 0);
  const std::string last = "\n";
  parser.feed(reinterpret_cast<const uint8_t*>(last.data()), last.size(), [&](Reply r) {
    ++replies;
    EXPECT_EQ(r, Reply::kHit);
  });
  EXPECT_EQ(replies, 1);
  EXPECT_FALSE(parser.mid_reply());
}

void expect_broken(const std::string& stream, const char* why) {
  ReplyParser parser;
  int replies = 0;
  EXPECT_FALSE(parser.feed(reinterpret_cast<const uint8_t*>(stream.data()), stream.size(),
                           [&](Reply) { ++replies; }))
      << stream;
  EXPECT_TRUE(parser.broken());
  EXPECT_NE(std::string(parser.error()).find(why), std::string::npos) << parser.error();
  // Nothing more is parsed once broken.
  const std::string more = "STORED\r\n";
  EXPECT_FALSE(parser.feed(reinterpret_cast<const uint8_t*>(more.data()), more.size(),
                           [&](Reply) { ++replies; }));
  EXPECT_EQ(replies, 0);
}

TEST(ReplyParser, StreamsThatCannotBeFollowedBreakIt) {
  expect_broken("VALUE k 0\r\n", "length");
  expect_broken("VALUE k 0 12x\r\n", "length");
  expect_broken("VALUE k 0 -1\r\n", "length");
  expect_broken("VALUE k 0 99999999999\r\n", "length");
  expect_broken("VALUE k 0 2\r\nabcd\r\nEND\r\n", "CRLF");
  expect_broken(std::string(5000, 'x'), "longer");
}

TEST(ReplyParser, BareLineFeedsAndOddWordsAreTolerated) {
  ReplyParser parser;
  std::vector<Reply> got;
  const std::string s = "STORED\nEND\nERRORS\r\nSTORED_\r\n";
  parser.feed(reinterpret_cast<const uint8_t*>(s.data()), s.size(),
              [&](Reply r) { got.push_back(r); });
  EXPECT_EQ(got, (std::vector<Reply>{Reply::kStored, Reply::kMiss, Reply::kError, Reply::kError}));
}

TEST(LoadgenRequests, GetAndSetAreWrittenInTheAsciiProtocol) {
  net::IOBuf out;
  ASSERT_TRUE(write_get(out, "abc"));
  ASSERT_TRUE(write_set(out, "key", 5));
  ASSERT_TRUE(write_set(out, "empty", 0));
  const std::string text = out.to_string();
  EXPECT_EQ(text.substr(0, 9), "get abc\r\n");
  const std::string set = text.substr(9, 15 + 7);
  EXPECT_EQ(set.substr(0, 15), "set key 0 0 5\r\n");
  EXPECT_EQ(set.substr(20, 2), "\r\n");
  EXPECT_EQ(text.substr(31), "set empty 0 0 0\r\n\r\n");
}

TEST(LoadgenRequests, LargeValuesAreLinkedNotCopied) {
  net::IOBuf out;
  ASSERT_TRUE(write_set(out, "big", 100000));
  const std::string header = "set big 0 0 100000\r\n";
  EXPECT_EQ(out.length(), header.size() + 100000 + 2);
  EXPECT_GE(out.link_count(), 2u);
  std::string text = out.to_string();
  EXPECT_EQ(text.substr(0, header.size()), header);
  EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
  EXPECT_EQ(text.find('\r', header.size()), text.size() - 2);  // no CR inside the value
}

TEST(LoadgenRequests, OversizedKeysAndValuesAreRefused) {
  net::IOBuf out;
  EXPECT_FALSE(write_get(out, std::string(251, 'k')));
  EXPECT_FALSE(write_set(out, "k", kMaxValueSize + 1));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace ebb::loadgen
