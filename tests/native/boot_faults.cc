// ebb-boot-faults.elf: fails on purpose, in the way its first argument
// names, so that tests can check that each failure is reported clearly and
// ends the machine with its own exit code (never a silent hang).

#include <cstdio>
#include <cstring>

#include "runtime/panic.h"

namespace {
// Kept from being optimised into something else.
[[gnu::noinline]] void touch(volatile int* p) { *p = 1; }
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
  } else if (std::strcmp(what, "exhaust-memory") == 0) {
    for (;;) {
      char* volatile block = new char[1 << 20];  // kept, so the allocation is not elided
      block[0] = 1;
    }
  }
  std::printf("ebb-boot-faults: no fault named '%s'\n", what);
  return 1;
}
