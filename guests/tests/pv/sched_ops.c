/*
 * sched_op and sched_op_compat: yield, block (returns at once with an event pending),
 * poll (returns at once when a listed port is pending; otherwise sleeps until the
 * timeout, measured on Xen system time), shutdown_code latching a reason without
 * stopping, and the compat forms.
 */
#include "lib/pvtest.h"

PVTEST("sched_ops", "SUCCESS", 0, "", "SCHEDOP yield/block/poll/shutdown_code, sched_op_compat");

void test_main(void)
{
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_yield, 0), 0);
    CHECK_EQ(HYPERVISOR_sched_op_compat(SCHEDOP_yield, 0), 0);

    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_ipi(0, &port), 0);

    /* block with the port pending (events masked by the port, not the vCPU). */
    xen_evtchn_mask(pvt_shared, port);
    CHECK_EQ(xen_evtchn_send(port), 0);
    CHECK_EQ(xen_evtchn_unmask(port), 0);  /* re-raises: upcall pending */
    pvt_set_event_handler(port, 0);
    CHECK_EQ(xen_block(), 0);             /* returns: an event was pending */
    pvt_events_mask();
    CHECK_EQ(pvt_upcalls, 1);

    /* poll: port pending -> immediate. */
    xen_evtchn_mask(pvt_shared, port);
    CHECK_EQ(xen_evtchn_send(port), 0);
    struct sched_poll poll;
    evtchn_port_t ports[1] = { port };
    set_xen_guest_handle(poll.ports, ports);
    poll.nr_ports = 1;
    poll.timeout = 0;
    uint64_t t0 = pvt_now();
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
    CHECK_LT_QUIET(pvt_now() - t0, 500000000ULL);
    xen_evtchn_clear(pvt_shared, port);

    /* poll: nothing pending -> sleeps until the timeout (20 ms). Any event for the vCPU
     * (the console backend's, say) may end it early, so poll again until then; it
     * returns 0 either way and the port stays clear. */
    t0 = pvt_now();
    CHECK_EQ(pvt_poll_port(port, t0 + 20000000ULL), 0);
    CHECK_GE_QUIET(pvt_now() - t0, 20000000ULL);
    /* A timeout in the past returns at once; no ports at all is a plain timed sleep. */
    poll.timeout = 1;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
    poll.nr_ports = 0;
    poll.timeout = pvt_now() + 5000000ULL;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
    t0 = pvt_now();
    pvt_sleep_until(t0 + 5000000ULL);
    CHECK_GE_QUIET(pvt_now() - t0, 5000000ULL);

    /* shutdown_code latches a reason; the domain keeps running. */
    struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &sd), 0);

    /* Unknown commands. */
    CHECK_EQ(HYPERVISOR_sched_op(99, 0), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_sched_op_compat(99, 0), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_sched_op_compat(SCHEDOP_poll, 0), -XEN_ENOSYS);
}
