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

/* Vectors for which the CPU pushes an error code. */
#define HAS_EC(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)

    .text
    .balign 16
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

    .macro stub v
    .balign 16
pvt_stub_\v:
    .if HAS_EC(\v)
    .else
    pushl $0
    .endif
    pushl $\v
    jmp pvt_trap_common
    .endm

    .altmacro
    .macro stubs from, to
    stub %(\from)
    .if \to - \from
    stubs %(\from + 1), \to
    .endif
    .endm

    stubs 0, 63
    stubs 64, 127
    stubs 128, 191
    stubs 192, 255

    .macro stubaddr v
    .long pvt_stub_\v
    .endm
    .macro stubaddrs from, to
    stubaddr %(\from)
    .if \to - \from
    stubaddrs %(\from + 1), \to
    .endif
    .endm

    .section .rodata
    .balign 4
    .globl pvt_trap_stubs
pvt_trap_stubs:
    stubaddrs 0, 63
    stubaddrs 64, 127
    stubaddrs 128, 191
    stubaddrs 192, 255
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
