/*
 * callback_op and nmi_op for a 32-bit PV guest of a 64-bit Xen (compat): which callback
 * types register (event, failsafe, syscall32, sysenter, NMI) and which do not (the
 * 64-bit-only syscall type, unknown types), unregistering (only NMI may be), unknown
 * commands, bad pointers; set_callbacks always succeeds.
 */
#include "lib/pvtest.h"

PVTEST("callback_op", "SUCCESS", 0, "", "CALLBACKOP_register/unregister per type, nmi_op");

static long reg(unsigned type, unsigned flags, unsigned long eip)
{
    struct callback_register r;
    memset(&r, 0, sizeof(r));
    r.type = (uint16_t)type;
    r.flags = (uint16_t)flags;
    r.address.cs = FLAT_KERNEL_CS;
    r.address.eip = eip;
    return HYPERVISOR_callback_op(CALLBACKOP_register, &r);
}

static long unreg(unsigned type)
{
    struct callback_unregister u;
    memset(&u, 0, sizeof(u));
    u.type = (uint16_t)type;
    return HYPERVISOR_callback_op(CALLBACKOP_unregister, &u);
}

static volatile unsigned hits;
static void on_ipi(evtchn_port_t p) { (void)p; hits++; }

void test_main(void)
{
    unsigned long ev = (unsigned long)pvt_event_entry, fs = (unsigned long)pvt_failsafe_entry;
    CHECK_EQ(reg(CALLBACKTYPE_event, 0, ev), 0);
    CHECK_EQ(reg(CALLBACKTYPE_failsafe, CALLBACKF_mask_events, fs), 0);
    CHECK_EQ(reg(CALLBACKTYPE_failsafe, 0, fs), 0);
    CHECK_EQ(reg(CALLBACKTYPE_syscall, 0, ev), -XEN_ENOSYS);
    CHECK_EQ(reg(CALLBACKTYPE_syscall32, 0, ev), 0);
    CHECK_EQ(reg(CALLBACKTYPE_sysenter, CALLBACKF_mask_events, ev), 0);
    CHECK_EQ(reg(CALLBACKTYPE_sysenter_deprecated, 0, ev), -XEN_ENOSYS);
    CHECK_EQ(reg(CALLBACKTYPE_nmi, 0, ev), 0);
    CHECK_EQ(reg(6, 0, ev), -XEN_ENOSYS);
    CHECK_EQ(reg(99, 0, ev), -XEN_ENOSYS);

    CHECK_EQ(unreg(CALLBACKTYPE_event), -XEN_EINVAL);
    CHECK_EQ(unreg(CALLBACKTYPE_failsafe), -XEN_EINVAL);
    CHECK_EQ(unreg(CALLBACKTYPE_syscall32), -XEN_EINVAL);
    CHECK_EQ(unreg(CALLBACKTYPE_sysenter), -XEN_EINVAL);
    CHECK_EQ(unreg(CALLBACKTYPE_nmi), 0);
    CHECK_EQ(unreg(CALLBACKTYPE_syscall), -XEN_ENOSYS);
    CHECK_EQ(unreg(99), -XEN_ENOSYS);

    CHECK_EQ(HYPERVISOR_callback_op(2, 0), -XEN_EINVAL);
    /* Unmapped (page 0). The read-only M2P would be a readable argument, not a fault. */
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, (void *)0x100), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_unregister, 0), -XEN_EFAULT);

    /* The event callback registered through callback_op is the one used. */
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_ipi(0, &port), 0);
    pvt_set_event_handler(port, on_ipi);
    CHECK_EQ(xen_evtchn_send(port), 0);
    pvt_events_unmask();
    pvt_events_mask();
    CHECK_EQ(hits, 1);

    /* nmi_op: register and unregister the NMI handler; unknown command. */
    struct xennmi_callback cb = { .handler_address = ev, .pad = 0 };
    CHECK_EQ(HYPERVISOR_nmi_op(XENNMI_register_callback, &cb), 0);
    CHECK_EQ(HYPERVISOR_nmi_op(XENNMI_unregister_callback, 0), 0);
    CHECK_EQ(HYPERVISOR_nmi_op(7, 0), -XEN_ENOSYS);

    /* set_callbacks returns 0 whatever it is given. */
    CHECK_EQ(HYPERVISOR_set_callbacks(FLAT_KERNEL_CS, ev, FLAT_KERNEL_CS, fs), 0);
}
