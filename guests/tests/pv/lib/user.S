/*
 * Ring-3 calls: pvt_user_call(fn, arg) enters ring 3 through the iret hypercall, runs
 * fn(arg) on the user stack, and comes back when the user side raises PVT_VEC_USER_RET
 * (a DPL-3 vector) or takes an unexpected trap; pvt_user_leave(result) then restores the
 * kernel context saved here and returns result from pvt_user_call.
 *
 * Invariants: the kernel stack of traps from ring 3 (stack_switch) is set to just below
 * the frame saved here, so nothing the user side causes can overwrite it; the user side
 * runs with events masked (EFLAGS.IF = 0 in the iret frame keeps evtchn_upcall_mask set).
 */
#include <xen/xen.h>

#define USER_RET_VECTOR 0x81    /* PVT_VEC_USER_RET */

    .text
    .globl pvt_user_call
    .type pvt_user_call, @function
pvt_user_call:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 20(%esp), %esi         /* fn */
    movl 24(%esp), %edi         /* arg */
    movl %esp, pvt_user_saved_esp
    /* stack_switch(FLAT_KERNEL_SS, esp): traps from ring 3 land below the saved frame. */
    movl pvt_user_kernel_ss, %ebx
    movl %esp, %ecx
    call hypercall_page + __HYPERVISOR_stack_switch * 32
    /* iret frame for ring 3: EIP, CS, EFLAGS, ESP, SS (the stub pushes EAX). */
    pushl $FLAT_USER_SS
    pushl $pvt_user_stack_top
    pushl $0x2                  /* EFLAGS: IF clear = events stay masked */
    pushl $FLAT_USER_CS
    pushl $pvt_user_trampoline
    cmpl $0, pvt_user_native_iret
    jne 1f
    xorl %eax, %eax
    jmp hypercall_page + __HYPERVISOR_iret * 32
1:  iret                        /* ring 1 -> ring 3 with the CPU's own iret */
    .size pvt_user_call, . - pvt_user_call

    .globl pvt_user_leave
    .type pvt_user_leave, @function
pvt_user_leave:                 /* noreturn: pvt_user_leave(result) */
    movl 4(%esp), %eax
    movl $FLAT_KERNEL_DS, %ecx
    movl %ecx, %ds
    movl %ecx, %es
    movl pvt_user_saved_esp, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
    .size pvt_user_leave, . - pvt_user_leave

    .section .user.text, "ax", @progbits
    .globl pvt_user_trampoline
pvt_user_trampoline:
    movl $FLAT_USER_DS, %eax
    movl %eax, %ds
    movl %eax, %es
    pushl %edi
    call *%esi
    addl $4, %esp
    int $USER_RET_VECTOR
    ud2

    .section .user.data, "aw", @progbits
    .balign 16
pvt_user_stack:
    .skip 8192
    .globl pvt_user_stack_top
pvt_user_stack_top:

    .data
    .globl pvt_user_saved_esp
pvt_user_saved_esp:
    .long 0
    .globl pvt_user_kernel_ss
pvt_user_kernel_ss:
    .long FLAT_KERNEL_SS
    .globl pvt_user_native_iret
pvt_user_native_iret:
    .long 0

    .section .note.GNU-stack, "", @progbits
