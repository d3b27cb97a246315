/*
 * Hand-written targets for the gates kernel: they run at privilege levels or on stacks
 * where the C trap entry cannot (ring 1 handlers, call-gate targets that must see the
 * raw frame), record what they saw in gate_seen, and return.
 */
#include "bare/desc.h"

    .text
/* Interrupt gate target in ring 1: record CS, SS, ESP and the frame, iret. */
    .globl r1_int_handler
r1_int_handler:
    movl %esp, gate_seen + 8
    movw %cs, gate_seen + 0
    movw %ss, gate_seen + 4
    pushl %eax
    movl 4(%esp), %eax
    movl %eax, gate_seen + 12      /* EIP */
    movl 8(%esp), %eax
    movl %eax, gate_seen + 16      /* CS */
    movl 16(%esp), %eax
    movl %eax, gate_seen + 20      /* old ESP */
    movl 20(%esp), %eax
    movl %eax, gate_seen + 24      /* old SS */
    popl %eax
    iret

/* Call-gate target (ring 0, 2 dword parameters): copy the new stack's frame, lret $8. */
    .globl cg_target
cg_target:
    movl %esp, gate_seen + 8
    movw %cs, gate_seen + 0
    movw %ss, gate_seen + 4
    pushl %eax
    movl 4(%esp), %eax
    movl %eax, gate_seen + 12      /* EIP */
    movl 8(%esp), %eax
    movl %eax, gate_seen + 16      /* CS */
    movl 12(%esp), %eax
    movl %eax, gate_seen + 28      /* param at the caller's top */
    movl 16(%esp), %eax
    movl %eax, gate_seen + 32      /* the one below it */
    movl 20(%esp), %eax
    movl %eax, gate_seen + 20      /* old ESP */
    movl 24(%esp), %eax
    movl %eax, gate_seen + 24      /* old SS */
    popl %eax
    /* Leave a DPL 0 selector in ES and FS: the return to ring 3 must null them. */
    pushl %eax
    movw $SEL_KDATA, %ax
    movw %ax, %es
    movw %ax, %fs
    popl %eax
    lret $8

/* Same-privilege call-gate target: no stack switch, no parameter copy. */
    .globl cg_target_same
cg_target_same:
    movl %esp, gate_seen + 8
    movw %ss, gate_seen + 4
    lret

    .section .note.GNU-stack, "", @progbits
