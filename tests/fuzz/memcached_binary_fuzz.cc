// libFuzzer harness: ebb-memcached's binary protocol through
// ebb::memcached::Session. What it checks: tests/fuzz/session_fuzz.h, and
// that the replies are framed (every one a whole 24-byte header with magic
// 0x81 and a body whose key and extras fit in it).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "apps/memcached/protocol/binary.h"
#include "apps/memcached/store/item.h"
#include "tests/fuzz/session_fuzz.h"

namespace {

using ebb::memcached::binary::kHeaderBytes;

// One request at most: a header, extras (20 bytes at most for a request the
// session waits for) and a key and value, which fit in the item limit for a
// store and are a key (250 bytes at most) for anything else. Bodies of other
// sizes are refused and skipped, not kept.
constexpr std::size_t kRequestBound =
    kHeaderBytes + 20 + ebb::memcached::kMaxKeyLength + ebb::fuzz::kItemSizeMax;

constexpr uint8_t kOpStat = 0x10;

uint32_t load_be32(const std::string& s, std::size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

// Walks the replies: fails on broken framing; kSkip when a STAT reply is
// among them (its values differ from feed to feed).
ebb::fuzz::Comparison framed_and_comparable(const std::string& replies) {
  auto comparison = ebb::fuzz::Comparison::kExact;
  std::size_t at = 0;
  while (at < replies.size()) {
    if (replies.size() - at < kHeaderBytes) ebb::fuzz::fail("a binary reply cut inside its header");
    if (static_cast<uint8_t>(replies[at]) != ebb::memcached::binary::kResponseMagic)
      ebb::fuzz::fail("a binary reply without the response magic");
    const std::size_t key = (std::size_t{static_cast<uint8_t>(replies[at + 2])} << 8) |
                            static_cast<uint8_t>(replies[at + 3]);
    const std::size_t extras = static_cast<uint8_t>(replies[at + 4]);
    const std::size_t body = load_be32(replies, at + 8);
    if (key + extras > body) ebb::fuzz::fail("a binary reply whose key and extras exceed its body");
    if (body > replies.size() - at - kHeaderBytes)
      ebb::fuzz::fail("a binary reply cut inside its body");
    if (static_cast<uint8_t>(replies[at + 1]) == kOpStat) comparison = ebb::fuzz::Comparison::kSkip;
    at += kHeaderBytes + body;
  }
  return comparison;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const ebb::fuzz::FuzzInput input = ebb::fuzz::FuzzInput::Parse(data, size);
  if (input.stream.empty()) return 0;
  // The first byte picks the protocol: keep this harness on binary.
  std::vector<uint8_t> stream(input.stream.begin(), input.stream.end());
  stream[0] = ebb::memcached::binary::kRequestMagic;
  ebb::fuzz::fuzz_session(input, stream, kRequestBound, framed_and_comparable);
  return 0;
}
