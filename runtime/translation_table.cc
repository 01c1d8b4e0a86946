#include "runtime/translation_table.h"

#include <cstdlib>
#include <new>
#include <vector>

#include "runtime/panic.h"
#include "runtime/platform_heap_scope.h"

namespace ebb::translation {
namespace {

// What another thread needs to read a core's table.
struct TableView {
  std::atomic<void*>* static_slots;
  std::atomic<Directory*>* directory;
};

// Indexed by CoreId; entries are set while the core runs.
std::atomic<TableView*> g_views[kMaxCores];

// Memory this thread's table owns: pages, the live directory and retired ones.
// All of it from the platform's heap (PlatformHeapScope): the table outlives
// the Ebbs of its core, the memory allocators among them.
struct TableMemory {
  std::vector<Page*> pages;
  std::vector<Directory*> directories;
  TableView view{};

  ~TableMemory() { release(); }
  void release() {
    for (Page* p : pages) delete p;
    for (Directory* d : directories) std::free(d);
    pages.clear();
    directories.clear();
    detail::tls_directory.store(nullptr, std::memory_order_release);
  }
};

TableMemory& memory() {
  static thread_local TableMemory instance;
  return instance;
}

Directory* grow(uint32_t pages_needed) {
  PlatformHeapScope platform_heap;
  const Directory* old = detail::tls_directory.load(std::memory_order_relaxed);
  uint32_t count = old != nullptr ? old->page_count : 4;
  while (count < pages_needed) count *= 2;
  void* raw = std::calloc(1, sizeof(Directory) + count * sizeof(std::atomic<Page*>));
  EBB_CHECK(raw != nullptr, "translation table: out of memory growing to %u pages", count);
  auto* dir = static_cast<Directory*>(raw);
  dir->page_count = count;
  for (uint32_t i = 0; old != nullptr && i < old->page_count; ++i)
    dir->pages[i].store(old->pages[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  memory().directories.push_back(dir);
  // Readers on other threads see a complete directory or the old one.
  detail::tls_directory.store(dir, std::memory_order_release);
  return dir;
}

std::atomic<void*>& dynamic_slot(EbbId id) {
  EBB_CHECK(id < kFirstClusterId, "translation table: cluster-wide EbbId %u is not supported yet",
            id);
  const uint32_t index = id - kStaticIdLimit;
  const uint32_t page = index >> kPageShift;
  Directory* dir = detail::tls_directory.load(std::memory_order_relaxed);
  if (dir == nullptr || page >= dir->page_count) dir = grow(page + 1);
  Page* p = dir->pages[page].load(std::memory_order_relaxed);
  if (p == nullptr) {
    PlatformHeapScope platform_heap;
    p = new Page();
    memory().pages.push_back(p);
    dir->pages[page].store(p, std::memory_order_release);
  }
  return p->slots[index & (kPageSlots - 1)];
}

}  // namespace

void install(EbbId id, void* rep) {
  EBB_CHECK(id != kNullEbbId, "translation table: install of the null EbbId");
  if (id < kStaticIdLimit) detail::tls_static_slots[id].store(rep, std::memory_order_release);
  else dynamic_slot(id).store(rep, std::memory_order_release);
}

void clear(EbbId id) {
  if (id == kNullEbbId) return;
  if (id < kStaticIdLimit) {
    detail::tls_static_slots[id].store(nullptr, std::memory_order_release);
    return;
  }
  if (lookup(id) != nullptr) dynamic_slot(id).store(nullptr, std::memory_order_release);
}

void* peek(CoreId core, EbbId id) {
  if (core >= kMaxCores || id == kNullEbbId) return nullptr;
  TableView* view = g_views[core].load(std::memory_order_acquire);
  if (view == nullptr) return nullptr;
  if (id < kStaticIdLimit) return view->static_slots[id].load(std::memory_order_acquire);
  const uint32_t index = id - kStaticIdLimit;
  const uint32_t page = index >> kPageShift;
  const Directory* dir = view->directory->load(std::memory_order_acquire);
  if (dir == nullptr || page >= dir->page_count) return nullptr;
  const Page* p = dir->pages[page].load(std::memory_order_acquire);
  if (p == nullptr) return nullptr;
  return p->slots[index & (kPageSlots - 1)].load(std::memory_order_acquire);
}

void detail::attach_core_table(CoreId core) {
  EBB_CHECK(core < kMaxCores, "translation table: core %u is past the limit of %u cores", core,
            kMaxCores);
  TableMemory& m = memory();
  m.view = TableView{tls_static_slots, &tls_directory};
  g_views[core].store(&m.view, std::memory_order_release);
}

void detail::detach_core_table(CoreId core) {
  if (core < kMaxCores) g_views[core].store(nullptr, std::memory_order_release);
  for (auto& slot : tls_static_slots) slot.store(nullptr, std::memory_order_relaxed);
  memory().release();
}

}  // namespace ebb::translation
