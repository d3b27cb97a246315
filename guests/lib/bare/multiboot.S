/*
 * Multiboot (v1) entry for bare-metal test kernels. The loader (tsxen bare, QEMU -kernel)
 * enters at _start in 32-bit protected mode with flat segments, paging off, interrupts off,
 * EAX = 0x2BADB002 and EBX = the multiboot info address. We set up a stack and call
 * kmain(magic, info); if it returns, its value is the exit code.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003   /* page-align modules, provide memory info */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 16
boot_stack:
    .skip 16384
boot_stack_top:

    .section .text
    .globl _start
    .type _start, @function
_start:
    cli
    movl $boot_stack_top, %esp
    xorl %ebp, %ebp
    pushl $0            /* keep the stack 16-byte aligned at the call */
    pushl $0
    pushl %ebx
    pushl %eax
    call kmain
    pushl %eax
    call bare_exit
1:  hlt
    jmp 1b
