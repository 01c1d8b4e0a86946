#pragma once
// The two other ways a native core could find its translation table, set up
// for ebb-bench-runtime.elf to time beside the runtime's own (issue 7):
//  - the GS base: IA32_GS_BASE points at a page of this CPU's, whose word i
//    is static slot i, so a lookup is one %gs-relative load;
//  - a per-core virtual page: a fixed address that this CPU alone maps to a
//    page of its own (its own PML4 copy in CR3), so a lookup is one load
//    from a constant address.
// Only the calling CPU is set up; the runtime does not read either.

#include <cstdint>

#include "runtime/compiler.h"
#include "runtime/ebb_id.h"

namespace ebb::bench {

// The last 4 KiB of the address space: inside the sign-extended 32-bit
// range, so the address is an instruction's displacement (one load). It
// shadows the kernel mapping's last page (physical 2 GiB - 4 KiB), which
// nothing reaches that way (the boot heap ends far below it; other RAM is
// used through the identity map); a real region there would reserve it.
inline constexpr uint64_t kPerCorePage = 0xfffffffffffff000;
// The same page where nothing else is mapped (PML4 entry 510), outside
// that range: the address needs a 64-bit immediate first.
inline constexpr uint64_t kPerCorePageFar = 0xffffff0000000000;

// Points the calling CPU's GS base at a zeroed page and returns it.
void** install_gs_block();
void remove_gs_block();

// Gives the calling CPU a copy of its page tables in which kPerCorePage and
// kPerCorePageFar map one zeroed page of its own; returns that page (as the
// kernel mapping sees it). restore_page_tables() goes back to the shared ones.
void** map_per_core_page();
void restore_page_tables();

template <EbbId kId>
EBB_ALWAYS_INLINE void* gs_slot() {
  void* rep;
  // volatile: a fresh load each time, as the table's relaxed atomic load is.
  asm volatile("mov %%gs:%c1, %0" : "=r"(rep) : "i"(kId * sizeof(void*)));
  return rep;
}

template <EbbId kId>
EBB_ALWAYS_INLINE void* per_core_slot() {
  return __atomic_load_n(reinterpret_cast<void* const*>(kPerCorePage) + kId, __ATOMIC_RELAXED);
}

template <EbbId kId>
EBB_ALWAYS_INLINE void* per_core_far_slot() {
  return __atomic_load_n(reinterpret_cast<void* const*>(kPerCorePageFar) + kId, __ATOMIC_RELAXED);
}

}  // namespace ebb::bench
