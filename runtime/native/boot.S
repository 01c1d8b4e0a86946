/* PVH entry: QEMU (or any PVH loader) enters pvh_start in 32-bit protected
   mode, paging off, with the physical address of the hvm_start_info in
   %ebx. This builds the boot page tables (the first 4 GiB identity-mapped,
   and physical 0..2 GiB again at KERNEL_VMA for the kernel code model),
   enters long mode, and calls native_boot(start_info) on the boot stack. */

#include "runtime/native/long_mode.h"

#define KERNEL_VMA 0xffffffff80000000
#define PAGE 4096
#define PTE_PRESENT_RW 0x3
#define PDE_LARGE 0x83          /* present, writable, 2 MiB page */
#define PDE_UNCACHED 0x18       /* PCD | PWT: device memory */
#define UNCACHED_FROM 1536      /* 2 MiB pages from 3 GiB up: the PCI hole, APICs */

/* XEN_ELFNOTE_PHYS32_ENTRY: where a PVH loader enters. */
        .section .note.Xen, "a"
        .p2align 2
        .long 4, 4, 18
        .asciz "Xen"
        .long pvh_start

        .section .boot.bss, "aw", @nobits
        .p2align 12
/* pml4, pdpt (low), pdpt (high), then four page directories (0..4 GiB) */
boot_page_tables:
        .space 7 * PAGE

        .section .boot.data, "aw"
        .p2align 3
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
        .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_tss:                        /* 0x18: 64-bit TSS, base filled in at entry */
        .quad 0x0000890000000067
        .quad 0
boot_gdt_end:
boot_gdt_pointer:
        .word boot_gdt_end - boot_gdt - 1
        .long boot_gdt
/* Long mode needs a valid task register from the first instruction on
   (hardware virtualisation refuses to run a guest without one, and KVM
   falls back to emulating it). traps.cc loads the real one. */
        .p2align 4
boot_tss:
        .space 104

        .section .boot.text, "ax"
        .code32
        .globl pvh_start
pvh_start:
        cli
        cld
        /* %ebx holds the start info until native_boot gets it. */
        mov $boot_page_tables, %edi
        xor %eax, %eax
        mov $(7 * PAGE / 4), %ecx
        rep stosl

        /* 2048 large pages: 0..4 GiB, device memory uncached. */
        mov $(boot_page_tables + 3 * PAGE), %edi
        mov $PDE_LARGE, %eax
        xor %ecx, %ecx
1:      mov %eax, %edx
        cmp $UNCACHED_FROM, %ecx
        jb 2f
        or $PDE_UNCACHED, %edx
2:      mov %edx, (%edi, %ecx, 8)
        add $0x200000, %eax
        inc %ecx
        cmp $2048, %ecx
        jb 1b

        /* Low pdpt: the four directories. High pdpt (entries 510, 511 of
           the last 512 GiB): the first two, at KERNEL_VMA. */
        movl $(boot_page_tables + 3 * PAGE + PTE_PRESENT_RW), boot_page_tables + 1 * PAGE + 0
        movl $(boot_page_tables + 4 * PAGE + PTE_PRESENT_RW), boot_page_tables + 1 * PAGE + 8
        movl $(boot_page_tables + 5 * PAGE + PTE_PRESENT_RW), boot_page_tables + 1 * PAGE + 16
        movl $(boot_page_tables + 6 * PAGE + PTE_PRESENT_RW), boot_page_tables + 1 * PAGE + 24
        movl $(boot_page_tables + 3 * PAGE + PTE_PRESENT_RW), boot_page_tables + 2 * PAGE + 510 * 8
        movl $(boot_page_tables + 4 * PAGE + PTE_PRESENT_RW), boot_page_tables + 2 * PAGE + 511 * 8
        movl $(boot_page_tables + 1 * PAGE + PTE_PRESENT_RW), boot_page_tables + 0
        movl $(boot_page_tables + 2 * PAGE + PTE_PRESENT_RW), boot_page_tables + 511 * 8

        mov $boot_page_tables, %eax
        ENABLE_LONG_MODE
        mov $boot_tss, %eax
        mov %ax, boot_gdt_tss + 2
        shr $16, %eax
        mov %al, boot_gdt_tss + 4
        mov %ah, boot_gdt_tss + 7
        lgdt boot_gdt_pointer
        ljmp $0x08, $long_mode

        .code64
long_mode:
        LOAD_DATA_SEGMENTS 0x10
        mov $0x18, %ax
        ltr %ax
        movabs $boot_stack_top, %rsp
        xor %ebp, %ebp            /* the end of every backtrace */
        mov %ebx, %edi            /* zero-extended: the start info's physical address */
        movabs $native_boot, %rax
        call *%rax
3:      cli
        hlt
        jmp 3b

        .section .bss
        .p2align 12
        .globl boot_stack_bottom
boot_stack_bottom:
        .space 64 * 1024
        .globl boot_stack_top
boot_stack_top:
        .section .note.GNU-stack, "", @progbits
