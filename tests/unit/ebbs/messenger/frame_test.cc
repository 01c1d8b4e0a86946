// The Messenger's wire format: frames encoded and decoded back whatever
// pieces the stream arrives in; a stream that is not the Messenger's, a
// frame over the limit, a stream that ends inside a frame, and message
// types or versions a node does not speak are errors that say which.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ebbs/messenger/frame.h"
#include "ebbs/messenger/message_types.h"

namespace ebb::messenger {
namespace {

using net::IOBuf;

FrameHeader header(uint16_t type, uint64_t request = 0) {
  FrameHeader h;
  h.flags = request != 0 ? 0 : 0;
  h.type = type;
  h.type_version = 2;
  h.ebb = 0x01020304;
  h.source = 3;
  h.destination = 7;
  h.request_id = request;
  return h;
}

std::string bytes_of(const IOBuf& b) { return b.to_string(); }

// Frames as a decoder hands them up.
struct Collected {
  std::vector<FrameHeader> headers;
  std::vector<std::string> payloads;
  void operator()(Frame f) {
    headers.push_back(f.header);
    payloads.push_back(f.payload.to_string());
  }
};

TEST(MessengerFrame, AHeaderIsThirtyTwoBigEndianBytes) {
  IOBuf frame = encode_frame(header(0x1234, 0x1122334455667788), IOBuf::CopyOf("hello").value()).value();
  const std::string b = bytes_of(frame);
  ASSERT_EQ(b.size(), kFrameHeaderBytes + 5);
  EXPECT_EQ(b.substr(0, 4), "EBBM");
  EXPECT_EQ(b[4], 1);  // framing version
  EXPECT_EQ(static_cast<uint8_t>(b[6]), 0x12);
  EXPECT_EQ(static_cast<uint8_t>(b[7]), 0x34);
  EXPECT_EQ(b[9], 2);  // type version
  EXPECT_EQ(static_cast<uint8_t>(b[12]), 0x01);
  EXPECT_EQ(static_cast<uint8_t>(b[15]), 0x04);
  EXPECT_EQ(b[17], 3);
  EXPECT_EQ(b[19], 7);
  EXPECT_EQ(static_cast<uint8_t>(b[20]), 0x11);
  EXPECT_EQ(static_cast<uint8_t>(b[27]), 0x88);
  EXPECT_EQ(b[31], 5);  // payload bytes
  EXPECT_EQ(b.substr(32), "hello");
}

TEST(MessengerFrame, FramesComeBackWholeHoweverTheStreamIsCut) {
  std::string stream;
  std::vector<std::string> payloads = {"", "a", std::string(1000, 'x'), "last one"};
  for (std::size_t i = 0; i < payloads.size(); ++i)
    stream += bytes_of(encode_frame(header(static_cast<uint16_t>(10 + i), i), IOBuf::CopyOf(payloads[i]).value())
                           .value());
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{31}, std::size_t{32}, std::size_t{33},
                            std::size_t{500}, stream.size()}) {
    FrameDecoder decoder;
    Collected got;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      const std::string part = stream.substr(at, piece);
      ASSERT_TRUE(decoder.feed(IOBuf::CopyOf(part).value(), got).ok());
    }
    ASSERT_EQ(got.payloads, payloads) << "pieces of " << piece;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      EXPECT_EQ(got.headers[i].type, 10 + i);
      EXPECT_EQ(got.headers[i].type_version, 2);
      EXPECT_EQ(got.headers[i].ebb, 0x01020304u);
      EXPECT_EQ(got.headers[i].source, 3);
      EXPECT_EQ(got.headers[i].destination, 7);
      EXPECT_EQ(got.headers[i].request_id, i);
      EXPECT_EQ(got.headers[i].payload_bytes, payloads[i].size());
    }
    EXPECT_TRUE(decoder.finish().ok());
    EXPECT_EQ(decoder.pending_bytes(), 0u);
    EXPECT_EQ(decoder.counters().frames, payloads.size());
    EXPECT_EQ(decoder.counters().bytes, stream.size());
  }
}

TEST(MessengerFrame, AStreamThatIsNotTheMessengersIsRefusedForGood) {
  FrameDecoder decoder;
  Collected got;
  Status s = decoder.feed(IOBuf::CopyOf(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).value(), got);
  ASSERT_FALSE(s.ok());
  EXPECT_STREQ(s.error().message(), "messenger: not a Messenger stream (bad magic)");
  // Even a good frame now: a framing error cannot be resynchronised.
  Status after = decoder.feed(encode_frame(header(10), IOBuf()).value(), got);
  EXPECT_FALSE(after.ok());
  EXPECT_TRUE(got.headers.empty());
}

