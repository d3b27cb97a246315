/*
 * An I/O-bound guest: it offers dom0 an unbound event channel, prints its number, then
 * blocks; each event it receives is echoed straight back from the upcall (one
 * EVTCHNOP_send), and it blocks again. Its CPU use is tiny; what matters is how soon after
 * dom0's notification the echo comes back (the test reads both times).
 */
#include "tests/pv/lib/pvtest.h"

PVTEST("sched-echo", "SUCCESS", 0, "", "echo every event on an unbound port back to dom0");

static volatile uint32_t echoes;

static void on_event(evtchn_port_t port)
{
    xen_evtchn_send(port);
    echoes++;
}

void test_main(void)
{
    evtchn_port_t port = 0;
    long rc = xen_evtchn_alloc_unbound(0, &port);
    if (rc != 0) pvtest_error("alloc_unbound: %ld", rc);
    pvt_set_event_handler(port, on_event);
    pv_printf("ECHO port=%u\n", port);
    for (;;) {
        /* SCHEDOP_block unmasks events; the upcall runs as the hypercall returns. */
        xen_block();
        pvt_events_mask();
    }
}
