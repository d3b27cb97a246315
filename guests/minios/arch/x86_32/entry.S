/*
 * Exception stubs, the event upcall and the failsafe callback.
 *
 * Frame built on the current (ring 1) stack, lowest address first: pushal registers,
 * vector, error code (0 when the CPU pushes none), then Xen's bounce frame
 * (EIP, CS with the saved upcall mask in bits 23:16, EFLAGS). This is struct trap_frame
 * in traps.h. Returns go through the iret hypercall, which restores the event mask from
 * the saved EFLAGS.IF atomically, so a pending event is delivered at once instead of
 * being lost between unmask and return.
 */
#include <xen/xen.h>
#include "lib/xen/trap_stubs_asm.h"

    .text
    .balign 16
    /* General registers only (the PV tests also save DS-GS): minios never leaves flat segments. */
trap_common:
    pushal
    movl %esp, %eax
    pushl %eax
    call do_trap
    addl $4, %esp
    popal
    addl $8, %esp
    jmp hypercall_page + __HYPERVISOR_iret * 32

    .altmacro
    trap_stub_range trap_stub_, trap_common, 8, 0, 19
    .section .rodata
    .balign 4
    .globl trap_stubs
trap_stubs:
    trap_stub_addr_range trap_stub_, 0, 19
    .noaltmacro

    .text
    .balign 16
    .globl hypervisor_callback
hypervisor_callback:
    pushl $0
    pushl $-1
    pushal
    movl %esp, %eax
    pushl %eax
    call do_hypervisor_callback
    addl $4, %esp
    popal
    addl $8, %esp
    jmp hypercall_page + __HYPERVISOR_iret * 32

    /* Xen could not load a segment register on return: DS, ES, FS, GS lie below EIP. */
    .balign 16
    .globl failsafe_callback
failsafe_callback:
    movl %esp, %eax
    pushl %eax
    call do_failsafe
    ud2

    .section .note.GNU-stack, "", @progbits
