// libFuzzer harness: ebb-memcached's ASCII protocol and the meta commands it
// hands on (mg ms md ma mn me), through ebb::memcached::Session, the code
// that sees a client's raw bytes. What it checks: tests/fuzz/session_fuzz.h.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "apps/memcached/protocol/ascii.h"
#include "apps/memcached/protocol/binary.h"
#include "tests/fuzz/session_fuzz.h"

namespace {

// One request at most: a multi-key retrieval line may run to kMaxGetLine;
// any other line ends within kMaxLine (or the connection closes), and a
// storage line then waits for its value, which is below the item limit
// (bigger ones are refused and skipped, not kept). The sum covers either.
constexpr std::size_t kRequestBound =
    ebb::memcached::ascii::kMaxGetLine + ebb::fuzz::kItemSizeMax + 8;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const ebb::fuzz::FuzzInput input = ebb::fuzz::FuzzInput::Parse(data, size);
  if (input.stream.empty()) return 0;
  // The first byte picks the protocol: keep this harness on ASCII.
  std::vector<uint8_t> stream(input.stream.begin(), input.stream.end());
  if (stream[0] == ebb::memcached::binary::kRequestMagic) stream[0] = ' ';
  // `stats` replies tell uptime, rusage and byte counts, which differ between
  // the two feeds: inputs that may ask for them are not compared (they are
  // still fed, for the other checks).
  using ebb::fuzz::Comparison;
  const std::string_view text(reinterpret_cast<const char*>(stream.data()), stream.size());
  const Comparison comparison =
      text.find("stats") == std::string_view::npos ? Comparison::kExact : Comparison::kSkip;
  ebb::fuzz::fuzz_session(input, stream, kRequestBound,
                          [&](const std::string&) { return comparison; });
  return 0;
}
