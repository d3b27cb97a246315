/*
 * Real-mode excursions for the modes kernel. The blob between rm_blob_start and
 * rm_blob_end is copied to RM_BASE (0x8000, segment 0x0800) and runs there: real-mode
 * code must sit below 1 MiB. rm_call(entry) drops from protected mode through a 16-bit
 * protected-mode step (64 KiB segments, as real mode expects their limits) to real mode,
 * calls the blob routine at offset `entry` with the IVT at 0 as the interrupt table, and
 * comes back to 32-bit protected mode. FS and GS are left as the caller loaded them, so
 * a 4 GiB FS survives into real mode ("unreal" mode).
 *
 * Blob routines store what they observe in rm_results (dwords); the C side reads them at
 * RM_BASE + offset and checks them.
 */
#include "bare/desc.h"

#define RM_BASE 0x8000
#define RM_SEG 0x0800
#define RM_STACK 0x7ff0 /* SS = RM_SEG: the stack ends at 0xfff0 physical */
#define RM(x) ((x) - rm_blob_start)
#define RES(n) (RM(rm_results) + 4 * (n))

    .text
    .code32
    .globl rm_call
rm_call:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    pushfl
    cli
    movl 24(%esp), %eax
    movw %ax, RM_BASE + RM(rm_entry)
    movl %esp, rm_saved_esp
    sidt rm_saved_idt
    ljmp $SEL_KCODE16, $(RM_BASE + RM(rm_tramp16))

rm_back32:
    movw $SEL_KDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl rm_saved_esp, %esp
    lidt rm_saved_idt
    popfl
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .code16
    .globl rm_blob_start
rm_blob_start:
rm_tramp16:
    movw $SEL_KDATA16, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr0, %eax
    andl $~1, %eax
    movl %eax, %cr0
    ljmp $RM_SEG, $RM(rm_real)
rm_real:
    movw $RM_SEG, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $RM_STACK, %sp
    lidt RM(rm_ivt_desc)
    movw RM(rm_entry), %ax
    call *%ax
    cli
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_KCODE, $rm_back32

    .globl rm_test_basic
rm_test_basic:
    movl %cr0, %eax
    movl %eax, RES(0)               /* PE = 0 */
    pushw %ds
    movw $0x1234, %ax
    movw %ax, %ds
    movl 0x10, %eax                 /* 1234:0010 = physical 0x12350 */
    popw %ds
    movl %eax, RES(1)
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, RES(2)
    movl $0x12345678, %eax          /* operand-size prefix in a 16-bit segment */
    movl %eax, RES(3)
    movw %sp, %ax
    movzwl %ax, %eax
    movl %eax, RES(4)               /* SP before int 0x60 */
    pushfw
    orw $0x0100, %bp                /* noise in BP: the handler must not depend on it */
    popfw
    int $0x60
    xorw %cx, %cx
    movw $1, %ax
    xorw %dx, %dx
    .globl rm_div_insn
rm_div_insn:
    divw %cx                        /* #DE through IVT[0]; the handler skips 2 bytes */
    movl %eax, RES(9)               /* set by the handler: 0xde */
    .globl rm_ud2_insn
rm_ud2_insn:
    ud2                             /* #UD through IVT[6]; the handler skips 2 bytes */
    movl %eax, RES(10)              /* 0x6 from the handler */
    lcall $RM_SEG, $RM(rm_far_target)
    movl $0x1000, %esi
    addr32 movl (%esi), %eax        /* address-size prefix: DS:ESI */
    movl %eax, RES(12)
    ret

rm_far_target:
    movw %sp, %ax
    movzwl %ax, %eax
    movl %eax, RES(11)              /* SP with CS:IP pushed */
    lret

    .globl rm_isr_60
rm_isr_60:
    movw %sp, %ax
    movzwl %ax, %eax
    movl %eax, RES(5)               /* SP after FLAGS, CS, IP */
    movw %sp, %bx
    movzwl %ss:0(%bx), %eax
    movl %eax, RES(6)               /* pushed IP */
    movzwl %ss:2(%bx), %eax
    movl %eax, RES(7)               /* pushed CS */
    pushfw
    popw %ax
    movzwl %ax, %eax
    movl %eax, RES(8)               /* FLAGS inside: IF and TF clear */
    iret

    .globl rm_isr_de
rm_isr_de:
    movw %sp, %bx
    movzwl %ss:0(%bx), %eax
    movl %eax, RES(13)              /* the IP pushed for #DE: the div itself */
    addw $2, %ss:0(%bx)
    movl $0xde, %eax
    iret

    .globl rm_isr_ud
rm_isr_ud:
    movw %sp, %bx
    movzwl %ss:0(%bx), %eax
    movl %eax, RES(14)
    addw $2, %ss:0(%bx)
    movl $0x6, %eax
    iret

/* FS holds a 4 GiB segment loaded in protected mode: 32-bit addresses reach past 1 MiB. */
    .globl rm_test_unreal
rm_test_unreal:
    movl $0x2f0000, %esi
    addr32 movl %fs:(%esi), %eax
    movl %eax, RES(20)
    movl $0x2f0004, %esi
    addr32 movl $0x600dcafe, %fs:(%esi)
    ret

/* The A20 gate at port 0x92: with it off, bit 20 of every address is forced to 0. */
    .globl rm_test_a20
rm_test_a20:
    movl $0x2f0000, %esi
    movl $0x3f0000, %edi            /* = 0x2f0000 with bit 20 set */
    inb $0x92, %al
    movzbl %al, %eax
    movl %eax, RES(21)              /* A20 on at entry (Multiboot requires it) */
    addr32 movb $0xaa, %fs:(%esi)
    addr32 movb $0x55, %fs:(%edi)
    addr32 movb %fs:(%esi), %al
    movzbl %al, %eax
    movl %eax, RES(22)              /* 0xaa: two distinct bytes */
    inb $0x92, %al
    andb $0xfc, %al                 /* A20 off; never bit 0 (fast reset) */
    outb %al, $0x92
    inb $0x92, %al
    movzbl %al, %eax
    movl %eax, RES(23)
    addr32 movb $0x77, %fs:(%edi)
    addr32 movb %fs:(%esi), %al
    movzbl %al, %eax
    movl %eax, RES(24)              /* 0x77: the write to 0x3f0000 landed at 0x2f0000 */
    inb $0x92, %al
    orb $0x02, %al
    andb $0xfe, %al
    outb %al, $0x92
    addr32 movb $0x99, %fs:(%edi)
    addr32 movb %fs:(%esi), %al
    movzbl %al, %eax
    movl %eax, RES(25)              /* still 0x77 */
    addr32 movb %fs:(%edi), %al
    movzbl %al, %eax
    movl %eax, RES(26)              /* 0x99 */
    ret

rm_ivt_desc:
    .word 0x3ff
    .long 0
rm_entry:
    .word 0
    .balign 4
    .globl rm_results
rm_results:
    .skip 4 * 32
    .globl rm_blob_end
rm_blob_end:

    .data
    .balign 4
rm_saved_esp: .long 0
rm_saved_idt: .word 0
    .long 0
    .section .note.GNU-stack, "", @progbits
