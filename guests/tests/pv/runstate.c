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
    /* Entered the running state in the past: on Xen's clock, which the guest's
     * TSC-extrapolated reading may trail by a fraction of a millisecond. */
    CHECK_LE_QUIET(rs.state_entry_time, pvt_now() + 1000000ULL);

    struct vcpu_register_runstate_memory_area reg;
    memset(&reg, 0, sizeof(reg));
    set_xen_guest_handle(reg.addr.h, &area);
    memset(&area, 0xff, sizeof(area));
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &reg), 0);
    CHECK_EQ(area.state, RUNSTATE_running);
    uint64_t blocked0 = area.time[RUNSTATE_blocked];

    /* Block until a Xen timer 30 ms ahead (Xen's clock, not ours: under QEMU's TCG the
     * guest's TSC-extrapolated time drifts from Xen's): the area shows the blocked time
     * once we run again. */
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 0, &port), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0), 0);
    xen_evtchn_clear(pvt_shared, port);
    uint64_t t0 = pvt_now();
    CHECK_EQ(HYPERVISOR_set_timer_op(t0 + 30000000ULL), 0);
    CHECK_EQ(pvt_poll_port(port, t0 + 5000000000ULL), 1);
    CHECK_EQ(area.state, RUNSTATE_running);
    uint64_t blocked = area.time[RUNSTATE_blocked] - blocked0;
    pv_printf("blocked for %llu us\n", blocked / 1000);
    CHECK_GT_QUIET(blocked, 15000000ULL);
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
