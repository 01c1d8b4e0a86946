#pragma once
// Command-line numbers for the apps: whole, in range, with a clear message.

#include <cstdint>

namespace ebb::apps {

// Parses `text` (the value after `flag`) into *out: a whole number from min
// to max. On failure prints "PROGRAM: FLAG ..." to stderr and returns false.
bool parse_number(const char* program, const char* flag, const char* text, uint64_t min,
                  uint64_t max, uint64_t* out);

}  // namespace ebb::apps
