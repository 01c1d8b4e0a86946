#pragma once
// What the PVH loader hands the image (Xen's hvm_start_info, version 1):
// the memory map, the kernel command line and the ACPI RSDP, checked and
// copied out before anything may overwrite them.

#include <cstddef>
#include <cstdint>

#include "runtime/result.h"

namespace ebb::native {

struct MemoryRange {
  uint64_t base;
  uint64_t bytes;
};

struct BootInfo {
  static constexpr std::size_t kMaxRanges = 64;
  static constexpr std::size_t kMaxCommandLine = 1024;
  MemoryRange ram[kMaxRanges];  // usable RAM, sorted, as the loader gave it
  std::size_t ram_ranges = 0;
  uint64_t ram_bytes = 0;
  char command_line[kMaxCommandLine] = {};
  uint64_t rsdp = 0;  // physical; 0 when the loader gave none
};

// Reads the start info at physical address `start_info`. Errors name what
// is missing or malformed: no start info, a bad magic number, no memory map,
// a map with no usable RAM, a command line too long.
Status read_boot_info(uint64_t start_info, BootInfo& info);

}  // namespace ebb::native
