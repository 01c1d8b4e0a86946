#pragma once
// Memory for the page allocator Ebb (platform::take_memory): 2 MiB-aligned
// regions of RAM the boot heap does not use, handed out and taken back.

#include <cstdint>

namespace ebb::native {

// The RAM take_memory hands out: [base, base + bytes), identity-mapped.
void memory_init(uint64_t base, uint64_t bytes);
uint64_t memory_free_bytes();

}  // namespace ebb::native
