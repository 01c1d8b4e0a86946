#include "runtime/native/boot_heap.h"

#include "runtime/panic.h"
#include "runtime/platform.h"
#include "runtime/spin_lock.h"

namespace ebb::native {
namespace {

// Every block starts with a header naming its class; the caller's bytes
// follow it at a 16-byte boundary (or a larger alignment: the header then
// sits just below the aligned start, its offset recorded).
struct Header {
  uint32_t size_class;   // block bytes = 1 << size_class
  uint32_t offset;       // from the block's start to the caller's pointer
  uint64_t magic;
};
constexpr uint64_t kMagic = 0xeb6b00710cb10c55;
constexpr uint32_t kMinClass = 5;   // 32 bytes
constexpr uint32_t kMaxClass = 40;  // beyond any range

struct FreeBlock {
  FreeBlock* next;
};

SpinLock lock;
uint8_t* next_byte = nullptr;
uint8_t* end_byte = nullptr;
std::size_t range_bytes = 0;
std::size_t in_use = 0;
FreeBlock* free_lists[kMaxClass + 1] = {};

uint32_t class_for(std::size_t bytes) {
  uint32_t c = kMinClass;
  while (c <= kMaxClass && (std::size_t{1} << c) < bytes) ++c;
  return c;
}

}  // namespace

void boot_heap_init(void* base, std::size_t bytes) {
  SpinLockGuard guard(lock);
  next_byte = static_cast<uint8_t*>(base);
  end_byte = next_byte + bytes;
  range_bytes = bytes;
}

void* boot_heap_allocate(std::size_t bytes, std::size_t alignment) {
  if (alignment < 16) alignment = 16;
  if ((alignment & (alignment - 1)) != 0 || bytes > (std::size_t{1} << (kMaxClass - 1))) return nullptr;
  const std::size_t need = bytes + alignment + sizeof(Header);
  const uint32_t c = class_for(need);
  if (c > kMaxClass) return nullptr;
  uint8_t* block;
  {
    SpinLockGuard guard(lock);
    if (free_lists[c] != nullptr) {
      block = reinterpret_cast<uint8_t*>(free_lists[c]);
      free_lists[c] = free_lists[c]->next;
    } else {
      // Blocks are aligned to their size (up to a page) so that splitting
      // never misaligns the next one.
      const std::size_t block_bytes = std::size_t{1} << c;
      const std::size_t align = block_bytes < 4096 ? block_bytes : 4096;
      uint8_t* at = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(next_byte) + align - 1) & ~(align - 1));
      if (at > end_byte || static_cast<std::size_t>(end_byte - at) < block_bytes) return nullptr;
      block = at;
      next_byte = at + block_bytes;
    }
    in_use += std::size_t{1} << c;
  }
  uint8_t* user = reinterpret_cast<uint8_t*>(
      (reinterpret_cast<uintptr_t>(block) + sizeof(Header) + alignment - 1) & ~(alignment - 1));
  auto* h = reinterpret_cast<Header*>(user) - 1;
  *h = Header{c, static_cast<uint32_t>(user - block), kMagic};
  return user;
}

void boot_heap_free(void* p) {
  if (p == nullptr) return;
  auto* h = static_cast<Header*>(p) - 1;
  if (h->magic != kMagic || h->size_class < kMinClass || h->size_class > kMaxClass) {
    panic("boot heap: free of %p, which it never gave out or which was freed already", p);
  }
  const uint32_t c = h->size_class;
  h->magic = 0;
  auto* block = reinterpret_cast<FreeBlock*>(static_cast<uint8_t*>(p) - h->offset);
  SpinLockGuard guard(lock);
  block->next = free_lists[c];
  free_lists[c] = block;
  in_use -= std::size_t{1} << c;
}

std::size_t boot_heap_usable_size(const void* p) {
  const auto* h = static_cast<const Header*>(p) - 1;
  return (std::size_t{1} << h->size_class) - h->offset;
}

std::size_t boot_heap_in_use() {
  SpinLockGuard guard(lock);
  return in_use;
}

std::size_t boot_heap_bytes() { return range_bytes; }

}  // namespace ebb::native

// The platform's own heap (runtime/platform.h), native: the boot heap.
namespace ebb::platform {

void* system_allocate(std::size_t bytes, std::size_t alignment) {
  return native::boot_heap_allocate(bytes, alignment);
}

void system_free(void* p) { native::boot_heap_free(p); }

std::size_t system_usable_size(void* p) { return native::boot_heap_usable_size(p); }

}  // namespace ebb::platform
