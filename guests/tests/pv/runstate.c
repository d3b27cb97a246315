/*
 * vCPU runstate: VCPUOP_get_runstate_info (44-byte compat layout), a registered runstate
 * area that Xen keeps current, time accumulating in the running and blocked states, and
 * a nonexistent vCPU.
 */
#include "lib/pvtest.h"

PVTEST("runstate", "SUCCESS", 0, "", "VCPUOP_get_runstate_info and runstate memory area");

static struct vcpu_runstate_info area;

void test_main(void)
{
    struct vcpu_runstate_info rs;
    memset(&rs, 0xff, sizeof(rs));
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &rs), 0);
    CHECK_EQ(rs.state, RUNSTATE_running);
    CHECK_GT_QUIET(rs.time[RUNSTATE_running], 0);
    CHECK_LE_QUIET(rs.state_entry_time, pvt_now());

    struct vcpu_register_runstate_memory_area reg;
    memset(&reg, 0, sizeof(reg));
    set_xen_guest_handle(reg.addr.h, &area);
    memset(&area, 0xff, sizeof(area));
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &reg), 0);
    CHECK_EQ(area.state, RUNSTATE_running);
    uint64_t blocked0 = area.time[RUNSTATE_blocked];
    uint64_t sum0 = area.time[0] + area.time[1] + area.time[2] + area.time[3];

    /* Sleep 30 ms in polls: the area shows blocked time once we run again, and the
     * accounted time never exceeds the time that passed. */
    uint64_t t0 = pvt_now();
    pvt_sleep_until(t0 + 30000000ULL);
    uint64_t elapsed = pvt_now() - t0;
    CHECK_EQ(area.state, RUNSTATE_running);
    uint64_t blocked = area.time[RUNSTATE_blocked] - blocked0;
    uint64_t sum = area.time[0] + area.time[1] + area.time[2] + area.time[3] - sum0;
    pv_printf("blocked for %llu us of %llu us\n", blocked / 1000, elapsed / 1000);
    CHECK_GT_QUIET(blocked, 1000000ULL);
    CHECK_LE_QUIET(sum, elapsed + 1000000ULL);
    /* The area and the hypercall agree (the hypercall is at least as recent). */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &rs), 0);
    CHECK_GE_QUIET(rs.time[RUNSTATE_blocked], area.time[RUNSTATE_blocked]);

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 1, &reg), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)0x100), -XEN_EFAULT);
    /* Unregister with a NULL area. */
    set_xen_guest_handle(reg.addr.h, 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &reg), 0);
}
