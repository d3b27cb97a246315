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
#include <xen/elfnote.h>

#define STACK_SIZE (32 * 1024)

    .macro elfnote_begin type
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4, 2f - 1f, \type
    .asciz "Xen"
    .balign 4
1:
    .endm
    .macro elfnote_end
2:  .balign 4
    .popsection
    .endm
    .macro elfnote_str type, text
    elfnote_begin \type
    .asciz "\text"
    elfnote_end
    .endm
    .macro elfnote_long type, value
    elfnote_begin \type
    .long \value
    elfnote_end
    .endm

    elfnote_str XEN_ELFNOTE_GUEST_OS, "tsxen-minios"
    elfnote_str XEN_ELFNOTE_GUEST_VERSION, "1"
    elfnote_str XEN_ELFNOTE_XEN_VERSION, "xen-3.0"
    elfnote_str XEN_ELFNOTE_LOADER, "generic"
    elfnote_long XEN_ELFNOTE_VIRT_BASE, 0
    elfnote_long XEN_ELFNOTE_PADDR_OFFSET, 0
    elfnote_long XEN_ELFNOTE_ENTRY, _start
    elfnote_long XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page
    elfnote_str XEN_ELFNOTE_FEATURES, "pae_pgdir_above_4gb"
    elfnote_str XEN_ELFNOTE_PAE_MODE, "yes"
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