TEST(MessengerFrame, UnknownFramingVersionsReservedBitsAndOversizedFramesAreErrors) {
  auto corrupt = [](std::size_t at, char value) {
    std::string b = bytes_of(encode_frame(header(10), IOBuf::CopyOf("x").value()).value());
    b[at] = value;
    return b;
  };
  struct Case {
    std::string bytes;
    const char* error;
  };
  const Case cases[] = {
      {corrupt(4, 2), "messenger: a framing version this node does not speak"},
      {corrupt(5, 0x40), "messenger: reserved header bits set"},
      {corrupt(11, 1), "messenger: reserved header bits set"},
  };
  for (const Case& c : cases) {
    FrameDecoder decoder;
    Collected got;
    Status s = decoder.feed(IOBuf::CopyOf(c.bytes).value(), got);
    ASSERT_FALSE(s.ok()) << c.error;
    EXPECT_STREQ(s.error().message(), c.error);
    EXPECT_TRUE(got.headers.empty());
  }
  // A header announcing more than the limit is refused before any of the
  // payload is waited for (a peer cannot make a node buffer it).
  FrameDecoder small({.max_payload_bytes = 100});
  Collected got;
  IOBuf big = encode_frame(header(10), IOBuf::CopyOf(std::string(101, 'b')).value()).value();
  Result<IOBuf> head = big.split_front(kFrameHeaderBytes);
  Status s = small.feed(std::move(*head), got);
  ASSERT_FALSE(s.ok());
  EXPECT_STREQ(s.error().message(), "messenger: a frame larger than the limit");
  EXPECT_EQ(s.error().value(), 101);
  EXPECT_TRUE(small.feed(encode_frame(header(10), IOBuf::CopyOf(std::string(100, 'b')).value()).value(), got)
                  .ok() == false);  // refused for good
}

TEST(MessengerFrame, AStreamEndingInsideAFrameIsTruncated) {
  IOBuf frame = encode_frame(header(10), IOBuf::CopyOf("twelve bytes").value()).value();
  const std::string b = bytes_of(frame);
  for (std::size_t cut : {std::size_t{1}, std::size_t{31}, std::size_t{32}, b.size() - 1}) {
    FrameDecoder decoder;
    Collected got;
    ASSERT_TRUE(decoder.feed(IOBuf::CopyOf(b.substr(0, cut)).value(), got).ok());
    EXPECT_TRUE(got.headers.empty());
    Status end = decoder.finish();
    ASSERT_FALSE(end.ok()) << cut;
    EXPECT_STREQ(end.error().message(), "messenger: the stream ended inside a frame");
  }
}

TEST(MessengerFrame, UnknownFlagsAreNotSent) {
  FrameHeader h = header(10);
  h.flags = 0x80;
  EXPECT_FALSE(encode_frame(h, IOBuf()).ok());
  h.flags = kFlagResponse | kFlagError;
  EXPECT_TRUE(encode_frame(h, IOBuf()).ok());
}

TEST(MessageTypes, KnownTypesAndVersionsPassOthersAreNamed) {
  MessageTypes types;
  ASSERT_TRUE(types.add({.id = 20, .min_version = 1, .max_version = 2, .name = "idmap.lookup"}).ok());
  ASSERT_TRUE(types.add({.id = 10, .min_version = 3, .max_version = 3, .name = "heartbeat"}).ok());
  EXPECT_EQ(types.add({.id = 20, .name = "again"}).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(types.add({.id = 0, .name = "none"}).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(types.add({.id = 30, .min_version = 2, .max_version = 1}).error().code(), Errc::kInvalidArgument);
  ASSERT_NE(types.find(10), nullptr);
  EXPECT_STREQ(types.find(10)->name, "heartbeat");
  EXPECT_EQ(types.find(11), nullptr);

  FrameHeader h;
  h.type = 20;
  h.type_version = 2;
  EXPECT_TRUE(types.check(h).ok());
  h.type_version = 3;
  Status newer = types.check(h);
  ASSERT_FALSE(newer.ok());
  EXPECT_STREQ(newer.error().message(), "messenger: a version of the message type this node does not speak");
  EXPECT_EQ(newer.error().value(), 3);
  h.type = 21;
  Status unknown = types.check(h);
  ASSERT_FALSE(unknown.ok());
  EXPECT_STREQ(unknown.error().message(), "messenger: unknown message type");
  EXPECT_EQ(unknown.error().value(), 21);
}

}  // namespace
}  // namespace ebb::messenger
