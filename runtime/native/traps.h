#pragma once
// CPU exceptions: the GDT with a TSS (so that a double fault, say from a
// stack overflow, runs on a stack of its own), the IDT, and the report an
// exception prints before the machine powers off: the vector's name, the
// error code, the faulting address, every register and a backtrace.

#include <cstdint>

#include "runtime/result.h"

namespace ebb::native {

// What trap_stubs.S pushes, lowest address first.
struct TrapFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss;  // pushed by the CPU
};

// Loads this CPU's GDT, TSS and the shared IDT. Once per CPU, the boot CPU
// first (the others' tables come from the boot heap).
Status traps_init();

// Prints the return addresses up the frame-pointer chain from `rbp`, one
// "  #N 0x..." line each (deploy/boot-image names them with addr2line).
void print_backtrace_from(uint64_t rbp, int skip_frames);

}  // namespace ebb::native
