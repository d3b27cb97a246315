/*
 * set_timer_op and VIRQ_TIMER: a one-shot deadline on Xen system time raises the vCPU's
 * VIRQ_TIMER (bound to a port) no earlier than the deadline; a deadline in the past fires
 * at once; 0 cancels. Waiting is SCHEDOP_poll on the port with a bound, so a missing timer
 * is a failed check, not a hang.
 */
#include "lib/pvtest.h"

PVTEST("timer_virq", "SUCCESS", 0, "", "set_timer_op deadlines and VIRQ_TIMER delivery");

#define MS 1000000ULL
/* How far the guest's extrapolated system time may trail Xen's NOW(). */
#define SKEW (1 * MS)

void test_main(void)
{
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 0, &port), 0);
    /* VIRQ_TIMER can be bound once per vCPU. */
    evtchn_port_t again;
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 0, &again), -XEN_EEXIST);
    /* Stop the 10 ms periodic timer Xen gives every PV vCPU, so only ours fire. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0), 0);
    xen_evtchn_clear(pvt_shared, port);
    CHECK_EQ(pvt_poll_port(port, pvt_now() + 30 * MS), 0);

    /* A deadline 10 ms ahead. */
    uint64_t deadline = pvt_now() + 10 * MS;
    CHECK_EQ(HYPERVISOR_set_timer_op(deadline), 0);
    CHECK_EQ(pvt_poll_port(port, deadline + 2000 * MS), 1);
    uint64_t t1 = pvt_now();
    /* Xen fires on its own clock; ours (TSC-extrapolated) may trail it a little. */
    CHECK_GE_QUIET(t1 + SKEW, deadline);
    pv_printf("timer event %lld us after the deadline\n", (long long)(t1 - deadline) / 1000);
    xen_evtchn_clear(pvt_shared, port);
    /* One-shot: it does not fire again. */
    CHECK_EQ(pvt_poll_port(port, pvt_now() + 30 * MS), 0);

    /* In the past: fires at once. */
    CHECK_EQ(HYPERVISOR_set_timer_op(pvt_now() - MS), 0);
    CHECK_EQ(pvt_poll_port(port, pvt_now() + 2000 * MS), 1);
    xen_evtchn_clear(pvt_shared, port);

    /* Cancelled: nothing arrives. (No output between arming and cancelling: printing can
     * take longer than the deadline.) */
    long rc_arm = HYPERVISOR_set_timer_op(pvt_now() + 50 * MS);
    long rc_cancel = HYPERVISOR_set_timer_op(0);
    CHECK_EQ(rc_arm, 0);
    CHECK_EQ(rc_cancel, 0);
    CHECK_EQ(pvt_poll_port(port, pvt_now() + 100 * MS), 0);
    xen_evtchn_clear(pvt_shared, port);

    /* Re-arming replaces the previous deadline. */
    rc_arm = HYPERVISOR_set_timer_op(pvt_now() + 10000 * MS);
    deadline = pvt_now() + 50 * MS;
    long rc_rearm = HYPERVISOR_set_timer_op(deadline);
    CHECK_EQ(rc_arm, 0);
    CHECK_EQ(rc_rearm, 0);
    CHECK_EQ(pvt_poll_port(port, deadline + 2000 * MS), 1);
    CHECK_GE_QUIET(pvt_now() + SKEW, deadline);

    /* Delivered through the event callback when unmasked. */
    pvt_upcalls = 0;
    pvt_events_unmask();
    pvt_events_mask();
    CHECK_EQ(pvt_upcalls, 1);
    CHECK_EQ(xen_evtchn_pending(pvt_shared, port), 0);
}
