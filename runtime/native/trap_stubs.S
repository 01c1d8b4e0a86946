/* The entry stubs of the 32 exception vectors: each pushes a zero where the
   CPU pushes no error code, then its vector, then every general register,
   and calls trap_entry(TrapFrame*) (runtime/native/traps.cc). */

.macro STUB vector, has_error
        .p2align 4
trap_stub_\vector:
        .if \has_error == 0
        pushq $0
        .endif
        pushq $\vector
        jmp trap_common
.endm

        .text
STUB 0, 0
STUB 1, 0
STUB 2, 0
STUB 3, 0
STUB 4, 0
STUB 5, 0
STUB 6, 0
STUB 7, 0
STUB 8, 1
STUB 9, 0
STUB 10, 1
STUB 11, 1
STUB 12, 1
STUB 13, 1
STUB 14, 1
STUB 15, 0
STUB 16, 0
STUB 17, 1
STUB 18, 0
STUB 19, 0
STUB 20, 0
STUB 21, 1
STUB 22, 0
STUB 23, 0
STUB 24, 0
STUB 25, 0
STUB 26, 0
STUB 27, 0
STUB 28, 0
STUB 29, 1
STUB 30, 1
STUB 31, 0

trap_common:
        push %rax
        push %rcx
        push %rdx
        push %rbx
        push %rbp
        push %rsi
        push %rdi
        push %r8
        push %r9
        push %r10
        push %r11
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, %rdi
        cld
        call trap_entry
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %r11
        pop %r10
        pop %r9
        pop %r8
        pop %rdi
        pop %rsi
        pop %rbp
        pop %rbx
        pop %rdx
        pop %rcx
        pop %rax
        add $16, %rsp
        iretq

/* Interrupts whose only job is to end a hlt (wake-ups, the timer, devices):
   acknowledged at the local APIC and nothing else, so that they touch no
   register but those they save (the interrupted code's vector registers
   included; iretq restores the flags). xAPIC: a store to g_apic_eoi.
   x2APIC (g_apic_eoi is 0): wrmsr 0 to 0x80b, which takes %ecx, %edx and
   %eax. */
        .globl irq_acknowledge_stub, irq_spurious_stub
        .p2align 4
irq_acknowledge_stub:
        push %rax
        mov g_apic_eoi(%rip), %rax
        test %rax, %rax
        jz 1f
        movl $0, (%rax)
        pop %rax
        iretq
1:      push %rcx
        push %rdx
        mov $0x80b, %ecx
        xor %eax, %eax
        xor %edx, %edx
        wrmsr
        pop %rdx
        pop %rcx
        pop %rax
        iretq
        .p2align 4
irq_spurious_stub:
        iretq

        .section .rodata
        .p2align 3
        .globl trap_stubs
trap_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad trap_stub_\v
.endr
        .section .note.GNU-stack, "", @progbits
