/* Guest entry and exception stubs. The host enters at _start in 64-bit mode, CPL 0, with RSP at
 * GUEST_STACK_TOP, the GDT of harness_abi.h loaded and no IDT. */
    .section .text.entry, "ax"
    .globl _start
_start:
    cld
    lea __bss_start(%rip), %rdi
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb
    call idt_setup
    call main
    mov %eax, %edi
    call guest_done
1:  hlt
    jmp 1b

/* One stub per vector: push a 0 where the CPU pushes no error code, then the vector. */
    .text
.macro STUB vec, has_error
    .globl exc_stub_\vec
exc_stub_\vec:
    .if \has_error == 0
    pushq $0
    .endif
    pushq $\vec
    jmp exc_common
.endm
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
    STUB 64, 0

/* struct ex_frame (guest.h): r15 .. rax, vector, error, rip, cs, rflags, rsp, ss. */
exc_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    call exception_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

    .section .rodata
    .globl exc_stub_table
    .balign 8
exc_stub_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exc_stub_\v
    .endr
    .globl exc_stub_64_addr
exc_stub_64_addr:
    .quad exc_stub_64
