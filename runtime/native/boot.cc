// native_boot: from boot.S's jump into long mode to the image's main. The
// order matters: the console first (so every later failure can be told),
// exceptions next, then the loader's information, memory, thread-local
// storage, the clock and static constructors.

#include <cstring>

#include "runtime/error.h"
#include "runtime/native/apic.h"
#include "runtime/native/boot_heap.h"
#include "runtime/native/cpu.h"
#include "runtime/native/image.h"
#include "runtime/native/memory.h"
#include "runtime/native/power.h"
#include "runtime/native/serial.h"
#include "runtime/native/smp.h"
#include "runtime/native/traps.h"
#include "runtime/native/x86.h"
#include "runtime/platform.h"

extern "C" char __image_end[];
int main(int argc, char** argv);  // the image's (runtime/native/image.h)
extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace ebb::native {
namespace {

constinit BootInfo g_boot_info{};  // constant-initialised: filled before static constructors run
constinit CommandLine g_command_line{};
constinit CpuList g_cpu_list{};
char g_words[BootInfo::kMaxCommandLine];  // the command line, split in place
constexpr uint64_t kKernelPhysicalEnd = 2ull << 30;  // what KERNEL_VMA maps
constexpr uint64_t kCachedEnd = 3ull << 30;          // boot.S maps 3-4 GiB uncached
constexpr uint64_t kMaxHeap = 256ull << 20;

void say(const char* text) { serial_write(text, std::strlen(text)); }

}  // namespace

[[noreturn]] void boot_failed(const char* what, const Status& why) {
  char text[256];
  const int n = snprintf(text, sizeof text, "ebbkit: %s: ", what);
  serial_write(text, static_cast<std::size_t>(n));
  why.error().describe(text, sizeof text);
  say(text);
  say("\n");
  power_off(kExitBootError);
}

namespace {

// Memory: the largest RAM range above the image, below the uncached hole
// at 3 GiB. Its first quarter (at most 256 MiB, and below 2 GiB, where
// the kernel mapping reaches) is the boot heap (CPU stacks, per-CPU
// tables, malloc off the cores); the rest, 2 MiB regions for the page
// allocator Ebb and the fiber stacks (take_memory), addressed through the
// identity map: malloc and new on the cores.
Status start_memory(const BootInfo& info) {
  const uint64_t image_end = reinterpret_cast<uint64_t>(__image_end) - kKernelBase;
  uint64_t best_base = 0, best_bytes = 0;
  for (std::size_t i = 0; i < info.ram_ranges; ++i) {
    uint64_t base = info.ram[i].base, end = info.ram[i].base + info.ram[i].bytes;
    if (base < image_end) base = image_end;
    if (end > kCachedEnd) end = kCachedEnd;
    if (end > base && end - base > best_bytes) {
      best_base = base;
      best_bytes = end - base;
    }
  }
  if (best_bytes < (std::size_t{16} << 20))
    return Error(Errc::kExhausted, "boot: under 16 MiB of RAM above the image",
                 static_cast<int64_t>(best_bytes));
  uint64_t heap_bytes = (best_bytes / 4) & ~uint64_t{0xfff};
  if (heap_bytes > kMaxHeap) heap_bytes = kMaxHeap;
  if (best_base + heap_bytes > kKernelPhysicalEnd) heap_bytes = kKernelPhysicalEnd - best_base;
  boot_heap_init(reinterpret_cast<void*>(best_base + kKernelBase), heap_bytes);
  memory_init(best_base + heap_bytes, best_bytes - heap_bytes);
  return {};
}

// ebb.apic against what the CPU offers.
Result<ApicMode> choose_apic_mode(ApicChoice choice) {
  const bool has = cpu_has_x2apic();
  if (choice == ApicChoice::kX2Apic && !has)
    return Error(Errc::kInvalidArgument, "ebb.apic=x2apic, but this CPU has no x2APIC (CPUID.01H:ECX bit 21)");
  return has && choice != ApicChoice::kXApic ? ApicMode::kX2Apic : ApicMode::kXApic;
}

}  // namespace

const BootInfo& boot_info() { return g_boot_info; }
const ImageOptions& image_options() { return g_command_line.options; }

extern "C" [[noreturn]] void native_boot(uint32_t start_info) {
  serial_init();
  if (Status s = traps_init(); !s) boot_failed("cannot boot", s);
  if (Status s = read_boot_info(start_info, g_boot_info); !s) boot_failed("cannot boot", s);
  if (Status s = start_memory(g_boot_info); !s) boot_failed("cannot boot", s);
  if (Status s = install_tls(); !s) boot_failed("cannot boot", s);
  calibrate_tsc();
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  std::memcpy(g_words, g_boot_info.command_line, sizeof g_words);
  if (Status s = parse_command_line(g_words, kImageName, g_command_line); !s)
    boot_failed("bad kernel command line", s);
  if (g_command_line.options.probe) power_off(kExitPassed);
  if (Status s = read_madt(g_boot_info.rsdp, g_cpu_list); !s) boot_failed("cannot find the CPUs", s);
  const uint32_t wanted = g_command_line.options.cores != 0 ? g_command_line.options.cores
                                                            : static_cast<uint32_t>(g_cpu_list.count);
  const Result<ApicMode> apic = choose_apic_mode(g_command_line.options.apic);
  if (!apic) boot_failed("cannot start the CPUs", apic.error());
  if (Status s = start_cpus(g_cpu_list, wanted, *apic); !s) boot_failed("cannot start the CPUs", s);
  char line[160];
  const int n = snprintf(line, sizeof line, "ebbkit: %s up: %u of %zu CPUs (%s), %llu MiB, %llu ms after entry\n",
                         kImageName, cpus_online(), g_cpu_list.count, apic_mode_name(*apic),
                         static_cast<unsigned long long>(g_boot_info.ram_bytes >> 20),
                         static_cast<unsigned long long>(cpu_online_ns(cpus_online() - 1) / 1'000'000));
  serial_write(line, static_cast<std::size_t>(n));
  const int code = main(g_command_line.argc, g_command_line.argv);
  power_off(static_cast<uint32_t>(code));
}

}  // namespace ebb::native
