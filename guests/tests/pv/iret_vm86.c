/*
 * Hostile: an iret hypercall frame with EFLAGS.VM set. A 32-bit guest of a 64-bit Xen
 * has no virtual-8086 mode; Xen answers with #GP instead of returning: it moves the frame
 * (EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS) onto the kernel stack (stack_switch) below
 * an error code of 0 and enters the guest's #GP handler, as if the first VM86 instruction
 * had faulted.
 */
#include "lib/pvtest.h"

PVTEST("iret_vm86", "SUCCESS", 1, "", "iret hypercall with EFLAGS.VM becomes #GP");

static volatile uint32_t resume_at, saved_esp, frame_eflags, frame_cs, frame_eip, frame_at;
static volatile uint32_t frame_words[6];

static int recover(struct pvt_frame *f)
{
    if (f->vector != X86_EXC_GP) return 0;
    frame_eflags = f->eflags;
    frame_cs = f->cs & 0xffff;
    frame_eip = f->eip;
    frame_at = (uint32_t)&f->error_code;
    const uint32_t *w = &f->esp;  /* ESP, SS, ES, DS, FS, GS of the VM86 frame */
    for (unsigned i = 0; i < 6; i++) frame_words[i] = w[i];
    f->eip = resume_at;
    f->cs = FLAT_KERNEL_CS;
    f->eflags = X86_EFLAGS_MBS;
    return 1;
}

static uint8_t kstack[4096] __attribute__((aligned(16)));

void test_main(void)
{
    uint32_t ksp = (uint32_t)(kstack + sizeof(kstack));
    CHECK_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, ksp), 0);
    pvt_trap_hook = recover;
    pvt_trap_reset();
    __asm__ volatile("movl %%esp, %[sv]\n"
                     "movl $1f, %[r]\n"
                     "pushl $0x4444\n"       /* GS */
                     "pushl $0x3333\n"       /* FS */
                     "pushl $0x2222\n"       /* DS */
                     "pushl $0x1111\n"       /* ES */
                     "pushl $0x9000\n"       /* SS */
                     "pushl $0xfffe\n"       /* ESP */
                     "pushl $0x20202\n"      /* EFLAGS: VM | IF */
                     "pushl $0x8000\n"       /* CS */
                     "pushl $0x0100\n"       /* EIP */
                     "jmp hypercall_page + %c[slot]\n"
                     "1: movl %[sv], %%esp\n"
                     : [sv] "=m"(saved_esp), [r] "=m"(resume_at)
                     : [slot] "i"(__HYPERVISOR_iret * 32)
                     : "memory", "eax", "cc");
    pvt_trap_hook = 0;
    pv_printf("vm86 iret: vector %u ec %x eip %x cs %x eflags %x\n", pvt_last_trap.vector,
              pvt_last_trap.error_code, frame_eip, frame_cs, frame_eflags);
    CHECK_EQ(pvt_last_trap.vector, X86_EXC_GP);
    CHECK_EQ(pvt_last_trap.error_code, 0);
    CHECK_EQ(frame_eip, 0x0100);
    CHECK_EQ(frame_cs, 0x8000);
    CHECK_NE(frame_eflags & X86_EFLAGS_VM, 0);
    CHECK_EQ(frame_words[0], 0xfffe);
    CHECK_EQ(frame_words[1], 0x9000);
    CHECK_EQ(frame_words[2], 0x1111);
    CHECK_EQ(frame_words[3], 0x2222);
    CHECK_EQ(frame_words[4], 0x3333);
    CHECK_EQ(frame_words[5], 0x4444);
    /* The frame sits 40 bytes below kernel_sp: error code + 9 words. */
    CHECK_EQ(frame_at == ksp - 40, 1);
    CHECK_EQ(x86_read_cs(), FLAT_KERNEL_CS);
}
