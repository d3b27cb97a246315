/*
 * Enter and leave a test case: load every register from `t_in`, run the case's code at
 * CODE_BASE, and store every register into `t_out` when it jumps to `x86_exit_stub`.
 *
 * Invariants:
 *  - Test code may change DS, ES, FS and GS (to selectors with non-zero bases) but SS only
 *    to the flat data selector, so every access here goes through %ss (base 0); the
 *    generators keep that promise (tests/x86/forms.ts).
 *  - Nothing here writes to the test stack: registers are stored with absolute moves, and
 *    EFLAGS is read only after ESP is switched back to the oracle's stack. So the data
 *    region holds exactly what the test code wrote.
 *  - A faulting case never reaches the stub: the signal handler in oracle.c copies the
 *    ucontext into t_out and resumes at `x86_recover` with ESP = t_saved_esp.
 *
 * Layout of struct tramp (oracle.c): gpr[8] eax ecx edx ebx esp ebp esi edi at 0..31,
 * eflags 32, eip 36, ds 40, es 44, fs 48, gs 52, cs 56, ss 60.
 */
#include "oracle.h"

        .text
        .globl  x86_run_case
        .type   x86_run_case, @function
x86_run_case:
        pushal
        pushfl
        movl    %esp, t_saved_esp
        movw    t_in+44, %ax
        movw    %ax, %es
        movw    t_in+48, %ax
        movw    %ax, %fs
        movw    t_in+52, %ax
        movw    %ax, %gs
        movw    t_in+40, %ax
        movw    %ax, %ds
        pushl   %ss:t_in+32
        popfl
        movl    %ss:t_in+0, %eax
        movl    %ss:t_in+4, %ecx
        movl    %ss:t_in+8, %edx
        movl    %ss:t_in+12, %ebx
        movl    %ss:t_in+20, %ebp
        movl    %ss:t_in+24, %esi
        movl    %ss:t_in+28, %edi
        movl    %ss:t_in+16, %esp
        jmp     CODE_BASE

        .globl  x86_exit_stub
x86_exit_stub:
        movl    %eax, %ss:t_out+0
        movl    %ecx, %ss:t_out+4
        movl    %edx, %ss:t_out+8
        movl    %ebx, %ss:t_out+12
        movl    %esp, %ss:t_out+16
        movl    %ebp, %ss:t_out+20
        movl    %esi, %ss:t_out+24
        movl    %edi, %ss:t_out+28
        movl    %ss:t_saved_esp, %esp
        pushfl
        popl    %ss:t_out+32
        movw    %ds, %ss:t_out+40
        movw    %es, %ss:t_out+44
        movw    %fs, %ss:t_out+48
        movw    %gs, %ss:t_out+52
        movw    %cs, %ss:t_out+56
        movw    %ss, %ss:t_out+60
        movw    %ss:t_flat_ds_ss, %ax   /* %ss is flat here; restore the rest */
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ss:t_oracle_fs, %ax
        movw    %ax, %fs
        movw    %ss:t_oracle_gs, %ax
        movw    %ax, %gs
        .globl  x86_recover
x86_recover:
        popfl
        popal
        cld
        ret
        .size   x86_run_case, .-x86_run_case

        .section .note.GNU-stack,"",@progbits
