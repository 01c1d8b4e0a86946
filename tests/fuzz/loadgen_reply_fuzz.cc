// libFuzzer harness: ebb-loadgen's parser of memcached's ASCII replies
// (apps/loadgen/protocol.h), fed a server's byte stream in pieces cut as the
// input says (tests/fuzz/fuzz_input.h; the mode bit is unused). Beyond the
// sanitizers it checks:
//
//   - the cut does not matter: the stream whole and in pieces gives the same
//     replies in the same order, the same verdict (broken or not, and why)
//     and the same mid_reply() at the end;
//   - it reads only the piece it is given (each piece is a heap block of its
//     own, freed after the call, for ASan to watch);
//   - every reply ends a line: no more replies than newlines;
//   - once broken it stays broken and reports nothing more.
//
// The parser needs no runtime: it is plain code over bytes.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "apps/loadgen/protocol.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using ebb::loadgen::Reply;
using ebb::loadgen::ReplyParser;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "\n*** fuzz invariant broken: %s\n", what);
  std::abort();
}

struct Parsed {
  std::vector<Reply> replies;
  bool broken = false;
  const char* error = nullptr;
  bool mid_reply = false;
};

template <class Cut>
Parsed parse(std::span<const uint8_t> stream, Cut&& for_each_piece) {
  Parsed parsed;
  ReplyParser parser;
  for_each_piece([&](std::size_t offset, std::size_t length) {
    const std::unique_ptr<uint8_t[]> copy(new uint8_t[length]);
    std::memcpy(copy.get(), stream.data() + offset, length);
    const bool was_broken = parser.broken();
    const std::size_t before = parsed.replies.size();
    const bool ok = parser.feed(copy.get(), length, [&](Reply r) { parsed.replies.push_back(r); });
    if (ok == parser.broken()) fail("feed()'s result disagrees with broken()");
    if (was_broken && (ok || parsed.replies.size() != before))
      fail("a broken parser went on parsing");
  });
  parsed.broken = parser.broken();
  parsed.error = parser.error();
  parsed.mid_reply = parser.mid_reply();
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const ebb::fuzz::FuzzInput input = ebb::fuzz::FuzzInput::Parse(data, size);
  const std::span<const uint8_t> stream = input.stream;
  const Parsed whole = parse(stream, [&](auto&& piece) {
    if (!stream.empty()) piece(0, stream.size());
  });
  const Parsed pieces = parse(stream, [&](auto&& piece) { input.for_each_piece(piece); });

  std::size_t newlines = 0;
  for (uint8_t b : stream)
    newlines += b == '\n';
  if (whole.replies.size() > newlines) fail("more replies than lines");
  if (whole.replies != pieces.replies)
    fail("the same bytes in pieces gave other replies than whole");
  if (whole.broken != pieces.broken) fail("the same bytes in pieces broke the parser differently");
  const bool same_reason = whole.error == nullptr || pieces.error == nullptr
                               ? whole.error == pieces.error
                               : std::strcmp(whole.error, pieces.error) == 0;
  if (!same_reason) fail("the same bytes in pieces broke the parser for another reason");
  if (!whole.broken && whole.mid_reply != pieces.mid_reply)
    fail("the same bytes in pieces ended in another state");
  return 0;
}
