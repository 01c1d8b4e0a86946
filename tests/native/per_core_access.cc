#include "tests/native/per_core_access.h"

#include <cstring>

#include "runtime/native/boot_heap.h"
#include "runtime/native/x86.h"
#include "runtime/panic.h"

namespace ebb::bench {
namespace {

using native::kKernelBase;

constexpr uint64_t kPresentWritable = 0x3;
constexpr uint64_t kLargePage = 0x80;
constexpr uint64_t kAddressBits = 0x000ffffffffff000;
constexpr uint64_t kCacheFlags = 0x18;  // PCD | PWT, kept when a large page is split

// The boot heap lives below 2 GiB physical, at kKernelBase + physical.
uint64_t* page_at(uint64_t physical) { return reinterpret_cast<uint64_t*>(physical + kKernelBase); }
uint64_t physical_of(const void* p) { return reinterpret_cast<uint64_t>(p) - kKernelBase; }

uint64_t* zeroed_page() {
  void* p = native::boot_heap_allocate(4096, 4096);
  if (p == nullptr) panic("per_core_access: no memory for a page");
  std::memset(p, 0, 4096);
  return static_cast<uint64_t*>(p);
}

uint64_t read_cr3() {
  uint64_t v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
void write_cr3(uint64_t v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }

// Maps `va` to `page` in the tree under `pml4` (already this CPU's own),
// copying each table on the way so no other CPU's view changes. A large
// page on the way is split into smaller ones that map what it mapped.
void map_private(uint64_t* pml4, uint64_t va, uint64_t page) {
  uint64_t* table = pml4;
  for (unsigned shift = 39; shift > 12; shift -= 9) {
    uint64_t& entry = table[(va >> shift) & 511];
    uint64_t* next = zeroed_page();
    if ((entry & 1) != 0 && (entry & kLargePage) != 0) {
      const unsigned child_shift = shift - 9;
      const uint64_t base = entry & kAddressBits & ~((uint64_t{1} << shift) - 1);
      const uint64_t flags =
          (entry & (kCacheFlags | kPresentWritable)) | (child_shift > 12 ? kLargePage : 0);
      for (uint64_t i = 0; i < 512; ++i) next[i] = (base + (i << child_shift)) | flags;
    } else if ((entry & 1) != 0) {
      std::memcpy(next, page_at(entry & kAddressBits), 4096);
    }
    entry = physical_of(next) | kPresentWritable;
    table = next;
  }
  table[(va >> 12) & 511] = page | kPresentWritable;
}

uint64_t g_shared_cr3 = 0;  // the measuring CPU's tables before map_per_core_page

}  // namespace

void** install_gs_block() {
  uint64_t* block = zeroed_page();
  native::wrmsr(native::kMsrGsBase, reinterpret_cast<uint64_t>(block));
  return reinterpret_cast<void**>(block);
}

void remove_gs_block() { native::wrmsr(native::kMsrGsBase, 0); }

void** map_per_core_page() {
  g_shared_cr3 = read_cr3();
  uint64_t* pml4 = zeroed_page();
  std::memcpy(pml4, page_at(g_shared_cr3 & kAddressBits), 4096);
  uint64_t* page = zeroed_page();
  map_private(pml4, kPerCorePage, physical_of(page));
  map_private(pml4, kPerCorePageFar, physical_of(page));
  write_cr3(physical_of(pml4));
  return reinterpret_cast<void**>(page);
}

void restore_page_tables() { write_cr3(g_shared_cr3); }

}  // namespace ebb::bench
