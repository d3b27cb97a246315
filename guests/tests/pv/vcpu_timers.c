/*
 * VCPUOP timers. Xen starts every PV vCPU with a 10 ms periodic timer that does not wake
 * a blocked vCPU (tickless idle) but raises VIRQ_TIMER when the vCPU runs again after a
 * period. The single-shot timer fires at its deadline; a deadline already past fires at
 * once (Xen 4.17 ignores VCPU_SSHOTTMR_future: no -ETIME). Periods under 1 ms are refused.
 * Single-shot timers are the calling vCPU's only (another vCPU: -EINVAL; a vCPU that does
 * not exist: -ENOENT). Waits are bounded polls.
 */
#include "lib/pvtest.h"

PVTEST("vcpu_timers", "SUCCESS", 0, "vcpus=2", "default periodic timer, VCPUOP singleshot/periodic timers");

#define MS 1000000ULL
/* How far the guest's extrapolated system time may trail Xen's NOW(). */
#define SKEW (1 * MS)

static unsigned count_ticks(evtchn_port_t port, uint64_t until)
{
    unsigned n = 0;
    while (pvt_poll_port(port, until)) {
        xen_evtchn_clear(pvt_shared, port);
        n++;
    }
    return n;
}

void test_main(void)
{
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 0, &port), 0);
    /* The default periodic timer: a 50 ms poll ends with the port pending. */
    CHECK_EQ(pvt_poll_port(port, pvt_now() + 50 * MS), 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0), 0);
    xen_evtchn_clear(pvt_shared, port);
    CHECK_EQ(count_ticks(port, pvt_now() + 50 * MS), 0);

    struct vcpu_set_singleshot_timer ss;
    ss.timeout_abs_ns = pvt_now() + 5 * MS;
    ss.flags = VCPU_SSHOTTMR_future;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK_EQ(pvt_poll_port(port, ss.timeout_abs_ns + 2000 * MS), 1);
    CHECK_GE_QUIET(pvt_now() + SKEW, ss.timeout_abs_ns);
    xen_evtchn_clear(pvt_shared, port);
    CHECK_EQ(count_ticks(port, pvt_now() + 30 * MS), 0);  /* one shot */

    /* A deadline in the past, with or without VCPU_SSHOTTMR_future: fires at once. */
    ss.timeout_abs_ns = pvt_now() - MS;
    ss.flags = VCPU_SSHOTTMR_future;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK_EQ(xen_evtchn_pending(pvt_shared, port), 1);
    xen_evtchn_clear(pvt_shared, port);
    ss.flags = 0;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK_EQ(xen_evtchn_pending(pvt_shared, port), 1);
    xen_evtchn_clear(pvt_shared, port);

    /* Stopped before its deadline: nothing. (No output in between: printing may take
     * longer than the deadline.) */
    ss.timeout_abs_ns = pvt_now() + 50 * MS;
    long rc_set = HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss);
    long rc_stop = HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0);
    CHECK_EQ(rc_set, 0);
    CHECK_EQ(rc_stop, 0);
    CHECK_EQ(count_ticks(port, pvt_now() + 100 * MS), 0);
    /* Another vCPU's single-shot timer; a vCPU that does not exist. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &ss), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 1, 0), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 2, &ss), -XEN_ENOENT);

    /* Periodic: under 1 ms refused; 10 ms raises VIRQ_TIMER after each 25 ms poll. */
    struct vcpu_set_periodic_timer per;
    per.period_ns = 999999;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), -XEN_EINVAL);
    per.period_ns = 10 * MS;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), 0);
    unsigned n = 0;
    for (unsigned i = 0; i < 3; i++) {
        if (pvt_poll_port(port, pvt_now() + 25 * MS)) n++;
        xen_evtchn_clear(pvt_shared, port);
    }
    CHECK_EQ(n, 3);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0), 0);
    xen_evtchn_clear(pvt_shared, port);
    CHECK_EQ(count_ticks(port, pvt_now() + 50 * MS), 0);
}
