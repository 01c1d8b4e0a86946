#pragma once
// While a PlatformHeapScope is open on a thread, malloc takes from the
// platform's own heap (runtime/platform.h) even on a core, where the memory
// Ebbs serve it when they are malloc (ebbs/memory/general/malloc_override.cc).
// For memory that outlives a Runtime's Ebbs: a core's translation table, and
// the allocators' own bookkeeping while they run.
//
// Only the outermost scope clears the flag, rather than each restoring what
// it found: a scope that parks (building a rep can wait for another core)
// lets other events of the core run meanwhile, and one of those that found
// the flag set and finished last would leave it set for good.

namespace ebb {

namespace detail {
inline thread_local constinit bool tls_platform_heap = false;
}  // namespace detail

class PlatformHeapScope {
 public:
  PlatformHeapScope() : outermost_(!detail::tls_platform_heap) { detail::tls_platform_heap = true; }
  ~PlatformHeapScope() {
    if (outermost_) detail::tls_platform_heap = false;
  }
  PlatformHeapScope(const PlatformHeapScope&) = delete;
  PlatformHeapScope& operator=(const PlatformHeapScope&) = delete;

 private:
  bool outermost_;
};

}  // namespace ebb
