#include "ebbs/messenger/frame.h"

#include "runtime/bytes.h"

namespace ebb::messenger {
namespace {

constexpr std::size_t kHeadroom = 64;

}  // namespace

Result<net::IOBuf> encode_frame(FrameHeader header, net::IOBuf payload) {
  if ((header.flags & ~kKnownFlags) != 0) return Error(Errc::kInvalidArgument, "messenger: unknown frame flags", header.flags);
  if (payload.length() > UINT32_MAX)
    return Error(Errc::kInvalidArgument, "messenger: a payload over 4 GiB", static_cast<int64_t>(payload.length()));
  header.payload_bytes = static_cast<uint32_t>(payload.length());
  net::IOBuf frame;
  if (payload.headroom() >= kFrameHeaderBytes) {
    frame = std::move(payload);
  } else {
    Result<net::IOBuf> room = net::IOBuf::Create(0, kHeadroom);
    if (!room) return room.error();
    frame = std::move(*room);
    frame.append(std::move(payload));
  }
  uint8_t* h = frame.push_front(kFrameHeaderBytes);
  store32(h, kFrameMagic);
  h[4] = kFramingVersion;
  h[5] = header.flags;
  store16(h + 6, header.type);
  store16(h + 8, header.type_version);
  store16(h + 10, 0);
  store32(h + 12, header.ebb);
  store16(h + 16, header.source);
  store16(h + 18, header.destination);
  store64(h + 20, header.request_id);
  store32(h + 28, header.payload_bytes);
  return frame;
}

Result<bool> FrameDecoder::next_frame() {
  if (!have_header_) {
    if (pending_.length() < kFrameHeaderBytes) {
      // A stream that is not the Messenger's is refused at its fourth byte.
      uint8_t magic[4];
      if (pending_.copy_out(0, magic, 4) && load32(magic) != kFrameMagic)
        return Error(Errc::kInvalidArgument, "messenger: not a Messenger stream (bad magic)");
      return false;
    }
    uint8_t h[kFrameHeaderBytes];
    (void)pending_.copy_out(0, h, sizeof h);
    if (load32(h) != kFrameMagic) return Error(Errc::kInvalidArgument, "messenger: not a Messenger stream (bad magic)");
    if (h[4] != kFramingVersion)
      return Error(Errc::kInvalidArgument, "messenger: a framing version this node does not speak", h[4]);
    if ((h[5] & ~kKnownFlags) != 0 || load16(h + 10) != 0)
      return Error(Errc::kInvalidArgument, "messenger: reserved header bits set");
    FrameHeader& f = frame_.header;
    f.flags = h[5];
    f.type = load16(h + 6);
    f.type_version = load16(h + 8);
    f.ebb = load32(h + 12);
    f.source = load16(h + 16);
    f.destination = load16(h + 18);
    f.request_id = load64(h + 20);
    f.payload_bytes = load32(h + 28);
    if (f.payload_bytes > limits_.max_payload_bytes)
      return Error(Errc::kInvalidArgument, "messenger: a frame larger than the limit", f.payload_bytes);
    pending_.trim_front(kFrameHeaderBytes);
    have_header_ = true;
  }
  const uint32_t want = frame_.header.payload_bytes;
  if (pending_.length() < want) return false;
  if (want == 0) {
    frame_.payload = net::IOBuf();
  } else if (pending_.length() == want) {
    frame_.payload = std::move(pending_);
    pending_ = net::IOBuf();
  } else {
    Result<net::IOBuf> payload = pending_.split_front(want);
    if (!payload) return payload.error();
    frame_.payload = std::move(*payload);
  }
  have_header_ = false;
  ++counters_.frames;
  counters_.bytes += kFrameHeaderBytes + want;
  return true;
}

Status FrameDecoder::finish() const {
  if (!error_.ok()) return error_;
  if (have_header_ || pending_.length() != 0)
    return Error(Errc::kInvalidArgument, "messenger: the stream ended inside a frame",
                 static_cast<int64_t>(pending_bytes()));
  return {};
}

}  // namespace ebb::messenger
