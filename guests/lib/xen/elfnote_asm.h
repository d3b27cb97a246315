/*
 * GNU as macros for the Xen ELF notes a PV kernel's head.S carries (include from a .S
 * file only). Each note is a 4-byte-aligned ELF note named "Xen" in section .note.Xen,
 * which the domain builder reads to learn the entry point, hypercall page and layout.
 *
 * pv_pae_kernel_notes emits the set every tsxen 32-bit PAE PV kernel shares: VIRT_BASE 0
 * and PADDR_OFFSET 0 (VA = PFN << 12 across the builder's region, so ELF addresses are
 * VAs), ENTRY _start, HYPERCALL_PAGE hypercall_page, PAE_MODE "yes" (extended CR3).
 * A kernel adds its own further notes after it.
 */
#ifndef LIB_XEN_ELFNOTE_ASM_H
#define LIB_XEN_ELFNOTE_ASM_H

#include <xen/elfnote.h>

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

    .macro pv_pae_kernel_notes guest_os
    elfnote_str XEN_ELFNOTE_GUEST_OS, "\guest_os"
    elfnote_str XEN_ELFNOTE_GUEST_VERSION, "1"
    elfnote_str XEN_ELFNOTE_XEN_VERSION, "xen-3.0"
    elfnote_str XEN_ELFNOTE_LOADER, "generic"
    elfnote_long XEN_ELFNOTE_VIRT_BASE, 0
    elfnote_long XEN_ELFNOTE_PADDR_OFFSET, 0
    elfnote_long XEN_ELFNOTE_ENTRY, _start
    elfnote_long XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page
    elfnote_str XEN_ELFNOTE_FEATURES, "pae_pgdir_above_4gb"
    elfnote_str XEN_ELFNOTE_PAE_MODE, "yes"
    .endm

#endif
