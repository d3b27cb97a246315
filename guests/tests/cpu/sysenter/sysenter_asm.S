/*
 * SYSENTER/SYSEXIT round trip for the sysenter kernel. u_sysenter runs at CPL 3 (via
 * ring_call): it keeps its stack pointer in ECX and its return point in EDX, as the
 * SYSEXIT convention wants, and enters the kernel at sysenter_entry, which records what
 * the CPU set up (CS, SS, ESP, EFLAGS) in se_seen and returns with SYSEXIT.
 */
    .text
    .globl u_sysenter
u_sysenter:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    pushfl
    movl $0xcafe0001, %eax        /* passed through to the kernel unchanged */
    movl %esp, %ecx
    movl $1f, %edx
    sysenter
1:  movl %eax, se_seen + 20       /* what the kernel handed back in EAX */
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, se_seen + 24
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, se_seen + 28
    movl %esp, se_seen + 32
    pushfl
    popl se_seen + 36             /* EFLAGS after SYSEXIT */
    popfl
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    ret

    .globl sysenter_entry
sysenter_entry:
    movl %eax, se_seen + 16       /* EAX from ring 3 */
    pushfl
    popl se_seen + 12
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, se_seen + 0
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, se_seen + 4
    movl %esp, se_seen + 8
    movl $0xcafe0002, %eax
    sysexit

    .section .note.GNU-stack, "", @progbits
