#pragma once
// The per-core translation table: EbbId -> the calling core's rep.
//
// Hosted, each core is a thread and its table is thread-local:
//  - static ids index a fixed thread-local array, so a lookup with a constant
//    static id is a load at a constant offset from the thread pointer (the
//    hosted twin of EbbRT's per-core virtual region);
//  - node-local ids go through a thread-local directory of 512-slot pages that
//    grows lazily. A grown directory is published with a release store and the
//    old one is kept until the core exits, so nothing is ever moved under a
//    reader.
// Only the owning core writes its table; other threads may read it (peek).
//
// Native uses the same tables: each CPU's FS base points at its own copy of
// the TLS block (runtime/native/cpu.cc). Issue 7 timed the alternatives in
// the image (docs/PERFORMANCE.md): a page at the GS base and a fixed virtual
// page each CPU maps to its own are one load each, and neither beat the FS
// slot read with one load; FS stays, as it needs no per-CPU page tables and
// is what hosted does. g++ does not fold the relaxed atomic load's TLS
// address into a %fs: operand, so a lone lookup() is `mov %fs:0` then the
// slot load; functions with several lookups and loops load the thread
// pointer once. A plain read of the owner's own slot would be one load: tried,
// it left the GET path's instruction count as it was (2,986 either way), so
// the slots stay atomics.

#include <atomic>
#include <cstdint>

#include "runtime/compiler.h"
#include "runtime/core.h"
#include "runtime/ebb_id.h"

namespace ebb::translation {

inline constexpr uint32_t kPageShift = 9;
inline constexpr uint32_t kPageSlots = 1u << kPageShift;

struct Page {
  std::atomic<void*> slots[kPageSlots];
};

struct Directory {
  uint32_t page_count;
  std::atomic<Page*> pages[];  // page_count entries; a null page has no reps yet
};

namespace detail {
inline thread_local constinit std::atomic<void*> tls_static_slots[kStaticIdLimit] = {};
inline thread_local constinit std::atomic<Directory*> tls_directory{nullptr};
}  // namespace detail

// This core's rep for `id`, or null when it has none yet.
EBB_ALWAYS_INLINE void* lookup(EbbId id) {
  if (id < kStaticIdLimit) return detail::tls_static_slots[id].load(std::memory_order_relaxed);
  const uint32_t index = id - kStaticIdLimit;
  const Directory* dir = detail::tls_directory.load(std::memory_order_relaxed);
  const uint32_t page = index >> kPageShift;
  if (EBB_UNLIKELY(dir == nullptr || page >= dir->page_count)) return nullptr;
  const Page* p = dir->pages[page].load(std::memory_order_relaxed);
  if (EBB_UNLIKELY(p == nullptr)) return nullptr;
  return p->slots[index & (kPageSlots - 1)].load(std::memory_order_relaxed);
}

// Sets this core's rep for `id` (growing the table when needed). On a core only.
void install(EbbId id, void* rep);
// Removes this core's rep for `id`. On a core only.
void clear(EbbId id);
// Another core's rep for `id`, read without stopping it (tests, diagnostics).
void* peek(CoreId core, EbbId id);

namespace detail {
// Called by a core's thread when it starts and just before it exits.
void attach_core_table(CoreId core);
void detach_core_table(CoreId core);
}  // namespace detail

}  // namespace ebb::translation
