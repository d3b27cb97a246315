/*
 * Event delivery to a PV kernel: set_callbacks, the 2-level pending/mask/selector
 * protocol, the upcall frame (EIP of the interrupted code, CS with the saved mask, events
 * masked inside the callback), masking by evtchn_upcall_mask and by a port's mask bit,
 * EVTCHNOP_unmask re-raising a pending port, and SCHEDOP_block waking on an event.
 */
#include "lib/pvtest.h"

PVTEST("events", "SUCCESS", 0, "", "event callback, upcall frame, masking, unmask, block");

static volatile unsigned handled;
static void on_ipi(evtchn_port_t p) { (void)p; handled++; }

void test_main(void)
{
    volatile shared_info_t *s = pvt_shared;
    volatile struct vcpu_info *v = pvt_vcpu(0);
    evtchn_port_t port = 0;
    CHECK_EQ(xen_evtchn_bind_ipi(0, &port), 0);
    CHECK_NE(port, 0);
    pvt_set_event_handler(port, on_ipi);
    unsigned w = port / 32, b = port % 32;

    /* Masked by evtchn_upcall_mask: pending and selector set, no upcall. */
    CHECK_EQ(v->evtchn_upcall_mask, 1);
    CHECK_EQ(xen_evtchn_send(port), 0);
    CHECK_EQ((s->evtchn_pending[w] >> b) & 1, 1);
    CHECK_EQ((v->evtchn_pending_sel >> w) & 1, 1);
    CHECK_EQ(v->evtchn_upcall_pending, 1);
    CHECK_EQ(pvt_upcalls, 0);

    /* Unmask: the upcall is taken on the next return from Xen. */
    pvt_events_unmask();
    pvt_events_mask();
    CHECK_EQ(pvt_upcalls, 1);
    CHECK_EQ(handled, 1);
    CHECK_EQ((s->evtchn_pending[w] >> b) & 1, 0);
    CHECK_EQ(v->evtchn_upcall_pending, 0);
    CHECK_EQ(pvt_last_upcall.cs, FLAT_KERNEL_CS);
    CHECK_EQ(pvt_last_upcall.saved_mask, 0);
    CHECK_NE(pvt_last_upcall.eflags & X86_EFLAGS_IF, 0);
    CHECK_EQ(pvt_last_upcall.handler_cs, FLAT_KERNEL_CS);
    CHECK_EQ(pvt_last_upcall.mask_in_handler, 1);

    /* A send while unmasked is delivered at once, right after the hypercall returns. */
    pvt_vcpu(0)->evtchn_upcall_mask = 0;
    CHECK_EQ(xen_evtchn_send(port), 0);
    pvt_events_mask();
    CHECK_EQ(handled, 2);

    /* Port masked: only the pending bit; unmask re-raises it. Every other port is
     * masked meanwhile too, so the console backend's notifications (asynchronous, and
     * in the same selector word) cannot set the selector or the upcall flag. */
    uint32_t saved_mask[32];
    for (unsigned i = 0; i < 32; i++) {
        saved_mask[i] = s->evtchn_mask[i];
        s->evtchn_mask[i] = 0xffffffffu;
    }
    v->evtchn_upcall_pending = 0;
    v->evtchn_pending_sel = 0;
    CHECK_EQ(xen_evtchn_send(port), 0);
    CHECK_EQ((s->evtchn_pending[w] >> b) & 1, 1);
    CHECK_EQ((v->evtchn_pending_sel >> w) & 1, 0);
    CHECK_EQ(v->evtchn_upcall_pending, 0);
    CHECK_EQ(xen_evtchn_unmask(port), 0);
    CHECK_EQ(s->evtchn_mask[w] >> b & 1, 0);
    CHECK_EQ((v->evtchn_pending_sel >> w) & 1, 1);
    CHECK_EQ(v->evtchn_upcall_pending, 1);
    for (unsigned i = 0; i < 32; i++) s->evtchn_mask[i] = saved_mask[i];
    pvt_events_unmask();
    pvt_events_mask();
    CHECK_EQ(handled, 3);

    /* Sending twice before delivery is one event (the pending bit is a bit). */
    CHECK_EQ(xen_evtchn_send(port), 0);
    CHECK_EQ(xen_evtchn_send(port), 0);
    pvt_events_unmask();
    pvt_events_mask();
    CHECK_EQ(handled, 4);

    /* SCHEDOP_block returns at once when an event is pending, and unmasks events. */
    CHECK_EQ(xen_evtchn_send(port), 0);
    CHECK_EQ(xen_block(), 0);
    CHECK_EQ(v->evtchn_upcall_mask, 0);
    pvt_events_mask();
    CHECK_EQ(handled, 5);

    /* The callback registered with RPL 0 runs with RPL 1 (Xen fixes the selector). */
    CHECK_EQ(HYPERVISOR_set_callbacks(FLAT_KERNEL_CS & ~3, (unsigned long)pvt_event_entry,
                                      FLAT_KERNEL_CS, (unsigned long)pvt_failsafe_entry),
             0);
    CHECK_EQ(xen_evtchn_send(port), 0);
    pvt_events_unmask();
    pvt_events_mask();
    CHECK_EQ(handled, 6);
    CHECK_EQ(pvt_last_upcall.handler_cs, FLAT_KERNEL_CS);

    CHECK_EQ(xen_evtchn_close(port), 0);
    CHECK_EQ(xen_evtchn_send(port), -XEN_EINVAL);
}
