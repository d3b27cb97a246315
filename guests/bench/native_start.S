/*
 * Entry of the native Linux i386 build of the benchmark (no libc): the kernel starts us
 * with argc at (%esp) and argv above it. native_main's result is the exit status.
 */
    .text
    .globl _start
_start:
    xorl %ebp, %ebp
    movl (%esp), %eax
    leal 4(%esp), %ebx
    andl $-16, %esp
    subl $8, %esp
    pushl %ebx
    pushl %eax
    call native_main
    movl %eax, %ebx
    movl $1, %eax                /* exit */
    int $0x80
    hlt
    .section .note.GNU-stack, "", @progbits
