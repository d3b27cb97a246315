/*
 * Entry of minios and the Xen ELF notes that describe it to the domain builder.
 *
 * Notes: a 32-bit PAE PV kernel with VIRT_BASE 0 and PADDR_OFFSET 0 (VA = PFN << 12 in
 * the builder's region, ELF addresses are VAs), a hypercall page, PAE "yes" (extended
 * CR3) and SUSPEND_CANCEL (a cancelled or checkpoint suspend returns 1 from
 * SCHEDOP_shutdown and the kernel carries on with its old devices).
 *
 * Entry state (Xen's PV start of day): ring 1, flat CS/DS, ESI = start_info, events
 * masked. We switch to CPU 0's aligned stack (see smp.h) before calling C.
 */
#include "lib/xen/elfnote_asm.h"

#define STACK_SIZE (32 * 1024)

    pv_pae_kernel_notes "tsxen-minios"
    elfnote_long XEN_ELFNOTE_SUSPEND_CANCEL, 1

    .section .text.head, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    cld
    movl %esp, boot_esp
    movl $cpu_stacks, %eax
    movl $cpus, (%eax)              /* stack base -> &cpus[0] */
    leal STACK_SIZE(%eax), %esp
    xorl %ebp, %ebp
    pushl $0
    pushl $0
    pushl $0
    pushl %esi
    call start_kernel
    ud2
    .size _start, . - _start

    /* Secondary vCPUs start here with ESP = the top of their stack (smp.c). */
    .globl secondary_entry
    .type secondary_entry, @function
secondary_entry:
    cld
    xorl %ebp, %ebp
    pushl $0
    pushl $0
    pushl $0
    pushl $0
    call secondary_start
    ud2
    .size secondary_entry, . - secondary_entry

    .data
    .balign 4
    .globl boot_esp
boot_esp:
    .long 0

    .section .note.GNU-stack, "", @progbits
