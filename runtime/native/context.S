/* The context switch (runtime/native/context_switch.h) and the first code
   of a fresh context. A suspended context's stack holds, from its saved
   stack pointer up: r15, r14, r13, r12, rbx, rbp, the return address. */

        .text
        .globl ebb_native_switch
/* void* ebb_native_switch(void** save %rdi, void* target %rsi, void* record %rdx) */
ebb_native_switch:
        push %rbp
        push %rbx
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, (%rdi)
        mov %rsi, %rsp
        mov %rdx, %rax
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbx
        pop %rbp
        ret

/* A fresh context "returns" here from its first switch: %r12 holds the
   entry's argument, %r13 the entry, %rax the switching side's record
   (whose first word is the stack it released). */
        .globl ebb_native_context_start
ebb_native_context_start:
        mov %r12, %rdi
        mov (%rax), %rsi
        xor %ebp, %ebp
        call *%r13
        ud2
        .section .note.GNU-stack, "", @progbits
