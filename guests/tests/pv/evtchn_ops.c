/*
 * Event-channel operations within one domain: alloc_unbound and bind_interdomain to
 * ourselves (a loopback pair: sending on either end raises the other), EVTCHNOP_status
 * for each kind of port, bind_vcpu, closing one end (the other reverts to unbound; sends on it are dropped), the
 * old event_channel_op_compat form, and ports that are not (or no longer) bound.
 */
#include "lib/pvtest.h"

PVTEST("evtchn_ops", "SUCCESS", 0, "", "loopback interdomain channel, status, close, compat form");

static long status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

void test_main(void)
{
    volatile shared_info_t *s = pvt_shared;
    struct evtchn_status st;
    evtchn_port_t a, b, ipi, virq;

    CHECK_EQ(xen_evtchn_alloc_unbound(DOMID_SELF, &a), 0);
    CHECK_EQ(status(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.vcpu, 0);

    CHECK_EQ(xen_evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    CHECK_NE(a, b);
    CHECK_EQ(status(b, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.port, a);
    CHECK_EQ(status(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.port, b);

    xen_evtchn_mask(s, a);
    xen_evtchn_mask(s, b);
    /* Binding raises the new local port once (notifications sent to the unbound port
     * could have been lost). */
    CHECK_EQ(xen_evtchn_pending(s, b), 1);
    CHECK_EQ(xen_evtchn_pending(s, a), 0);
    xen_evtchn_clear(s, b);
    CHECK_EQ(xen_evtchn_send(b), 0);
    CHECK_EQ(xen_evtchn_pending(s, a), 1);
    CHECK_EQ(xen_evtchn_pending(s, b), 0);
    CHECK_EQ(xen_evtchn_send(a), 0);
    CHECK_EQ(xen_evtchn_pending(s, b), 1);

    CHECK_EQ(xen_evtchn_bind_ipi(0, &ipi), 0);
    CHECK_EQ(status(ipi, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 0, &virq), 0);
    CHECK_EQ(status(virq, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.u.virq, VIRQ_TIMER);
    CHECK_EQ(status(0, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    CHECK_EQ(status(pvt_si->console.domU.evtchn, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, 0);

    /* bind_vcpu: interdomain ports may move; per-vCPU kinds (IPI, VIRQ_TIMER) may not. */
    struct evtchn_bind_vcpu bv = { .port = b, .vcpu = 0 };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), 0);
    bv.port = ipi;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -XEN_EINVAL);
    bv.port = b;
    bv.vcpu = 5;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -XEN_ENOENT);

    /* Closing b leaves a unbound (waiting for us again). */
    CHECK_EQ(xen_evtchn_close(b), 0);
    CHECK_EQ(status(b, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    CHECK_EQ(status(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(xen_evtchn_close(b), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_send(a), 0);  /* unbound: the notification is dropped */

    /* The old form: a pointer to {cmd, union}. */
    struct evtchn_op op;
    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_send;
    op.u.send.port = ipi;
    CHECK_EQ(xen_hypercall(__HYPERVISOR_event_channel_op_compat, (long)&op, 0, 0, 0, 0), 0);
    CHECK_EQ(xen_evtchn_pending(s, ipi), 1);

    CHECK_EQ(xen_evtchn_close(a), 0);
    CHECK_EQ(xen_evtchn_close(ipi), 0);
    CHECK_EQ(xen_evtchn_close(virq), 0);
    CHECK_EQ(HYPERVISOR_event_channel_op(99, &op), -XEN_ENOSYS);
}
