/*
 * Hostile: exhausting the domain's event channels. alloc_unbound until Xen refuses: the
 * refusal is -ENOSPC once every port up to the domain's limit (xl's default
 * max_event_channels, 1023) is in use; ports are handed out lowest-free first; after
 * closing them all, allocation works again and reuses the lowest port.
 */
#include "lib/pvtest.h"

PVTEST("evtchn_exhaustion", "SUCCESS", 1, "", "allocate event channels until -ENOSPC, then recover");

static evtchn_port_t ports[1100];

void test_main(void)
{
    unsigned n = 0;
    long rc = 0;
    evtchn_port_t p;
    while (n < ARRAY_SIZE(ports) && (rc = xen_evtchn_alloc_unbound(DOMID_SELF, &p)) == 0)
        ports[n++] = p;
    pv_printf("allocated %u ports, %u..%u, then rc %ld\n", n, n ? ports[0] : 0, n ? ports[n - 1] : 0, rc);
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(ports[n - 1], 1023);
    unsigned ascending = 1;
    for (unsigned i = 1; i < n; i++)
        if (ports[i] != ports[i - 1] + 1) ascending = 0;
    CHECK_EQ(ascending, 1);
    /* Everything else fails the same way while the table is full. */
    CHECK_EQ(xen_evtchn_bind_ipi(0, &p), -XEN_ENOSPC);
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 0, &p), -XEN_ENOSPC);
    /* The console still works (its port was bound before). */
    CHECK_EQ(xen_evtchn_send(pvt_si->console.domU.evtchn), 0);

    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++)
        if (xen_evtchn_close(ports[i])) bad++;
    CHECK_EQ(bad, 0);
    CHECK_EQ(xen_evtchn_alloc_unbound(DOMID_SELF, &p), 0);
    CHECK_EQ(p, ports[0]);
    CHECK_EQ(xen_evtchn_close(p), 0);
}
