/*
 * VIRQs and per-vCPU delivery in one domain with two vCPUs (vCPU 1 stays down: Xen marks
 * its vcpu_info all the same), and the per-domain port limit (xl.cfg max_event_channels).
 *   - VIRQ_TIMER binds once per vCPU; a global VIRQ binds on vCPU 0 only and may then be
 *     moved with bind_vcpu; per-vCPU VIRQs and IPIs may not move; ranges of virq/vcpu;
 *   - the timer fires VIRQ_TIMER on vCPU 0 with the 2-level order: a masked port gets its
 *     pending bit only; EVTCHNOP_unmask then sets the selector and upcall_pending;
 *   - an IPI bound to vCPU 1, and a loopback interdomain port moved to vCPU 1, mark
 *     vCPU 1's selector and upcall_pending, not vCPU 0's;
 *   - bind_pirq without access; ports run out past max_event_channels (-ENOSPC).
 *     (libxl passes max_event_channels as the highest port, so 40 allows 0..40.)
 */
#include "tests/devchan/lib/devchan.h"

PVTEST("devchan_virq", "SUCCESS", 1, "vcpus=2;max_event_channels=40", "VIRQs, per-vCPU delivery, bind_vcpu, port limit");

static struct evtchn_status st;

static long bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *p)
{
    return xen_evtchn_bind_virq(virq, vcpu, p);
}

/* Mask every port of p's word (other channels share its selector bit); returns the old mask. */
static uint32_t isolate(evtchn_port_t p)
{
    uint32_t old = pvt_shared->evtchn_mask[p / 32];
    pvt_shared->evtchn_mask[p / 32] = 0xffffffffu;
    return old;
}

static void restore(evtchn_port_t p, uint32_t old)
{
    pvt_shared->evtchn_mask[p / 32] = old | (1u << (p % 32));
}

