/*
 * A second vCPU (xl vcpus=2): VCPUOP_is_up, initialise with a vcpu_guest_context
 * (kernel segments, stack, CR3, callbacks), up, the vCPU running our code, down from
 * vCPU 0 (it stops) and up again (it resumes), initialise twice (-EEXIST), up before
 * initialise (-EINVAL), vCPU ids past the domain's (-ENOENT), and per-vCPU runstate.
 */
#include "lib/pvtest.h"

PVTEST("vcpu_smp", "SUCCESS", 0, "vcpus=2", "VCPUOP initialise/up/down/is_up for a second vCPU");

static volatile uint32_t v1_started, v1_counter, v1_version;
static uint8_t v1_stack[8192] __attribute__((aligned(16)));
static vcpu_guest_context_t ctx;

static void vcpu1_main(void)
{
    v1_started = 1;
    v1_version = (uint32_t)HYPERVISOR_xen_version(XENVER_version, 0);
    for (;;) {
        v1_counter++;
        __asm__ volatile("pause");
    }
}

static int wait_for(volatile uint32_t *p, uint32_t past)
{
    for (unsigned i = 0; i < 200000; i++) {
        if (*p > past) return 1;
        if ((i & 63) == 0) xen_yield();
    }
    return 0;
}

void test_main(void)
{
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, 0), 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 2, 0), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, 0), -XEN_EINVAL);  /* not initialised */

    struct vcpu_runstate_info rs;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
    CHECK_EQ(rs.state, RUNSTATE_offline);

    memset(&ctx, 0, sizeof(ctx));
    ctx.flags = VGCF_in_kernel;
    ctx.user_regs.eip = (unsigned long)vcpu1_main;
    ctx.user_regs.esp = (unsigned long)(v1_stack + sizeof(v1_stack) - 16);
    ctx.user_regs.cs = FLAT_KERNEL_CS;
    ctx.user_regs.ss = FLAT_KERNEL_SS;
    ctx.user_regs.ds = ctx.user_regs.es = FLAT_KERNEL_DS;
    ctx.user_regs.eflags = X86_EFLAGS_MBS;
    ctx.kernel_ss = FLAT_KERNEL_SS;
    ctx.kernel_sp = ctx.user_regs.esp;
    ctx.ctrlreg[3] = xen_pfn_to_cr3(pvt_l3_mfn());
    ctx.event_callback_cs = FLAT_KERNEL_CS;
    ctx.event_callback_eip = (unsigned long)pvt_event_entry;
    ctx.failsafe_callback_cs = FLAT_KERNEL_CS;
    ctx.failsafe_callback_eip = (unsigned long)pvt_failsafe_entry;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), 0);  /* initialised, still down */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EEXIST);

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, 0), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), 1);
    CHECK_EQ(wait_for(&v1_started, 0), 1);
    CHECK_EQ(wait_for(&v1_counter, 1000), 1);
    CHECK_EQ(v1_version, (uint32_t)HYPERVISOR_xen_version(XENVER_version, 0));
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
    CHECK(rs.state == RUNSTATE_running || rs.state == RUNSTATE_runnable);
    CHECK_NE(pvt_vcpu(1)->time.version, 0);

    /* Down from vCPU 0: is_up says so at once; the vCPU goes offline when Xen next
     * deschedules it (asynchronous), then stops counting. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, 0), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), 0);
    for (unsigned i = 0; i < 200; i++) {
        if (HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs) == 0 && rs.state == RUNSTATE_offline) break;
        pvt_sleep_until(pvt_now() + 10000000ULL);
    }
    uint32_t stopped_at = v1_counter;
    for (unsigned i = 0; i < 50; i++) xen_yield();
    CHECK_EQ(v1_counter == stopped_at, 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
    CHECK_EQ(rs.state, RUNSTATE_offline);

    /* Up again: it resumes where it was. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, 0), 0);
    CHECK_EQ(wait_for(&v1_counter, stopped_at + 1000), 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, 0), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 64, 0), -XEN_ENOENT);
}
