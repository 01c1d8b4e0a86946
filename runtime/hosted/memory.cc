// Hosted memory for the page allocator: anonymous mmap, 2 MiB aligned, with
// huge pages when the system grants them (hugetlbfs pages if reserved,
// otherwise transparent huge pages by madvise). Ordinary regions are
// MAP_NORESERVE: they cost memory only where they are touched.

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "runtime/platform.h"

namespace ebb::platform {

Result<MemoryRegion> take_memory(std::size_t bytes, uint32_t /*node: one node hosted*/) {
  if (bytes == 0 || bytes % kRegionAlignment != 0)
    return Error(Errc::kInvalidArgument, "take_memory: size must be a positive multiple of 2 MiB",
                 static_cast<int64_t>(bytes));
  // Reserved hugetlbfs pages first. Without MAP_NORESERVE: then mmap fails
  // when too few are reserved, instead of a SIGBUS on first touch.
  void* huge = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  if (huge != MAP_FAILED) return MemoryRegion{huge, bytes, true};  // 2 MiB aligned
  constexpr int kFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  // Over-map by one alignment unit, then trim both ends to align.
  const std::size_t padded = bytes + kRegionAlignment;
  void* raw = mmap(nullptr, padded, PROT_READ | PROT_WRITE, kFlags, -1, 0);
  if (raw == MAP_FAILED) {
    return Error(Errc::kExhausted, "take_memory: mmap refused the region",
                 static_cast<int64_t>(bytes), errno);
  }
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kRegionAlignment - 1) & ~(uintptr_t{kRegionAlignment} - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = aligned + bytes;
  if (start + padded > end) munmap(reinterpret_cast<void*>(end), start + padded - end);
  void* base = reinterpret_cast<void*>(aligned);
  const bool thp = madvise(base, bytes, MADV_HUGEPAGE) == 0;
  return MemoryRegion{base, bytes, thp};
}

void give_back_memory(const MemoryRegion& region, bool keep) {
  if (region.base != nullptr && !keep) munmap(region.base, region.bytes);
}

void discard_memory(void* base, std::size_t bytes) {
  // Advice only: on failure the pages simply stay resident.
  (void)madvise(base, bytes, MADV_DONTNEED);
}

std::size_t default_region_bytes() { return std::size_t{256} << 20; }

uint32_t numa_nodes() { return 1; }
uint32_t numa_node_of(CoreId) { return 0; }

}  // namespace ebb::platform
