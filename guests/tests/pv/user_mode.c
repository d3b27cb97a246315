/*
 * Ring 3 under a PV kernel: stack_switch decides where traps from ring 3 land (a frame
 * with ESP and SS of the user context just below kernel_sp), selectors with RPL 0 are
 * fixed up to RPL 1, user-mode traps report CS = FLAT_USER_CS, and trap-style exceptions
 * resume in ring 3.
 */
#include "lib/pvtest.h"

PVTEST("user_mode", "SUCCESS", 0, "", "stack_switch and trap frames from ring 3");

#define T pvt_last_trap

static volatile uint32_t frame_top, ss_in_handler;
static int record_frame(struct pvt_frame *f)
{
    frame_top = (uint32_t)&f->ss + 4;
    ss_in_handler = x86_read_ss();
    return 0;
}

PVT_USER_TEXT static uint32_t user_ud2(uint32_t arg)
{
    PVT_TRY("ud2");
    return arg + 1;
}

PVT_USER_TEXT static uint32_t user_int3(uint32_t arg)
{
    PVT_TRY("int3");
    return arg + 2;
}

PVT_USER_TEXT static uint32_t user_esp(uint32_t arg)
{
    uint32_t esp;
    __asm__ volatile("movl %%esp, %0" : "=r"(esp));
    return esp + (arg & 0);
}

void test_main(void)
{
    uint32_t user_sp = pvt_user_call(user_esp, 0);
    CHECK_NE_QUIET(user_sp, 0);

    pvt_trap_hook = record_frame;
    pvt_trap_reset();
    CHECK_EQ(pvt_user_call(user_ud2, 1), 2);
    CHECK_EQ(T.vector, X86_EXC_UD);
    CHECK_EQ(T.from_user, 1);
    CHECK_EQ(T.cs, FLAT_USER_CS);
    CHECK_EQ(T.ss, FLAT_USER_SS);
    CHECK_EQ(T.fixed_up, 1);
    CHECK_EQ(frame_top == pvt_user_saved_esp, 1);
    CHECK_EQ(ss_in_handler, FLAT_KERNEL_SS);
    /* The user ESP at the fault: the user stack, a little below what user_esp saw. */
    CHECK_EQ(T.esp <= user_sp + 16 && T.esp > user_sp - 64, 1);

    pvt_trap_reset();
    CHECK_EQ(pvt_user_call(user_int3, 1), 3);
    CHECK_EQ(T.vector, X86_EXC_BP);
    CHECK_EQ(T.from_user, 1);
    CHECK_EQ(T.fixed_up, 2);

    /* stack_switch with an RPL-0 stack selector: Xen makes it RPL 1. */
    pvt_user_kernel_ss = FLAT_KERNEL_SS & ~3u;
    pvt_trap_reset();
    CHECK_EQ(pvt_user_call(user_ud2, 5), 6);
    CHECK_EQ(ss_in_handler, FLAT_KERNEL_SS);
    pvt_user_kernel_ss = FLAT_KERNEL_SS;
    pvt_trap_hook = 0;

    /* Directly: stack_switch always succeeds. */
    extern char pvt_stack_top[];
    CHECK_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (unsigned long)pvt_stack_top), 0);
}
