#include "runtime/native/memory.h"

#include "runtime/platform.h"
#include "runtime/spin_lock.h"

namespace ebb::native {
namespace {

constexpr uint64_t kRegion = platform::kRegionAlignment;
constexpr int kMaxReturned = 64;

struct Pool {
  SpinLock lock;
  uint64_t start = 0, next = 0, end = 0;  // [start, end): all of it
  platform::MemoryRegion returned[kMaxReturned];
  int returned_count = 0;
};
constinit Pool g_pool;

}  // namespace

void memory_init(uint64_t base, uint64_t bytes) {
  SpinLockGuard guard(g_pool.lock);
  g_pool.next = g_pool.start = (base + kRegion - 1) & ~(kRegion - 1);
  g_pool.end = (base + bytes) & ~(kRegion - 1);
  if (g_pool.end < g_pool.next) g_pool.end = g_pool.next;
}

uint64_t memory_free_bytes() {
  SpinLockGuard guard(g_pool.lock);
  uint64_t free = g_pool.end - g_pool.next;
  for (int i = 0; i < g_pool.returned_count; ++i) free += g_pool.returned[i].bytes;
  return free;
}

}  // namespace ebb::native

namespace ebb::platform {

Result<MemoryRegion> take_memory(std::size_t bytes, uint32_t) {
  if (bytes == 0 || bytes % kRegionAlignment != 0)
    return Error(Errc::kInvalidArgument, "take_memory: size must be a positive multiple of 2 MiB",
                 static_cast<int64_t>(bytes));
  auto& pool = native::g_pool;
  SpinLockGuard guard(pool.lock);
  for (int i = 0; i < pool.returned_count; ++i) {
    MemoryRegion& r = pool.returned[i];
    if (r.bytes < bytes) continue;
    MemoryRegion taken{r.base, bytes, true};
    r.base = static_cast<uint8_t*>(r.base) + bytes;
    r.bytes -= bytes;
    if (r.bytes == 0) r = pool.returned[--pool.returned_count];
    return taken;
  }
  if (pool.end - pool.next < bytes)
    return Error(Errc::kExhausted, "take_memory: no RAM left", static_cast<int64_t>(bytes));
  MemoryRegion taken{reinterpret_cast<void*>(pool.next), bytes, true};
  pool.next += bytes;
  return taken;
}

void give_back_memory(const MemoryRegion& region, bool keep) {
  if (keep || region.bytes == 0) return;  // kept mapped for good: nothing to do here
  auto& pool = native::g_pool;
  SpinLockGuard guard(pool.lock);
  // Merged with its neighbours, so that runtime after runtime a large
  // region can still be had; what touches the untouched rest joins it.
  auto begin = reinterpret_cast<uint64_t>(region.base);
  uint64_t end = begin + region.bytes;
  for (int i = 0; i < pool.returned_count;) {
    const auto b = reinterpret_cast<uint64_t>(pool.returned[i].base);
    const uint64_t e = b + pool.returned[i].bytes;
    if (e == begin || b == end) {
      begin = begin < b ? begin : b;
      end = end > e ? end : e;
      pool.returned[i] = pool.returned[--pool.returned_count];
    } else {
      ++i;
    }
  }
  if (end == pool.next) {
    pool.next = begin;
  } else if (pool.returned_count < native::kMaxReturned) {
    pool.returned[pool.returned_count++] = MemoryRegion{reinterpret_cast<void*>(begin), end - begin, true};
  }
  // Otherwise the region is lost to reuse (a bound on the list, not a leak of mapping).
}

void discard_memory(void*, std::size_t) {}

// A sixteenth of the RAM for Ebbs, from 2 MiB to 256 MiB (hosted's size):
// a small VM's first region must not be all it has, a region kept at
// shutdown for one object still out (a malloc replacement's rule) pins no
// more than that, and a large VM is not cut into many small regions (each
// large block wastes up to its own size of a region in alignment).
std::size_t default_region_bytes() {
  uint64_t bytes;
  {
    SpinLockGuard guard(native::g_pool.lock);
    bytes = (native::g_pool.end - native::g_pool.start) / 16 & ~(kRegionAlignment - 1);
  }
  const uint64_t most = uint64_t{256} << 20;
  return bytes < kRegionAlignment ? kRegionAlignment : bytes > most ? most : bytes;
}  // no one to give physical pages back to

}  // namespace ebb::platform
