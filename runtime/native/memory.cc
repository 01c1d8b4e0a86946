#include "runtime/native/memory.h"

#include "runtime/platform.h"
#include "runtime/spin_lock.h"

namespace ebb::native {
namespace {

constexpr uint64_t kRegion = platform::kRegionAlignment;
constexpr int kMaxReturned = 64;

struct Pool {
  SpinLock lock;
  uint64_t next = 0, end = 0;
  platform::MemoryRegion returned[kMaxReturned];
  int returned_count = 0;
};
constinit Pool g_pool;

}  // namespace

void memory_init(uint64_t base, uint64_t bytes) {
  SpinLockGuard guard(g_pool.lock);
  g_pool.next = (base + kRegion - 1) & ~(kRegion - 1);
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
  if (pool.returned_count < native::kMaxReturned) pool.returned[pool.returned_count++] = region;
  // Otherwise the region is lost to reuse (a bound on the list, not a leak of mapping).
}

void discard_memory(void*, std::size_t) {}  // no one to give physical pages back to

}  // namespace ebb::platform
