#pragma once
// A runtime per test, with the page allocator configured first when asked.

#include <chrono>
#include <thread>

#include "ebbs/memory/page/page_allocator.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::testing {

class MemoryFixture : public RuntimeFixture {
 protected:
  // A small memory limit, so that exhaustion comes quickly: configured
  // before the Runtime starts (where a malloc replacement, as in the native
  // image, builds the allocator as each core starts).
  void start_with_limit(uint32_t cores, std::size_t limit_bytes, std::size_t region_bytes) {
    mem::PageAllocatorOptions options;
    options.limit_bytes = limit_bytes;
    options.region_bytes = region_bytes;
    ASSERT_TRUE(mem::PageAllocator::Configure(options).ok());
    start(cores);
  }

  // Waits (off-core) until pred() holds when run on `core`.
  template <class P>
  void eventually_on(CoreId core, P pred) {
    for (;;) {
      auto done = runtime().run_on(core, pred);
      ASSERT_TRUE(done.ok());
      if (*done) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
};

}  // namespace ebb::testing
