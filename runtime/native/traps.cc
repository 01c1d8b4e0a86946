#include "runtime/native/traps.h"


#include <atomic>
#include <cstring>

#include "runtime/native/apic.h"
#include "runtime/native/boot_heap.h"
#include "runtime/native/power.h"
#include "runtime/native/serial.h"
#include "runtime/native/smp.h"
#include "runtime/native/stack_area.h"
#include "runtime/native/x86.h"
#include "runtime/core.h"
#include "runtime/platform.h"

extern "C" const uint64_t trap_stubs[32];
extern "C" char irq_acknowledge_stub[], irq_spurious_stub[];
extern "C" char __image_start[], __image_end[];

namespace ebb::native {
namespace {

struct [[gnu::packed]] IdtEntry {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type;
  uint16_t offset_middle;
  uint32_t offset_high;
  uint32_t zero;
};

struct [[gnu::packed]] Tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t io_map;
};

struct [[gnu::packed]] TablePointer {
  uint16_t limit;
  uint64_t base;
};

constexpr uint16_t kCodeSelector = 0x08;
constexpr uint16_t kTssSelector = 0x18;
constexpr uint8_t kInterruptGate = 0x8e;  // present, ring 0, interrupts off on entry
constexpr int kDoubleFault = 8, kNmi = 2, kMachineCheck = 18, kPageFault = 14;

alignas(16) IdtEntry idt[256];  // one for every CPU

// Each CPU's own: a TSS is busy once loaded, so every CPU needs one (and a
// GDT to describe it), and its own stack for faults.
struct CpuTables {
  alignas(16) uint64_t gdt[5];
  Tss tss;
  alignas(16) uint8_t fault_stack[16 * 1024];  // IST 1: double fault, NMI, machine check
  // IST 2: page faults, which a fiber's overflow into its guard page is,
  // and which could not push their frame onto that stack.
  alignas(16) uint8_t page_fault_stack[16 * 1024];
};
CpuTables boot_cpu_tables;
std::atomic<bool> boot_cpu_done{false};

const char* const kNames[32] = {
    "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow",
    "bound range exceeded", "invalid opcode", "device not available", "double fault",
    "coprocessor segment overrun", "invalid TSS", "segment not present", "stack-segment fault",
    "general protection fault", "page fault", "reserved", "x87 floating-point error",
    "alignment check", "machine check", "SIMD floating-point error", "virtualization exception",
    "control protection exception", "reserved", "reserved", "reserved", "reserved", "reserved",
    "reserved", "hypervisor injection", "VMM communication", "security exception", "reserved"};

bool in_image(uint64_t address) {
  return address >= reinterpret_cast<uint64_t>(__image_start) &&
         address < reinterpret_cast<uint64_t>(__image_end);
}

// Where a frame may be: a stack in the image, the boot heap (CPU stacks,
// through the kernel mapping), RAM through the identity map, or a mapped
// page of the fiber stack area (its guard pages are not).
bool mapped_stack(uint64_t address) {
  constexpr uint64_t kIdentityEnd = uint64_t{3} << 30;  // cached RAM
  constexpr uint64_t kKernelEnd = kKernelBase + (uint64_t{2} << 30) - 16;
  if (in_stack_area(address)) return stack_area_mapped(address) && stack_area_mapped(address + 8);
  return (address >= 0x1000 && address < kIdentityEnd) || (address >= kKernelBase && address < kKernelEnd);
}

// An interrupt gate to the code at `at`, in ring 0, on the running stack.
IdtEntry gate(uint64_t at) {
  return IdtEntry{static_cast<uint16_t>(at), kCodeSelector, 0, kInterruptGate,
                  static_cast<uint16_t>(at >> 16), static_cast<uint32_t>(at >> 32), 0};
}

}  // namespace

