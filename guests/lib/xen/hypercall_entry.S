/*
 * The hypercall page and the by-number hypercall entry points.
 *
 * hypercall_page: one page-aligned page pre-filled with 0xC3 (ret). The domain builder
 * overwrites it with Xen's stubs before the guest runs; a first byte still 0xC3 means
 * nobody filled it (the kernel's ELF note HYPERCALL_PAGE names this symbol).
 *
 * xen_hypercall(nr, a1..a5) / xen_hypercall_int82(nr, a1..a5): cdecl, arguments on the
 * stack, result in EAX. EBX, ESI, EDI and EBP are callee-saved in cdecl and are restored
 * even though Xen may poison the argument registers.
 */
#include <xen/xen.h>


    .section .hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
    .type hypercall_page, @object
hypercall_page:
    .fill 4096, 1, 0xc3
    .size hypercall_page, 4096

    .text
    .globl xen_hypercall
    .type xen_hypercall, @function
xen_hypercall:
    pushl %ebp
    movl %esp, %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 8(%ebp), %eax
    cmpl $HYPERCALL_PAGE_SLOTS, %eax
    jae 1f
    shll $5, %eax
    addl $hypercall_page, %eax
    movl 12(%ebp), %ebx
    movl 16(%ebp), %ecx
    movl 20(%ebp), %edx
    movl 24(%ebp), %esi
    movl 28(%ebp), %edi
    call *%eax
    jmp 2f
1:  movl 12(%ebp), %ebx
    movl 16(%ebp), %ecx
    movl 20(%ebp), %edx
    movl 24(%ebp), %esi
    movl 28(%ebp), %edi
    int $HYPERCALL_VECTOR
2:  popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
    .size xen_hypercall, . - xen_hypercall

    .globl xen_hypercall_int82
    .type xen_hypercall_int82, @function
xen_hypercall_int82:
    pushl %ebp
    movl %esp, %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 8(%ebp), %eax
    movl 12(%ebp), %ebx
    movl 16(%ebp), %ecx
    movl 20(%ebp), %edx
    movl 24(%ebp), %esi
    movl 28(%ebp), %edi
    int $HYPERCALL_VECTOR
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
    .size xen_hypercall_int82, . - xen_hypercall_int82

    .section .note.GNU-stack, "", @progbits
