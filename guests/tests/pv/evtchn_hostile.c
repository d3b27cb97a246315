/*
 * Hostile: event-channel operations on ports and VIRQs that are not ours to use. Ports
 * past the 2-level limit (1024 for a 32-bit guest) or never allocated, closing port 0,
 * VIRQ numbers out of range or for a vCPU that does not exist, global VIRQs on a vCPU
 * other than 0, binding to a dom0 port that is not offered to us, pirqs, and unknown ops.
 */
#include "lib/pvtest.h"

PVTEST("evtchn_hostile", "SUCCESS", 1, "", "invalid ports, VIRQs, interdomain binds, pirqs");

void test_main(void)
{
    static const evtchn_port_t bad_ports[] = { 1023, 1024, 4096, 100000, 0xffffffffu };
    for (unsigned i = 0; i < ARRAY_SIZE(bad_ports); i++) {
        CHECK_EQ_NAMED("send", xen_evtchn_send(bad_ports[i]), -XEN_EINVAL);
        CHECK_EQ_NAMED("close", xen_evtchn_close(bad_ports[i]), -XEN_EINVAL);
        CHECK_EQ_NAMED("unmask", xen_evtchn_unmask(bad_ports[i]), -XEN_EINVAL);
    }
    CHECK_EQ(xen_evtchn_send(0), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_close(0), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_send(200), -XEN_EINVAL);  /* in range, never allocated */

    evtchn_port_t p;
    CHECK_EQ(xen_evtchn_bind_virq(NR_VIRQS, 0, &p), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_bind_virq(0xffffffffu, 0, &p), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 1, &p), -XEN_ENOENT);
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 4096, &p), -XEN_ENOENT);
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_DEBUG, 1, &p), -XEN_ENOENT);  /* the vCPU is checked first */
    CHECK_EQ(xen_evtchn_bind_ipi(3, &p), -XEN_ENOENT);

    /* dom0's port 1 is not an unbound port offered to us. */
    CHECK_EQ(xen_evtchn_bind_interdomain(0, 1, &p), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_bind_interdomain(0, 5000, &p), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_bind_interdomain(31000, 1, &p), -XEN_ESRCH);
    /* Our console port is already bound: not bindable again. */
    CHECK_EQ(xen_evtchn_bind_interdomain(DOMID_SELF, pvt_si->console.domU.evtchn, &p), -XEN_EINVAL);

    struct evtchn_bind_pirq bp = { .pirq = 1, .flags = 0 };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &bp), -XEN_EPERM);

    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_send, (void *)0x100), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_event_channel_op(99, &bp), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &bp), -XEN_EOPNOTSUPP);  /* 2-level */

    /* The console still works after all that. */
    CHECK_EQ(xen_evtchn_send(pvt_si->console.domU.evtchn), 0);
}
