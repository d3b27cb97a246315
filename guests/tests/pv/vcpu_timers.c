/*
 * VCPUOP timers: the single-shot timer (VCPU_SSHOTTMR_future refuses a past deadline
 * with -ETIME), the periodic timer (a period under Xen's minimum is refused; a 10 ms
 * period delivers repeated VIRQ_TIMER events), stopping both, and the calling-vCPU-only
 * rule. Waits are bounded polls.
 */
#include "lib/pvtest.h"

PVTEST("vcpu_timers", "SUCCESS", 0, "", "VCPUOP singleshot and periodic timers");

#define MS 1000000ULL

/* Count timer events over a window: poll, clear, repeat. */
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
    /* No periodic timer runs by default. */
    CHECK_EQ(count_ticks(port, pvt_now() + 30 * MS), 0);

    struct vcpu_set_singleshot_timer ss;
    ss.timeout_abs_ns = pvt_now() + 5 * MS;
    ss.flags = VCPU_SSHOTTMR_future;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK_EQ(pvt_poll_port(port, ss.timeout_abs_ns + 2000 * MS), 1);
    CHECK_GE_QUIET(pvt_now(), ss.timeout_abs_ns);
    xen_evtchn_clear(pvt_shared, port);

    ss.timeout_abs_ns = pvt_now() - MS;
    ss.flags = VCPU_SSHOTTMR_future;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), -XEN_ETIME);
    ss.flags = 0;  /* without the flag a past deadline fires at once */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK_EQ(pvt_poll_port(port, pvt_now() + 2000 * MS), 1);
    xen_evtchn_clear(pvt_shared, port);

    ss.timeout_abs_ns = pvt_now() + 2 * MS;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0), 0);
    CHECK_EQ(count_ticks(port, pvt_now() + 30 * MS), 0);
    /* Only the calling vCPU's own single-shot timer. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &ss), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 1, 0), -XEN_EINVAL);

    struct vcpu_set_periodic_timer per;
    per.period_ns = 1000;  /* 1 us: under the minimum */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), -XEN_EINVAL);
    per.period_ns = 10 * MS;
    uint64_t t0 = pvt_now();
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), 0);
    unsigned n = 0;
    while (n < 3 && pvt_poll_port(port, t0 + 3000 * MS)) {
        xen_evtchn_clear(pvt_shared, port);
        n++;
    }
    CHECK_EQ(n, 3);
    CHECK_GE_QUIET(pvt_now() - t0, 20 * MS);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0), 0);
    xen_evtchn_clear(pvt_shared, port);
    CHECK_EQ(count_ticks(port, pvt_now() + 50 * MS), 0);
}
