#pragma once
// The kernel command line: words separated by spaces. Words that start with
// "ebb." are the image's own options (ebb.NAME=VALUE); the rest, in order,
// are the application's arguments (argv[1..]), as if it were a process.

#include <cstddef>
#include <cstdint>

#include "runtime/result.h"

namespace ebb::native {

// ebb.apic: the local APIC's mode. auto: x2APIC when the CPU has it;
// x2apic on a CPU without it is a boot error.
enum class ApicChoice : uint8_t { kAuto, kXApic, kX2Apic };

struct ImageOptions {
  uint32_t cores = 0;             // ebb.cores: run on this many CPUs (0: all)
  bool probe = false;             // ebb.probe=1: power off with 0 once booted (checks an accelerator)
  ApicChoice apic = ApicChoice::kAuto;  // ebb.apic=auto|xapic|x2apic
};

struct CommandLine {
  static constexpr std::size_t kMaxArgs = 64;
  ImageOptions options;
  int argc = 0;
  char* argv[kMaxArgs + 1] = {};
};

// Splits `text` in place. Errors: an unknown ebb. option, a value that is
// not a number in range, too many words.
Status parse_command_line(char* text, const char* program, CommandLine& out);

}  // namespace ebb::native