static void virq_bindings(void)
{
    evtchn_port_t t0, t1, x, dom_exc;
    CHECK_EQ(bind_virq(VIRQ_TIMER, 0, &t0), 0);
    CHECK_EQ(bind_virq(VIRQ_TIMER, 1, &t1), 0);
    CHECK_GT(t1, t0);
    CHECK_EQ(bind_virq(VIRQ_TIMER, 0, &x), -XEN_EEXIST);
    CHECK_EQ(bind_virq(VIRQ_TIMER, 2, &x), -XEN_ENOENT);
    CHECK_EQ(bind_virq(VIRQ_TIMER, 5000, &x), -XEN_ENOENT);
    CHECK_EQ(bind_virq(NR_VIRQS, 0, &x), -XEN_EINVAL);
    CHECK_EQ(bind_virq(0xffffffffu, 0, &x), -XEN_EINVAL);
    CHECK_EQ(bind_virq(VIRQ_DEBUG, 1, &x), 0); /* per-vCPU */
    CHECK_EQ(bind_virq(VIRQ_DOM_EXC, 1, &x), -XEN_EINVAL); /* global: vCPU 0 only */
    CHECK_EQ(bind_virq(VIRQ_DOM_EXC, 0, &dom_exc), 0);
    CHECK_EQ(xen_evtchn_status(DOMID_SELF, dom_exc, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.u.virq, VIRQ_DOM_EXC);
    CHECK_EQ(st.vcpu, 0);
    CHECK_EQ(xen_evtchn_bind_vcpu(dom_exc, 1), 0);
    CHECK_EQ(xen_evtchn_status(DOMID_SELF, dom_exc, &st), 0);
    CHECK_EQ(st.vcpu, 1);
    CHECK_EQ(xen_evtchn_bind_vcpu(t1, 0), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_bind_vcpu(dom_exc, 7), -XEN_ENOENT);
    CHECK_EQ(xen_evtchn_close(dom_exc), 0);
    CHECK_EQ(bind_virq(VIRQ_DOM_EXC, 0, &dom_exc), 0); /* closing unbound it */
    CHECK_EQ(xen_evtchn_close(dom_exc), 0);
    CHECK_EQ(xen_evtchn_close(t1), 0);
    CHECK_EQ(xen_evtchn_close(x), 0);

    /* The timer: VIRQ_TIMER on a masked port raises its pending bit only. */
    xen_evtchn_mask(pvt_shared, t0);
    uint32_t old = isolate(t0);
    volatile struct vcpu_info *v0 = pvt_vcpu(0);
    xen_evtchn_clear(pvt_shared, t0);
    xen_clear_bit(t0 / 32, &v0->evtchn_pending_sel);
    v0->evtchn_upcall_pending = 0;
    CHECK_EQ(HYPERVISOR_set_timer_op(pvt_now() + 2000000), 0);
    CHECK_EQ(pvt_poll_port(t0, pvt_now() + 5000000000ull), 1);
    CHECK_EQ(xen_test_bit(t0 / 32, &v0->evtchn_pending_sel), 0);
    CHECK_EQ(xen_evtchn_unmask(t0), 0);
    CHECK_EQ(xen_test_bit(t0 / 32, &v0->evtchn_pending_sel), 1);
    CHECK_EQ(v0->evtchn_upcall_pending, 1);
    restore(t0, old);
    xen_evtchn_clear(pvt_shared, t0);
    CHECK_EQ(xen_evtchn_close(t0), 0);
    CHECK_EQ(bind_virq(VIRQ_TIMER, 0, &t0), 0); /* free again after close */
    CHECK_EQ(xen_evtchn_close(t0), 0);
}

static void other_vcpu(void)
{
    volatile struct vcpu_info *v0 = pvt_vcpu(0), *v1 = pvt_vcpu(1);
    evtchn_port_t ipi, a, b;
    CHECK_EQ(xen_evtchn_bind_ipi(1, &ipi), 0);
    CHECK_EQ(xen_evtchn_bind_ipi(2, &a), -XEN_ENOENT);
    CHECK_EQ(xen_evtchn_bind_vcpu(ipi, 0), -XEN_EINVAL);
    uint32_t old = isolate(ipi);
    pvt_shared->evtchn_mask[ipi / 32] &= ~(1u << (ipi % 32));
    xen_clear_bit(ipi / 32, &v0->evtchn_pending_sel);
    xen_clear_bit(ipi / 32, &v1->evtchn_pending_sel);
    v1->evtchn_upcall_pending = 0;
    CHECK_EQ(xen_evtchn_send(ipi), 0);
    CHECK_EQ(xen_evtchn_pending(pvt_shared, ipi), 1);
    CHECK_EQ(xen_test_bit(ipi / 32, &v1->evtchn_pending_sel), 1);
    CHECK_EQ(v1->evtchn_upcall_pending, 1);
    CHECK_EQ(xen_test_bit(ipi / 32, &v0->evtchn_pending_sel), 0);
    restore(ipi, old);
    xen_evtchn_clear(pvt_shared, ipi);
    CHECK_EQ(xen_evtchn_close(ipi), 0);

    /* A loopback pair; one end moved to vCPU 1. */
    CHECK_EQ(xen_evtchn_alloc_unbound(DOMID_SELF, &a), 0);
    CHECK_EQ(xen_evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    xen_evtchn_mask(pvt_shared, b);
    xen_evtchn_clear(pvt_shared, b);
    CHECK_EQ(xen_evtchn_bind_vcpu(a, 1), 0);
    CHECK_EQ(xen_evtchn_status(DOMID_SELF, a, &st), 0);
    CHECK_EQ(st.vcpu, 1);
    old = isolate(a);
    pvt_shared->evtchn_mask[a / 32] &= ~(1u << (a % 32));
    xen_clear_bit(a / 32, &v0->evtchn_pending_sel);
    xen_clear_bit(a / 32, &v1->evtchn_pending_sel);
    v1->evtchn_upcall_pending = 0;
    CHECK_EQ(xen_evtchn_send(b), 0);
    CHECK_EQ(xen_evtchn_pending(pvt_shared, a), 1);
    CHECK_EQ(xen_test_bit(a / 32, &v1->evtchn_pending_sel), 1);
    CHECK_EQ(v1->evtchn_upcall_pending, 1);
    CHECK_EQ(xen_test_bit(a / 32, &v0->evtchn_pending_sel), 0);
    restore(a, old);
    xen_evtchn_clear(pvt_shared, a);
    /* Closing resets the notify vCPU: a re-allocated port is on vCPU 0 again. */
    CHECK_EQ(xen_evtchn_close(a), 0);
    CHECK_EQ(xen_evtchn_close(b), 0);
    CHECK_EQ(xen_evtchn_alloc_unbound(DOMID_SELF, &a), 0);
    CHECK_EQ(xen_evtchn_status(DOMID_SELF, a, &st), 0);
    CHECK_EQ(st.vcpu, 0);
    CHECK_EQ(xen_evtchn_close(a), 0);
}

static void limits(void)
{
    evtchn_port_t p;
    CHECK_EQ(xen_evtchn_bind_pirq(1, 0, &p), -XEN_EPERM);
    CHECK_EQ(xen_evtchn_bind_pirq(0x7fffffffu, 0, &p), -XEN_EINVAL);
    /* max_event_channels=40 is libxl's max_evtchn_port: ports 0..40. */
    evtchn_port_t last = 0;
    unsigned n = 0;
    long rc;
    while ((rc = xen_evtchn_alloc_unbound(DOMID_SELF, &p)) == 0 && n < 2000) {
        last = p;
        n++;
    }
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(last, 40);
    CHECK_EQ(xen_evtchn_bind_ipi(0, &p), -XEN_ENOSPC);
    CHECK_EQ(xen_evtchn_close(last), 0);
    CHECK_EQ(xen_evtchn_bind_ipi(0, &p), 0);
    CHECK_EQ(p, last);
    CHECK_EQ(xen_evtchn_status(DOMID_SELF, 41, &st), 0); /* valid (its bucket exists), closed */
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
}

void test_main(void)
{
    devchan_init(0);
    virq_bindings();
    other_vcpu();
    limits();
}
