#pragma once
// The boot heap: where operator new and malloc get memory in the image
// until the memory Ebbs take over. Power-of-two size classes with a free
// list each, carved from one range of RAM; a spin lock makes it safe on
// every CPU. Bounded by its range: exhaustion is a null return.

#include <cstddef>
#include <cstdint>

namespace ebb::native {

void boot_heap_init(void* base, std::size_t bytes);
void* boot_heap_allocate(std::size_t bytes, std::size_t alignment = 16);
void boot_heap_free(void* p);
// The bytes usable at p, a live block of the boot heap.
std::size_t boot_heap_usable_size(const void* p);
// Bytes handed out and not yet freed (class-rounded), and the range's size.
std::size_t boot_heap_in_use();
std::size_t boot_heap_bytes();

}  // namespace ebb::native
