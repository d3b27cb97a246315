/*
 * Hostile: an iret hypercall frame whose stack selector the CPU refuses. Xen takes the
 * frame as given (forcing only the RPL), so its own return to the guest (iretq) faults on
 * the null SS; Xen reflects the #GP to the guest, which sees it arrive from the
 * iret's target context with error code 0, on the stack_switch stack.
 */
#include "lib/pvtest.h"

PVTEST("iret_bad_selector", "SUCCESS", 1, "", "iret hypercall to ring 3 with a null SS");

#define T pvt_last_trap

static volatile uint32_t resume_at, saved_esp;
static volatile uint32_t seen_cs, seen_eip, seen_ss, frame_top;

/* Back to the kernel code after the iret, in ring 1. */
static int recover(struct pvt_frame *f)
{
    if (f->vector != X86_EXC_GP) return 0;
    seen_cs = f->cs & 0xffff;
    seen_eip = f->eip;
    seen_ss = (f->cs & 3) == 3 ? (f->ss & 0xffff) : 0xffff;
    frame_top = (f->cs & 3) == 3 ? (uint32_t)&f->ss + 4 : (uint32_t)&f->esp;
    f->eip = resume_at;
    f->cs = FLAT_KERNEL_CS;
    f->eflags = X86_EFLAGS_MBS;
    return 1;
}

PVT_USER_TEXT static void user_target(void)
{
    for (;;) __asm__ volatile("pause");
}

static uint8_t trap_stack[4096] __attribute__((aligned(16)));

void test_main(void)
{
    uint32_t kstack = (uint32_t)(trap_stack + sizeof(trap_stack));
    CHECK_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, kstack), 0);
    pvt_trap_hook = recover;
    pvt_trap_reset();
    __asm__ volatile("movl %%esp, %[sv]\n"
                     "movl $1f, %[r]\n"
                     "pushl $3\n"            /* SS: null selector, RPL 3 */
                     "pushl %[usp]\n"
                     "pushl $2\n"            /* EFLAGS */
                     "pushl %[cs]\n"
                     "pushl %[eip]\n"
                     "jmp hypercall_page + %c[slot]\n"
                     "1: movl %[sv], %%esp\n"
                     : [sv] "=m"(saved_esp), [r] "=m"(resume_at)
                     : [usp] "r"(pvt_user_saved_esp ? pvt_user_saved_esp : kstack), [cs] "i"(FLAT_USER_CS),
                       [eip] "r"(user_target), [slot] "i"(__HYPERVISOR_iret * 32)
                     : "memory", "eax", "cc");
    pvt_trap_hook = 0;
    pv_printf("null SS: vector %u error code %x cs %x eip %x ss %x\n", T.vector, T.error_code,
              seen_cs, seen_eip, seen_ss);
    CHECK_EQ(T.vector, X86_EXC_GP);
    CHECK_EQ(T.error_code, 0);
    CHECK_EQ(seen_cs, FLAT_USER_CS);
    CHECK_EQ(seen_eip == (uint32_t)user_target, 1);
    CHECK_EQ(seen_ss, 3);
    CHECK_EQ(frame_top == kstack, 1);
    CHECK_EQ(x86_read_cs(), FLAT_KERNEL_CS);
}
