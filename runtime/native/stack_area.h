#pragma once
// Fiber stacks with guard pages: stacks laid one after another in a region
// of their own (PML4 entry 509, 0xfffffe8000000000), each above a page that
// is never mapped, so an overflow faults at once instead of writing over a
// neighbour. Their pages are RAM mapped page by page. A freed stack keeps
// its mapping for the next of its size, so no mapping is ever removed (and
// no other CPU's TLB needs telling). (Stacks are not laid on a power-of-two
// stride: TLBs index by address bits, and their tops would all collide.)

#include <cstddef>
#include <cstdint>

namespace ebb::native {

inline constexpr uint64_t kStackAreaBase = 0xfffffe8000000000;
inline constexpr uint64_t kStackAreaBytes = uint64_t{16} << 30;

// A stack of at least `bytes` (page-rounded): its lowest usable address, or
// null when memory or the area is exhausted.
uint8_t* stack_area_allocate(std::size_t bytes);
// `bytes` as allocated.
void stack_area_free(uint8_t* bottom, std::size_t bytes);

// About an address: inside the area at all, and whether it is mapped (a
// fault below a stack is an overflow; the exception report says so).
bool in_stack_area(uint64_t address);
bool stack_area_mapped(uint64_t address);

}  // namespace ebb::native
