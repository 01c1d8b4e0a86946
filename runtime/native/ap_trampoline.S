/* Where an application processor starts: a STARTUP IPI begins it in real
   mode at the page the trampoline is copied to (kTrampoline, below 1 MiB).
   It climbs to long mode on the boot page tables and calls
   ap_entry(cpu index) on the stack smp.cc left in the trampoline's data. */

#include "runtime/native/long_mode.h"

#define TRAMPOLINE 0x8000
#define AT(label) (TRAMPOLINE + (label) - ap_trampoline_start)

        .section .rodata
        .globl ap_trampoline_start, ap_trampoline_end
        .globl ap_trampoline_cr3, ap_trampoline_stack, ap_trampoline_entry, ap_trampoline_cpu
        .p2align 12
        .code16
ap_trampoline_start:
        cli
        cld
        xor %ax, %ax
        mov %ax, %ds
        lgdtl AT(trampoline_gdt_pointer)
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        ljmpl $0x08, $AT(protected_mode)

        .code32
protected_mode:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov AT(ap_trampoline_cr3), %eax
        ENABLE_LONG_MODE
        ljmp $0x18, $AT(long_mode)

        .code64
long_mode:
        LOAD_DATA_SEGMENTS 0x20
        mov AT(ap_trampoline_stack), %rsp
        mov AT(ap_trampoline_cpu), %edi
        mov AT(ap_trampoline_entry), %rax
        xor %ebp, %ebp
        call *%rax
1:      cli
        hlt
        jmp 1b

        .p2align 3
trampoline_gdt:
        .quad 0
        .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff    /* 0x10: data */
        .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
        .quad 0x00cf92000000ffff    /* 0x20: data */
trampoline_gdt_pointer:
        .word 5 * 8 - 1
        .long AT(trampoline_gdt)

        .p2align 3
ap_trampoline_cr3:
        .quad 0
ap_trampoline_stack:
        .quad 0
ap_trampoline_entry:
        .quad 0
ap_trampoline_cpu:
        .quad 0
ap_trampoline_end:
        .section .note.GNU-stack, "", @progbits
