/* Thin wrappers over EVTCHNOP_* (see evtchn.h). */
#include "evtchn.h"
#include "hypercall.h"

long xen_evtchn_send(evtchn_port_t port)
{
    struct evtchn_send op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

long xen_evtchn_close(evtchn_port_t port)
{
    struct evtchn_close op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
}

long xen_evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

long xen_evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long xen_evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi op = { .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long xen_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long xen_evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port,
                                 evtchn_port_t *port)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote, .remote_port = remote_port };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    if (rc == 0) *port = op.local_port;
    return rc;
}

long xen_evtchn_alloc_unbound_in(domid_t dom, domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = { .dom = dom, .remote_dom = remote };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long xen_evtchn_bind_pirq(uint32_t pirq, uint32_t flags, evtchn_port_t *port)
{
    struct evtchn_bind_pirq op = { .pirq = pirq, .flags = flags };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long xen_evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu op = { .port = port, .vcpu = vcpu };
    return HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &op);
}

long xen_evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *out)
{
    struct evtchn_status op = { .dom = dom, .port = port };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_status, &op);
    if (rc == 0) *out = op;
    return rc;
}

long xen_evtchn_reset(domid_t dom)
{
    struct evtchn_reset op = { .dom = dom };
    return HYPERVISOR_event_channel_op(EVTCHNOP_reset, &op);
}

long xen_evtchn_op_compat(struct evtchn_op *op)
{
    return _xen_hc1(__HYPERVISOR_event_channel_op_compat, op);
}
