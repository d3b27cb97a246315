/*
 * Trap, event and failsafe entry stubs.
 *
 * Every vector has a stub that makes the frame uniform (a zero error code where the CPU
 * pushes none), pushes the vector, saves the segment and general registers as
 * struct pvt_frame, calls pvt_trap_dispatch(frame) and returns through the iret hypercall
 * (which restores EIP/CS/EFLAGS, and ESP/SS for a ring-3 return, and sets the event mask
 * from the saved EFLAGS.IF).
 *
 * The failsafe callback's frame carries DS, ES, FS, GS below EIP; the failsafe stub copies
 * them to pvt_failsafe_segs and drops them before joining the common path, so the
 * selectors Xen could not load are never reloaded here.
 */
#include <xen/xen.h>
#include "lib/xen/trap_stubs_asm.h"

    .text
    .balign 16
    /* Unlike minios's trap_common this saves DS-GS too: tests load and inspect selectors. */
    .globl pvt_trap_common
pvt_trap_common:
    pushl %gs
    pushl %fs
    pushl %es
    pushl %ds
    pushal
    movl $FLAT_KERNEL_DS, %eax
    movl %eax, %ds
    movl %eax, %es
    cld
    movl %esp, %eax
    pushl %eax
    call pvt_trap_dispatch
    addl $4, %esp
    .globl pvt_trap_return
pvt_trap_return:
    popal
    popl %ds
    popl %es
    popl %fs
    popl %gs
    addl $8, %esp               /* vector, error code */
    jmp hypercall_page + __HYPERVISOR_iret * 32

    .altmacro
    trap_stub_range pvt_stub_, pvt_trap_common, 16, 0, 63
    trap_stub_range pvt_stub_, pvt_trap_common, 16, 64, 127
    trap_stub_range pvt_stub_, pvt_trap_common, 16, 128, 191
    trap_stub_range pvt_stub_, pvt_trap_common, 16, 192, 255

    .section .rodata
    .balign 4
    .globl pvt_trap_stubs
pvt_trap_stubs:
    trap_stub_addr_range pvt_stub_, 0, 63
    trap_stub_addr_range pvt_stub_, 64, 127
    trap_stub_addr_range pvt_stub_, 128, 191
    trap_stub_addr_range pvt_stub_, 192, 255
    .noaltmacro

    .text
    .balign 16
    .globl pvt_event_entry
pvt_event_entry:
    pushl $0
    pushl $0x100                /* PVT_VEC_EVENT */
    jmp pvt_trap_common

    .balign 16
    .globl pvt_failsafe_entry
pvt_failsafe_entry:
    pushl %eax
    movl 4(%esp), %eax
    movl %eax, pvt_failsafe_segs
    movl 8(%esp), %eax
    movl %eax, pvt_failsafe_segs + 4
    movl 12(%esp), %eax
    movl %eax, pvt_failsafe_segs + 8
    movl 16(%esp), %eax
    movl %eax, pvt_failsafe_segs + 12
    popl %eax
    addl $16, %esp
    pushl %eax
    movl $FLAT_KERNEL_DS, %eax
    movl %eax, %ds
    movl %eax, %es
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    popl %eax
    pushl $0
    pushl $0x101                /* PVT_VEC_FAILSAFE */
    jmp pvt_trap_common

    .section .note.GNU-stack, "", @progbits
