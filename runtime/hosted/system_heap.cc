// The platform's own heap, hosted: glibc's malloc, reached by its internal
// names so that a malloc replacement (ebbs/memory/general/malloc_override.cc)
// can fall back to it without calling itself.

#include <dlfcn.h>

#include "runtime/platform.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* p);
}

namespace ebb::platform {

void* system_allocate(std::size_t bytes, std::size_t alignment) {
  return alignment <= 16 ? __libc_malloc(bytes) : __libc_memalign(alignment, bytes);
}

void system_free(void* p) { __libc_free(p); }

std::size_t system_usable_size(void* p) {
  // glibc's malloc_usable_size has no internal name: found once, past ours.
  using UsableSize = size_t (*)(void*);
  static UsableSize glibc = reinterpret_cast<UsableSize>(dlsym(RTLD_NEXT, "malloc_usable_size"));
  return glibc != nullptr ? glibc(p) : 0;
}

}  // namespace ebb::platform
