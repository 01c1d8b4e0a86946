// libFuzzer harness: the Messenger's frame decoder (ebbs/messenger/frame.h)
// fed a peer's byte stream in pieces cut as the input says
// (tests/fuzz/fuzz_input.h; the mode bit sets a small payload limit).
// Beyond the sanitizers it checks:
//
//   - the cut does not matter: whole and in pieces, the same frames (headers
//     and payloads) in the same order and the same verdict;
//   - frames account for the stream: their bytes never exceed it, and with
//     no error, frames plus what is pending are the whole stream;
//   - no frame's payload is over the limit, and each frame re-encodes to the
//     very bytes it came from;
//   - once broken it stays broken and hands up nothing more.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ebbs/messenger/frame.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using ebb::messenger::Frame;
using ebb::messenger::FrameDecoder;
using ebb::messenger::FrameLimits;
using ebb::net::IOBuf;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "\n*** fuzz invariant broken: %s\n", what);
  std::abort();
}

struct Decoded {
  std::vector<std::string> frames;  // each re-encoded
  bool broken = false;
  const char* why = nullptr;
  std::size_t pending = 0;
};

Decoded decode(const ebb::fuzz::FuzzInput& input, bool whole, FrameLimits limits) {
  FrameDecoder decoder(limits);
  Decoded d;
  auto on_frame = [&](Frame f) {
    if (d.broken) fail("a frame after an error");
    if (f.payload.length() > limits.max_payload_bytes) fail("a payload over the limit");
    if (f.payload.length() != f.header.payload_bytes) fail("a payload of another length than announced");
    ebb::Result<IOBuf> again = ebb::messenger::encode_frame(f.header, std::move(f.payload));
    if (!again) fail("a decoded frame does not encode");
    d.frames.push_back(again->to_string());
  };
  auto feed = [&](std::size_t offset, std::size_t length) {
    ebb::Result<IOBuf> piece = IOBuf::CopyOf(input.stream.data() + offset, length);
    if (!piece) fail("out of memory");
    ebb::Status s = decoder.feed(std::move(*piece), on_frame);
    if (!s.ok()) {
      d.broken = true;
      d.why = s.error().message();
    }
  };
  if (whole) {
    if (!input.stream.empty()) feed(0, input.stream.size());
  } else {
    input.for_each_piece(feed);
  }
  d.pending = decoder.pending_bytes();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const ebb::fuzz::FuzzInput input = ebb::fuzz::FuzzInput::Parse(data, size);
  const FrameLimits limits{.max_payload_bytes = input.mode ? 64u : 1u << 20};
  const Decoded pieces = decode(input, false, limits);
  const Decoded whole = decode(input, true, limits);
  if (pieces.frames != whole.frames) fail("the cut changed the frames");
  if (pieces.broken != whole.broken) fail("the cut changed the verdict");
  if (pieces.broken && std::string(pieces.why) != whole.why) fail("the cut changed the error");
  const std::string stream(reinterpret_cast<const char*>(input.stream.data()), input.stream.size());
  std::string joined;
  for (const std::string& f : pieces.frames) joined += f;
  if (joined.size() > stream.size()) fail("frames longer than the stream");
  if (stream.compare(0, joined.size(), joined) != 0) fail("frames that are not the stream's bytes");
  if (!pieces.broken && joined.size() + pieces.pending != stream.size()) fail("bytes lost");
  return 0;
}
