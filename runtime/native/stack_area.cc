#include "runtime/native/stack_area.h"

#include <cstring>

#include "runtime/platform.h"
#include "runtime/spin_lock.h"

namespace ebb::native {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kPresentWritable = 0x3;
constexpr uint64_t kAddressMask = 0x000ffffffffff000;
constexpr uint32_t kPml4Slot = 509;  // (kStackAreaBase >> 39) & 511
static_assert(((kStackAreaBase >> 39) & 511) == kPml4Slot);

// A free stack keeps its pages mapped; this sits at its bottom.
struct FreeStack {
  FreeStack* next;
  uint64_t bytes;
};

struct Area {
  SpinLock lock;
  uint64_t* pdpt = nullptr;  // null until the first stack
  uint8_t* pages = nullptr;  // the rest of the current 2 MiB of RAM pages come from
  uint8_t* pages_end = nullptr;
  uint64_t next = kStackAreaBase;  // where the next new stack's guard page goes
  FreeStack* free = nullptr;
};
constinit Area g_area;

// Page tables and stack pages: RAM taken 2 MiB at a time from what the
// page allocator draws on (platform::take_memory), identity-mapped, so an
// address is its own physical address. Never given back: slots are pooled.
uint64_t physical(const void* p) { return reinterpret_cast<uint64_t>(p); }
uint64_t* table_at(uint64_t entry) { return reinterpret_cast<uint64_t*>(entry & kAddressMask); }

uint8_t* take_page() {
  if (g_area.pages == g_area.pages_end) {
    Result<platform::MemoryRegion> region = platform::take_memory(platform::kRegionAlignment, 0);
    if (!region) return nullptr;
    g_area.pages = static_cast<uint8_t*>(region->base);
    g_area.pages_end = g_area.pages + region->bytes;
  }
  uint8_t* page = g_area.pages;
  g_area.pages += kPage;
  return page;
}

uint64_t* new_table() {
  auto* t = reinterpret_cast<uint64_t*>(take_page());
  if (t != nullptr) std::memset(t, 0, kPage);
  return t;
}

// The page-table entry for `address`, making the tables on the way (null
// when out of memory). With the lock held.
uint64_t* entry_for(uint64_t address) {
  uint64_t* table = g_area.pdpt;
  for (int shift : {30, 21}) {
    uint64_t& e = table[(address >> shift) & 511];
    if ((e & 1) == 0) {
      uint64_t* next = new_table();
      if (next == nullptr) return nullptr;
      e = physical(next) | kPresentWritable;
    }
    table = table_at(e);
  }
  return &table[(address >> 12) & 511];
}

// The entry for `address` if the tables exist, else null. With or without
// the lock: entries are only ever added.
const uint64_t* existing_entry(uint64_t address) {
  const uint64_t* table = g_area.pdpt;
  if (table == nullptr) return nullptr;
  for (int shift : {30, 21}) {
    const uint64_t e = table[(address >> shift) & 511];
    if ((e & 1) == 0) return nullptr;
    table = table_at(e);
  }
  return &table[(address >> 12) & 511];
}

bool start_area() {
  uint64_t* pdpt = new_table();
  if (pdpt == nullptr) return false;
  uint64_t cr3;
  asm volatile("mov %%cr3, %0" : "=r"(cr3));
  // The one PML4 every CPU runs on, through the identity map.
  auto* pml4 = reinterpret_cast<uint64_t*>(cr3 & kAddressMask);
  pml4[kPml4Slot] = physical(pdpt) | kPresentWritable;
  g_area.pdpt = pdpt;
  return true;
}

// Maps RAM pages at [begin, end); false when out of memory.
bool map_range(uint64_t begin, uint64_t end) {
  for (uint64_t at = begin; at < end; at += kPage) {
    uint64_t* e = entry_for(at);
    uint8_t* page = e != nullptr ? take_page() : nullptr;
    if (page == nullptr) return false;
    *e = physical(page) | kPresentWritable;
  }
  return true;
}

}  // namespace

uint8_t* stack_area_allocate(std::size_t bytes) {
  bytes = (bytes + kPage - 1) & ~(kPage - 1);
  if (bytes == 0 || bytes > kStackAreaBytes / 4) return nullptr;
  SpinLockGuard guard(g_area.lock);
  // A freed stack of the same size, mapping and all.
  for (FreeStack** link = &g_area.free; *link != nullptr; link = &(*link)->next) {
    if ((*link)->bytes != bytes) continue;
    FreeStack* found = *link;
    *link = found->next;
    return reinterpret_cast<uint8_t*>(found);
  }
  if (g_area.pdpt == nullptr && !start_area()) return nullptr;
  // A new one: a guard page, then the stack, right after the last.
  const uint64_t bottom = g_area.next + kPage;
  if (bottom + bytes > kStackAreaBase + kStackAreaBytes) return nullptr;
  if (!map_range(bottom, bottom + bytes)) return nullptr;
  g_area.next = bottom + bytes;
  return reinterpret_cast<uint8_t*>(bottom);
}

void stack_area_free(uint8_t* bottom, std::size_t bytes) {
  SpinLockGuard guard(g_area.lock);
  auto* entry = reinterpret_cast<FreeStack*>(bottom);
  *entry = FreeStack{g_area.free, (bytes + kPage - 1) & ~(kPage - 1)};
  g_area.free = entry;
}

bool in_stack_area(uint64_t address) {
  return address >= kStackAreaBase && address < kStackAreaBase + kStackAreaBytes;
}

bool stack_area_mapped(uint64_t address) {
  if (!in_stack_area(address)) return false;
  const uint64_t* e = existing_entry(address);
  return e != nullptr && (*e & 1) != 0;
}

}  // namespace ebb::native
