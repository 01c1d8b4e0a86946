// The bare machine as the image sees it after boot: the loader's memory
// map, thread-local storage, static constructors, the heap behind new and
// malloc, the standard containers on top of it, and the TSC clock.
// Native only (ebb-tests.elf).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/native/apic.h"
#include "runtime/native/boot_heap.h"
#include "runtime/native/cpu.h"
#include "runtime/native/image.h"
#include "runtime/native/memory.h"
#include "runtime/native/smp.h"
#include "runtime/native/x86.h"
#include "runtime/platform.h"

namespace ebb::native {
namespace {

thread_local int tls_initialised = 1234;  // .tdata
thread_local int tls_zero;                // .tbss

int constructed = 0;
struct RunsAtBoot {
  RunsAtBoot() { constructed = 7; }
} runs_at_boot;

TEST(Machine, MemoryMapFromTheLoader) {
  const BootInfo& info = boot_info();
  ASSERT_GT(info.ram_ranges, 0u);
  EXPECT_GE(info.ram_bytes, uint64_t{200} << 20);  // the tests boot with 256 MiB to 3000 MiB
  EXPECT_LE(info.ram_bytes, uint64_t{3000} << 20);
  for (std::size_t i = 1; i < info.ram_ranges; ++i)
    EXPECT_GE(info.ram[i].base, info.ram[i - 1].base + info.ram[i - 1].bytes);
  EXPECT_NE(info.rsdp, 0u);  // QEMU hands over the ACPI tables
}

TEST(Machine, ThreadLocalStorageHasItsInitialValues) {
  EXPECT_EQ(tls_initialised, 1234);
  EXPECT_EQ(tls_zero, 0);
  tls_initialised = 5;
  tls_zero = 6;
  EXPECT_EQ(tls_initialised + tls_zero, 11);
}

TEST(Machine, StaticConstructorsRanBeforeMain) { EXPECT_EQ(constructed, 7); }

TEST(Machine, HeapAllocatesAlignsAndReuses) {
  const std::size_t before = boot_heap_in_use();
  void* a = std::malloc(100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  std::memset(a, 0xab, 100);
  EXPECT_GT(boot_heap_in_use(), before);
  std::free(a);
  EXPECT_EQ(boot_heap_in_use(), before);
  void* b = std::malloc(100);
  EXPECT_EQ(b, a);  // the same class's free list
  std::free(b);
  void* aligned = boot_heap_allocate(64, 4096);
  ASSERT_NE(aligned, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % 4096, 0u);
  boot_heap_free(aligned);
  EXPECT_EQ(boot_heap_allocate(std::size_t{1} << 45), nullptr);  // more than there is
  EXPECT_EQ(boot_heap_in_use(), before);
}

// Regions for the page allocator: given back in any order, neighbours
// merge, so a region as large as all of them can be had again.
TEST(Machine, MemoryRegionsGivenBackMergeAgain) {
  constexpr std::size_t kRegion = platform::kRegionAlignment;
  const uint64_t free_before = memory_free_bytes();
  platform::MemoryRegion r[3];
  for (auto& region : r) {
    auto taken = platform::take_memory(kRegion, 0);
    ASSERT_TRUE(taken.ok());
    region = *taken;
  }
  EXPECT_EQ(memory_free_bytes(), free_before - 3 * kRegion);
  for (int i : {1, 0, 2}) platform::give_back_memory(r[i]);
  EXPECT_EQ(memory_free_bytes(), free_before);
  auto whole = platform::take_memory(3 * kRegion, 0);
  ASSERT_TRUE(whole.ok());
  const auto lowest = std::min({r[0].base, r[1].base, r[2].base});
  EXPECT_EQ(whole->base, lowest);
  platform::give_back_memory(*whole);
  EXPECT_EQ(memory_free_bytes(), free_before);
  EXPECT_FALSE(platform::take_memory(std::size_t{1} << 40, 0).ok());  // more than there is
  EXPECT_FALSE(platform::take_memory(kRegion + 1, 0).ok());          // not whole regions
}

TEST(Machine, StandardContainersWork) {
  std::vector<int> v;
  for (int i = 0; i < 10000; ++i) v.push_back(i);
  long long sum = 0;
  for (int x : v) sum += x;
  EXPECT_EQ(sum, 49995000);
  std::unordered_map<int, std::string> m;
  for (int i = 0; i < 500; ++i) m[i] = std::to_string(i * 3);
  EXPECT_EQ(m.size(), 500u);
  EXPECT_EQ(m[200], "600");
}

TEST(Machine, FormatsLikePrintf) {
  char text[64];
  const int n = std::snprintf(text, sizeof text, "%s %05d %x %.2f", "ebb", 42, 255, 2.5);
  EXPECT_STREQ(text, "ebb 00042 ff 2.50");
  EXPECT_EQ(n, 17);
}

TEST(Machine, ClockIsCalibratedAndMonotonic) {
  // Measured against the PIT at boot: some rate was found. (No upper bound:
  // under emulation on a loaded host the TSC runs ahead of the emulated PIT,
  // 10.9 GHz read once in a CI-loaded run.)
  EXPECT_GT(tsc_hz(), uint64_t{10'000'000});  // 10 MHz
  uint64_t last = platform::now_ns();
  for (int i = 0; i < 1000; ++i) {
    const uint64_t now = platform::now_ns();
    ASSERT_GE(now, last);
    last = now;
  }
}

TEST(Machine, EveryCpuRunsWorkOnItsOwnStateAndId) {
  const uint32_t n = cpus_online();
  ASSERT_GE(n, 1u);
  EXPECT_EQ(this_cpu(), 0u);
  struct Seen {
    uint32_t cpu;
    uint32_t apic_id;
    int tls_value;
  };
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    Seen seen{};
    run_on_cpu(cpu, [](void* arg) {
      auto* s = static_cast<Seen*>(arg);
      s->cpu = this_cpu();
      s->apic_id = cpu_apic_id(this_cpu());
      tls_zero += static_cast<int>(this_cpu()) + 1;  // each CPU's own copy
      s->tls_value = tls_zero;
    }, &seen);
    EXPECT_EQ(seen.cpu, cpu);
    for (uint32_t other = 0; other < cpu; ++other) EXPECT_NE(cpu_apic_id(other), seen.apic_id);
    // Every CPU's copy started at zero (the boot CPU's was set by an earlier test).
    if (cpu != 0) {
      EXPECT_EQ(seen.tls_value, static_cast<int>(cpu) + 1);
    }
  }
  for (uint32_t cpu = 1; cpu < n; ++cpu) EXPECT_GE(cpu_online_ns(cpu), cpu_online_ns(cpu - 1));
}

// ebb.apic's choice against the CPU, and every CPU's APIC in that mode
// (IA32_APIC_BASE bit 11 enabled, bit 10 x2APIC) reading its own id.
TEST(Machine, EveryCpuUsesTheChosenApicMode) {
  const ApicChoice choice = image_options().apic;
  const bool x2apic = apic_mode() == ApicMode::kX2Apic;
  EXPECT_EQ(x2apic, cpu_has_x2apic() && choice != ApicChoice::kXApic);
  for (uint32_t cpu = 0; cpu < cpus_online(); ++cpu) {
    struct {
      uint64_t base;
      uint32_t id;
    } seen{};
    run_on_cpu(cpu, [](void* arg) {
      auto* s = static_cast<decltype(seen)*>(arg);
      s->base = rdmsr(kMsrApicBase);
      s->id = apic_id();
    }, &seen);
    EXPECT_NE(seen.base & (1u << 11), 0u) << "CPU " << cpu;
    EXPECT_EQ((seen.base & (1u << 10)) != 0, x2apic) << "CPU " << cpu;
    EXPECT_EQ(seen.id, cpu_apic_id(cpu)) << "CPU " << cpu;
  }
}

}  // namespace
}  // namespace ebb::native
