// ebb-boot-faults.elf: fails on purpose, in the way its first argument
// names, so that tests can check that each failure is reported clearly and
// ends the machine with its own exit code (never a silent hang).

#include <cstdio>
#include <cstring>

#include "runtime/native/image.h"
#include "runtime/native/pvh.h"
#include "runtime/native/x86.h"
#include "runtime/panic.h"
#include "runtime/runtime.h"

namespace {
// Kept from being optimised into something else.
[[gnu::noinline]] void touch(volatile int* p) { *p = 1; }

// Deeper and deeper, each frame with a kilobyte of its own, until the
// fiber's stack runs into its guard page.
[[gnu::noinline]] int recurse(int depth, const volatile int* stop) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == *stop) return frame[0];  // never: *stop is -1
  return recurse(depth + 1, stop) + frame[0];
}
volatile int g_never = -1;

// A PVH start info as a loader lays it out (hvm_start_info, version 1), to
// hand boot's own reader the maps QEMU never gives: none, and a broken one.
struct StartInfo {
  uint32_t magic = 0x336ec578, version = 1, flags = 0, module_count = 0;
  uint64_t modules = 0, command_line = 0, rsdp = 0, memory_map = 0;
  uint32_t memory_map_entries = 0, reserved = 0;
};
struct MapEntry {
  uint64_t base, bytes;
  uint32_t type, reserved;
};

template <class T>
uint64_t physical(const T* p) {
  return reinterpret_cast<uint64_t>(p) - ebb::native::kKernelBase;
}

// What boot does with the start info, on a made-up one.
[[noreturn]] void boot_with_start_info(const StartInfo& start) {
  static ebb::native::BootInfo info;
  ebb::Status read = ebb::native::read_boot_info(physical(&start), info);
  if (!read) ebb::native::boot_failed("cannot boot", read);
  ebb::panic("a start info that should have been refused was read");
}

constexpr MapEntry kOverlapping[] = {{0x100000, 64 << 20, 1, 0}, {0x200000, 64 << 20, 1, 0}};
constexpr MapEntry kNoRam[] = {{0x100000, 64 << 20, 2, 0}};  // reserved only
}  // namespace

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  if (std::strcmp(what, "page-fault") == 0) {
    touch(reinterpret_cast<volatile int*>(0x0000700000000000));  // nothing is mapped there
  } else if (std::strcmp(what, "invalid-opcode") == 0) {
    asm volatile("ud2");
  } else if (std::strcmp(what, "panic") == 0) {
    ebb::panic("a panic on purpose (%d)", 42);
  } else if (std::strcmp(what, "hang") == 0) {
    for (;;) asm volatile("hlt");
  } else if (std::strcmp(what, "no-memory-map") == 0) {
    boot_with_start_info(StartInfo{});
  } else if (std::strcmp(what, "overlapping-memory-map") == 0) {
    StartInfo start;
    start.memory_map = physical(kOverlapping);
    start.memory_map_entries = 2;
    boot_with_start_info(start);
  } else if (std::strcmp(what, "memory-map-without-ram") == 0) {
    StartInfo start;
    start.memory_map = physical(kNoRam);
    start.memory_map_entries = 1;
    boot_with_start_info(start);
  } else if (std::strcmp(what, "bad-start-info") == 0) {
    StartInfo start;
    start.magic = 0x12345678;
    boot_with_start_info(start);
  } else if (std::strcmp(what, "exception-in-an-event") == 0) {
    // On a core, inside an event: the report names the core.
    ebb::Runtime runtime({.cores = 2});
    (void)runtime.run_on(1, [] { touch(reinterpret_cast<volatile int*>(0x0000700000000000)); });
  } else if (std::strcmp(what, "stack-overflow") == 0) {
    ebb::Runtime runtime({.cores = 1});
    (void)runtime.run_on(0, [] { return recurse(0, &g_never); });
  } else if (std::strcmp(what, "exhaust-memory") == 0) {
    for (;;) {
      char* volatile block = new char[1 << 20];  // kept, so the allocation is not elided
      block[0] = 1;
    }
  }
  std::printf("ebb-boot-faults: no fault named '%s'\n", what);
  return 1;
}
