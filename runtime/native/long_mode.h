/* Included by the assembly entry points (boot.S, ap_trampoline.S): the
   switch from 32-bit protected mode to long mode, shared by the boot CPU
   and every other CPU. Expects the page tables' physical address in %eax;
   the far jump to a 64-bit code segment that completes it is the caller's. */

.macro ENABLE_LONG_MODE
        mov %eax, %edx
        /* CR4: PAE, and SSE enabled for the OS (OSFXSR, OSXMMEXCPT). */
        mov %cr4, %eax
        or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
        mov %eax, %cr4
        mov %edx, %cr3
        /* EFER.LME */
        mov $0xc0000080, %ecx
        rdmsr
        or $(1 << 8), %eax
        wrmsr
        /* CR0: paging, protection, write protect, FPU present (no emulation). */
        mov %cr0, %eax
        and $~(1 << 2), %eax
        or $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax
        mov %eax, %cr0
.endm

/* Data segments from the selector `data`, FS and GS null (their bases are
   set through MSRs later). Clobbers %eax. */
.macro LOAD_DATA_SEGMENTS data
        mov $\data, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        xor %eax, %eax
        mov %ax, %fs
        mov %ax, %gs
.endm
