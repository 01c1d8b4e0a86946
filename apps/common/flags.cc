#include "apps/common/flags.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace ebb::apps {

bool parse_number(const char* program, const char* flag, const char* text, uint64_t min,
                  uint64_t max, uint64_t* out) {
  if (text == nullptr) {
    std::fprintf(stderr, "%s: %s needs a number\n", program, flag);
    return false;
  }
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value < min || value > max) {
    std::fprintf(stderr, "%s: %s wants a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'\n",
                 program, flag, min, max, text);
    return false;
  }
  *out = value;
  return true;
}

}  // namespace ebb::apps
