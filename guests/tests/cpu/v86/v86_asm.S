/*
 * Virtual-8086 entry and exit for the v86 kernel. v86_call(cs:ip, eflags) irets into v86
 * mode (VM set in the EFLAGS image, the full v86 frame: SS:SP and ES, DS, FS, GS too); the
 * kernel gets control back only through exceptions and interrupts, whose handlers may call
 * v86_exit to abandon the trap frame and return from v86_call.
 *
 * The blob between v86_blob_start and v86_blob_end runs at V86_BASE (segment V86_SEG).
 */
#include "bare/desc.h"

#define V86_SEG 0x0800
#define V86_SP 0x7ff0
#define V(x) ((x) - v86_blob_start)
#define RES(n) (V(v86_results) + 4 * (n))

    .text
    .code32
    .globl v86_call
v86_call:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    pushfl
    movl %esp, v86_saved_esp
    movl 24(%esp), %eax          /* cs << 16 | ip */
    movl 28(%esp), %ebx          /* eflags */
    orl $0x20000, %ebx           /* VM */
    pushl $0                     /* GS */
    pushl $0                     /* FS */
    pushl $V86_SEG               /* DS */
    pushl $V86_SEG               /* ES */
    pushl $V86_SEG               /* SS */
    pushl $V86_SP                /* ESP */
    pushl %ebx                   /* EFLAGS */
    movl %eax, %ecx
    shrl $16, %ecx
    pushl %ecx                   /* CS */
    movzwl %ax, %eax
    pushl %eax                   /* EIP */
    iret

    .globl v86_exit
v86_exit:
    movw $SEL_KDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl v86_saved_esp, %esp
    popfl
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .code16
    .globl v86_blob_start
v86_blob_start:

/* Run with IOPL 3: flag instructions act directly; INT n goes through the IDT. */
    .globl v86_test_iopl3
v86_test_iopl3:
    pushfl
    popl %eax
    movl %eax, RES(0)               /* EFLAGS image: VM and RF read as 0 */
    cli
    pushfw
    popw %ax
    movzwl %ax, %eax
    movl %eax, RES(1)               /* IF = 0 */
    sti
    pushfw
    popw %ax
    movzwl %ax, %eax
    movl %eax, RES(2)               /* IF = 1 */
    cli
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, RES(3)
    pushw %ds
    movw $0x1234, %ax
    movw %ax, %ds
    movl 0x10, %eax                 /* 1234:0010 = physical 0x12350 */
    popw %ds
    movl %eax, RES(4)
    movw %sp, %ax
    movzwl %ax, %eax
    movl %eax, RES(5)
    int $0x40                       /* DPL 3 gate: taken in protected mode */
    int $0x41                       /* DPL 0 gate: #GP(0x20a) */
    ud2                             /* #UD */
    xorw %cx, %cx
    movw $1, %ax
    xorw %dx, %dx
    divw %cx                        /* #DE */
    movw $0x300, %dx
    inb %dx, %al                    /* allowed in the bitmap */
    movw $0x302, %dx
    inb %dx, %al                    /* denied: IOPL 3 does not bypass the bitmap in v86 */
    movl $0x5a5a5a5a, %eax
    movl %eax, RES(6)
    hlt                             /* #GP: the way back */

/* Run with IOPL 0: every IOPL-sensitive instruction raises #GP(0). */
    .globl v86_test_iopl0
v86_test_iopl0:
    cli
    sti
    pushfw
    popfw
    int $0x21
    iret
    movw $0x300, %dx
    inb %dx, %al                    /* the bitmap still decides I/O: allowed */
    pushfl                          /* 32-bit pushf: also sensitive */
    movl $0xa5a5a5a5, %eax
    movl %eax, RES(7)
    hlt

    .balign 4
    .globl v86_results
v86_results:
    .skip 4 * 16
    .globl v86_blob_end
v86_blob_end:

    .data
    .balign 4
v86_saved_esp: .long 0
    .section .note.GNU-stack, "", @progbits
