/*
 * Trap entry for bare-metal test kernels (see trap.h).
 *
 * Each of the 256 vectors has a 16-byte stub at trap_stubs + 16 * vector that pushes a
 * zero error code where the CPU pushes none (so every frame has the same shape), the
 * vector number, and jumps to trap_common. trap_common saves the data segment registers
 * and the general registers, loads the kernel data segments (an interrupt from v86 mode
 * or ring 3 arrives with user or null selectors), calls trap_dispatch(frame) and returns
 * with iret to whatever the frame says (the handler may have edited it).
 */
#include "bare/desc.h"
#include "bare/trap.h"

    .text
    .align 16
    .globl trap_stubs
trap_stubs:
    .set vec, 0
    .rept 256
    .align 16
    /* Exceptions that push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17)
    .else
    pushl $0
    .endif
    pushl $vec
    jmp trap_common
    .set vec, vec + 1
    .endr

    .globl trap_common
trap_common:
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    pushal
    movw $SEL_KDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    cld
    pushl %esp
    call trap_dispatch
    addl $4, %esp
    popal
    popl %gs
    popl %fs
    popl %es
    popl %ds
    addl $8, %esp            /* vector, error code */
    iret

/*
 * uint32_t ring_call(int ring, uint32_t (*fn)(uint32_t), uint32_t arg, uint32_t eflags)
 * Saves the callee-saved registers and ESP, then irets to ring_tramp at CPL `ring`.
 */
    .globl ring_call
ring_call:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    pushfl                       /* the kernel's flags come back unchanged (IF, DF, AC) */
    movl %esp, ring_saved_esp
    movl 24(%esp), %ecx          /* ring */
    movl 28(%esp), %eax          /* fn */
    movl 32(%esp), %edx          /* arg */
    movl 36(%esp), %ebx          /* eflags */
    andl $~0x20000, %ebx         /* never VM */
    movzwl ring_ss_sel(,%ecx,2), %esi
    movzwl ring_cs_sel(,%ecx,2), %edi
    movl ring_stack_top(,%ecx,4), %ebp
    movw %si, %ds                /* data segments the outer ring may keep */
    movw %si, %es
    movw %si, %fs
    movw %si, %gs
    pushl %esi                   /* SS */
    pushl %ebp                   /* ESP */
    pushl %ebx                   /* EFLAGS */
    pushl %edi                   /* CS */
    pushl $ring_tramp            /* EIP */
    iret

ring_tramp:
    pushl %edx
    call *%eax
    addl $4, %esp
    int $RING_RETURN_VECTOR

/* INT 0x30 lands here on the ring-0 trap stack; abandon that frame and return. */
    .globl ring_return
ring_return:
    movw $SEL_KDATA, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movw %cx, %ss
    movl ring_saved_esp, %esp
    popfl
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

/*
 * The double-fault task. It starts here with the #DF error code on its stack; the
 * handler fixes the interrupted task's saved EIP (or ends the test), then iret (NT is
 * set) switches back. The next #DF resumes after the iret, hence the loop.
 */
    .globl df_task_entry
df_task_entry:
    movl (%esp), %eax
    addl $4, %esp
    pushl %eax
    call trap_double_fault
    addl $4, %esp
    iret
    jmp df_task_entry

    .data
    .align 4
ring_saved_esp: .long 0
ring_cs_sel: .word SEL_KCODE, SEL_R1CODE, SEL_R2CODE, SEL_UCODE
ring_ss_sel: .word SEL_KDATA, SEL_R1DATA, SEL_R2DATA, SEL_UDATA
    .section .note.GNU-stack, "", @progbits
