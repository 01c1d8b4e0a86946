#pragma once
// The Messenger's wire format: every message between nodes is a frame, a
// 32-byte header then the payload, in one TCP byte stream per pair of
// nodes. Message types are named by explicit numbers the program registers
// (MessageTypes), each with the versions it speaks — never by a compiler's
// type hash, which differs between builds — so nodes of different builds
// talk, or refuse one another's messages by name.
//
//   header (big-endian):
//     0  magic "EBBM"              4  framing version (1)   5  flags
//     6  type id (u16)             8  type version (u16)   10  reserved (0)
//    12  destination EbbId (u32)  16  source node (u16)    18  destination node (u16)
//    20  request id (u64; 0: a one-way message)           28  payload bytes (u32)
//
//   IOBuf frame = encode_frame(header, std::move(payload)).value();
//   FrameDecoder decoder(limits);
//   Status s = decoder.feed(std::move(bytes), [](Frame f) { ... });  // zero or more frames
//
// The decoder takes the stream in whatever pieces TCP delivers and hands up
// whole frames; a stream that is not the Messenger's (bad magic, unknown
// framing version, reserved bits set) or announces a payload over the limit
// is an error, after which the decoder refuses everything: the connection
// must be closed (a framing error cannot be resynchronised).

#include <cstdint>
#include <utility>

#include "ebbs/net/iobuf/iobuf.h"
#include "runtime/ebb_id.h"
#include "runtime/result.h"

namespace ebb::messenger {

using NodeId = uint16_t;
inline constexpr NodeId kNoNode = 0xffff;

inline constexpr uint32_t kFrameMagic = 0x4542424d;  // "EBBM"
inline constexpr uint8_t kFramingVersion = 1;
inline constexpr uint32_t kFrameHeaderBytes = 32;

// Frame flags.
inline constexpr uint8_t kFlagResponse = 1;  // answers request_id
inline constexpr uint8_t kFlagError = 2;     // a response whose payload says what went wrong
inline constexpr uint8_t kKnownFlags = kFlagResponse | kFlagError;

struct FrameHeader {
  uint8_t flags = 0;
  uint16_t type = 0;
  uint16_t type_version = 0;
  EbbId ebb = 0;
  NodeId source = kNoNode;
  NodeId destination = kNoNode;
  uint64_t request_id = 0;
  uint32_t payload_bytes = 0;  // set by encode_frame
};

struct Frame {
  FrameHeader header;
  net::IOBuf payload;
};

// The header in front of `payload` (in its headroom when there is room and
// it is unshared, else in a buffer of its own). Errc::kInvalidArgument for
// unknown flags or a payload over 4 GiB.
Result<net::IOBuf> encode_frame(FrameHeader header, net::IOBuf payload);

struct FrameLimits {
  uint32_t max_payload_bytes = 16u << 20;  // a peer cannot make us buffer more for one frame
};

struct DecoderCounters {
  uint64_t frames = 0;
  uint64_t bytes = 0;
};

class FrameDecoder {
 public:
  explicit FrameDecoder(FrameLimits limits = {}) : limits_(limits) {}

  // Takes the next bytes of the stream; calls on_frame(Frame) for each
  // frame they complete, in order. After an error (returned, and kept) the
  // decoder takes nothing more.
  template <class F>
  Status feed(net::IOBuf bytes, F&& on_frame) {
    if (!error_.ok()) return error_;
    pending_.append(std::move(bytes));
    for (;;) {
      Result<bool> ready = next_frame();
      if (!ready) return error_ = ready.error();
      if (!*ready) return {};
      on_frame(std::move(frame_));
      frame_ = Frame{};
    }
  }

  // When the stream ends: an error if it ended inside a frame (truncated).
  Status finish() const;

  // Bytes of the stream taken but not yet handed up in a frame (a header
  // already read counts).
  std::size_t pending_bytes() const { return pending_.length() + (have_header_ ? kFrameHeaderBytes : 0); }
  const DecoderCounters& counters() const { return counters_; }

 private:
  // True with frame_ set when pending_ holds a whole frame.
  Result<bool> next_frame();

  FrameLimits limits_;
  net::IOBuf pending_;
  Frame frame_;
  bool have_header_ = false;
  Status error_;
  DecoderCounters counters_;
};

}  // namespace ebb::messenger
