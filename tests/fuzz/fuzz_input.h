#pragma once
// FuzzInput: how every harness here reads a libFuzzer input. A stream parser
// must give the same answers however TCP cuts its input, so the input says
// both the bytes and where to cut them:
//
//   byte 0      low 4 bits: n, the number of cut bytes that follow;
//               bit 4: a harness-specific mode bit (the sessions: stash input
//               that arrives while paused, as the connection does)
//   bytes 1..n  piece sizes, used in a cycle until the stream ends: a byte b
//               below 0xC0 is a piece of b + 1 bytes, above it one of
//               (b - 0xBF) * 256 bytes (up to 16 KiB, so that large values
//               can arrive whole too)
//   the rest    the stream
//
// n = 0 cuts the stream into single bytes, the hardest case for buffering.
// The seed corpora (tests/fuzz/corpus, made by make_seeds.py) start with
// such a prefix.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ebb::fuzz {

struct FuzzInput {
  bool mode = false;
  std::vector<std::size_t> cuts;  // empty: one byte at a time
  std::span<const uint8_t> stream;

  static FuzzInput Parse(const uint8_t* data, std::size_t size) {
    FuzzInput input;
    if (size == 0) return input;
    const std::size_t n = data[0] & 0x0f;
    input.mode = (data[0] & 0x10) != 0;
    std::size_t pos = 1;
    for (; pos < size && input.cuts.size() < n; ++pos) {
      const uint8_t b = data[pos];
      input.cuts.push_back(b < 0xc0 ? std::size_t{b} + 1 : (std::size_t{b} - 0xbf) * 256);
    }
    input.stream = std::span<const uint8_t>(data + pos, size - pos);
    return input;
  }

  // The stream cut as the input says: calls piece(offset, length) in order.
  template <class F>
  void for_each_piece(F&& piece) const {
    std::size_t offset = 0;
    for (std::size_t i = 0; offset < stream.size(); ++i) {
      std::size_t length = cuts.empty() ? 1 : cuts[i % cuts.size()];
      if (length > stream.size() - offset) length = stream.size() - offset;
      piece(offset, length);
      offset += length;
    }
  }
};

}  // namespace ebb::fuzz
