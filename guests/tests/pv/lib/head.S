/*
 * Entry of a PV test kernel and the Xen ELF notes that describe it to the domain builder.
 *
 * The notes are those a modern 32-bit PAE PV kernel carries: GUEST_OS, GUEST_VERSION,
 * XEN_VERSION "xen-3.0", LOADER "generic", VIRT_BASE 0 and PADDR_OFFSET 0 (so VA = PFN
 * << 12 across the builder's region and the ELF addresses are the VAs), ENTRY,
 * HYPERCALL_PAGE, FEATURES, PAE_MODE "yes" (extended CR3).
 *
 * Entry state (Xen's PV start of day): ring 1, flat CS/DS, ESI = start_info, ESP = end of
 * the builder's boot stack page, events masked. We keep the builder's ESP (it marks the
 * end of the bootstrap objects) and switch to our own stack before calling C.
 */
#include "lib/xen/elfnote_asm.h"

    pv_pae_kernel_notes "tsxen-pvtest"

    .section .text.head, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* Kept apart from minios's _start: tests need the raw entry registers, minios its stacks. */
    /* Record the entry state for the tests before anything changes it. */
    movl %eax, pvt_entry_regs + 0
    movl %ebx, pvt_entry_regs + 4
    movl %ecx, pvt_entry_regs + 8
    movl %edx, pvt_entry_regs + 12
    movl %esi, pvt_entry_regs + 16
    movl %edi, pvt_entry_regs + 20
    movl %ebp, pvt_entry_regs + 24
    movl %esp, pvt_entry_regs + 28
    pushfl
    popl pvt_entry_regs + 32
    movw %cs, pvt_entry_regs + 36
    movw %ds, pvt_entry_regs + 40
    movw %es, pvt_entry_regs + 44
    movw %fs, pvt_entry_regs + 48
    movw %gs, pvt_entry_regs + 52
    movw %ss, pvt_entry_regs + 56
    cld
    movl %esp, pvt_boot_esp
    movl $pvt_stack_top, %esp
    xorl %ebp, %ebp
    pushl $0                    /* keep 16-byte alignment at the call */
    pushl $0
    pushl $0
    pushl %esi
    call pvtest_start
    ud2                         /* pvtest_start never returns */
    .size _start, . - _start

    .data
    .balign 4
    .globl pvt_entry_regs
pvt_entry_regs:                 /* struct pvt_entry_regs */
    .skip 60

    .section .bss.stack, "aw", @nobits
    .balign 4096
    .globl pvt_stack_bottom
pvt_stack_bottom:
    .skip 32768
    .globl pvt_stack_top
pvt_stack_top:

    .section .note.GNU-stack, "", @progbits
