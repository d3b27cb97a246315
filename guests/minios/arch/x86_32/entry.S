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

#define HAS_EC(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17)

    .text
    .balign 16
trap_common:
    pushal
    movl %esp, %eax
    pushl %eax
    call do_trap
    addl $4, %esp
    popal
    addl $8, %esp
    jmp hypercall_page + __HYPERVISOR_iret * 32

    .macro stub v
    .balign 8
    .globl trap_stub_\v
trap_stub_\v:
    .if HAS_EC(\v)
    .else
    pushl $0
    .endif
    pushl $\v
    jmp trap_common
    .endm

    .altmacro
    .macro stubs from, to
    stub %(\from)
    .if \to - \from
    stubs %(\from + 1), \to
    .endif
    .endm
    stubs 0, 19

    .macro stubaddr v
    .long trap_stub_\v
    .endm
    .macro stubaddrs from, to
    stubaddr %(\from)
    .if \to - \from
    stubaddrs %(\from + 1), \to
    .endif
    .endm
    .section .rodata
    .balign 4
    .globl trap_stubs
trap_stubs:
    stubaddrs 0, 19
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