Status traps_init() {
  CpuTables* tables = &boot_cpu_tables;
  if (!boot_cpu_done.exchange(true)) {  // the boot CPU fills the shared IDT
    for (int v = 0; v < 32; ++v) idt[v] = gate(trap_stubs[v]);
    for (int v : {kDoubleFault, kNmi, kMachineCheck}) idt[v].ist = 1;
    idt[kPageFault].ist = 2;
    idt[kWakeVector] = gate(reinterpret_cast<uint64_t>(irq_acknowledge_stub));
    idt[kTimerVector] = gate(reinterpret_cast<uint64_t>(irq_acknowledge_stub));
    idt[kDeviceVector] = gate(reinterpret_cast<uint64_t>(irq_acknowledge_stub));
    idt[kSpuriousVector] = gate(reinterpret_cast<uint64_t>(irq_spurious_stub));
  } else {
    tables = static_cast<CpuTables*>(boot_heap_allocate(sizeof(CpuTables), 16));
    if (tables == nullptr) return Error(Errc::kExhausted, "traps: no memory for a CPU's tables");
    std::memset(static_cast<void*>(tables), 0, sizeof *tables);
  }
  uint64_t* gdt = tables->gdt;
  Tss& tss = tables->tss;
  tss.ist[0] = reinterpret_cast<uint64_t>(tables->fault_stack + sizeof tables->fault_stack);
  tss.ist[1] = reinterpret_cast<uint64_t>(tables->page_fault_stack + sizeof tables->page_fault_stack);
  tss.io_map = sizeof(Tss);

  const auto base = reinterpret_cast<uint64_t>(&tss);
  const uint64_t limit = sizeof(Tss) - 1;
  gdt[0] = 0;
  gdt[1] = 0x00af9a000000ffff;  // 64-bit code
  gdt[2] = 0x00cf92000000ffff;  // data
  gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (uint64_t{0x89} << 40) |
           (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);  // available 64-bit TSS
  gdt[4] = base >> 32;
  const TablePointer gdt_pointer{sizeof tables->gdt - 1, reinterpret_cast<uint64_t>(gdt)};
  const TablePointer idt_pointer{sizeof idt - 1, reinterpret_cast<uint64_t>(idt)};
  asm volatile(
      "lgdt %0\n\t"
      "pushq %1\n\t"
      "leaq 1f(%%rip), %%rax\n\t"
      "pushq %%rax\n\t"
      "lretq\n"
      "1:\n\t"
      "mov %2, %%ax\n\t"
      "mov %%ax, %%ds\n\t"
      "mov %%ax, %%es\n\t"
      "mov %%ax, %%ss\n\t"
      "ltr %w3\n\t"
      "lidt %4"
      :
      : "m"(gdt_pointer), "i"(uint64_t{kCodeSelector}), "i"(0x10), "r"(kTssSelector), "m"(idt_pointer)
      : "rax", "memory");
  return {};
}

void print_backtrace_from(uint64_t rbp, int skip_frames) {
  for (int depth = 0; depth < 32 && (rbp & 7) == 0 && mapped_stack(rbp); ++depth) {
    const auto* frame = reinterpret_cast<const uint64_t*>(rbp);
    const uint64_t return_address = frame[1];
    if (!in_image(return_address)) break;
    if (depth >= skip_frames) serial_printf("  #%d 0x%016llx\n", depth - skip_frames, static_cast<unsigned long long>(return_address));
    if (frame[0] <= rbp) break;  // frames go up the stack
    rbp = frame[0];
  }
}

extern "C" void trap_entry(TrapFrame* f) {
  // One report: a CPU that faults while another reports waits for the power-off.
  static std::atomic<bool> reporting{false};
  static uint32_t reporting_cpu = 0;
  // (A fault inside the report itself powers off at once.)
  if (reporting.exchange(true)) {
    // (Before thread-local storage only the boot CPU runs: it is this one.)
    if (rdmsr(kMsrFsBase) == 0 || this_cpu() == reporting_cpu) power_off(kExitException);
    for (;;) asm volatile("cli; hlt");
  }
  reporting_cpu = rdmsr(kMsrFsBase) != 0 ? this_cpu() : 0;
  const auto v = static_cast<unsigned>(f->vector);
  serial_printf("\nebbkit: CPU exception %u (%s), error code 0x%llx, at rip 0x%016llx\n", v,
        v < 32 ? kNames[v] : "?", static_cast<unsigned long long>(f->error),
        static_cast<unsigned long long>(f->rip));
  // Which CPU and core: read from thread-local storage, once there is some.
  if (rdmsr(kMsrFsBase) != 0) {
    if (on_core()) serial_printf("  on CPU %u, running core %u's events\n", this_cpu(), this_core());
    else serial_printf("  on CPU %u (%s)\n", this_cpu(), this_cpu() == 0 ? "the boot CPU" : "not a core");
  }
  if (v == 14) {
    const uint64_t cr2 = read_cr2();
    serial_printf("  page fault address 0x%016llx (%s, %s)\n", static_cast<unsigned long long>(cr2),
          (f->error & 1) != 0 ? "protection" : "not present", (f->error & 2) != 0 ? "write" : "read");
    if (in_stack_area(cr2) && !stack_area_mapped(cr2))
      serial_printf("  a fiber stack overflowed (the address is in the guard below a stack)\n");
  }
  const auto u = [](uint64_t x) { return static_cast<unsigned long long>(x); };
  serial_printf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", u(f->rax), u(f->rbx), u(f->rcx), u(f->rdx));
  serial_printf("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n", u(f->rsi), u(f->rdi), u(f->rbp), u(f->rsp));
  serial_printf("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n", u(f->r8), u(f->r9), u(f->r10), u(f->r11));
  serial_printf("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n", u(f->r12), u(f->r13), u(f->r14), u(f->r15));
  serial_printf("  rflags %016llx cs %llx ss %llx\n", u(f->rflags), u(f->cs), u(f->ss));
  serial_printf("  faulting instruction 0x%016llx\nbacktrace:\n", u(f->rip));
  print_backtrace_from(f->rbp, 0);
  power_off(kExitException);
}

}  // namespace ebb::native
