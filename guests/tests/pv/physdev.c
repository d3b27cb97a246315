/*
 * physdev_op basics for an unprivileged PV domain: the virtual IOPL gating cli/sti
 * (accepted as no-ops), IRQ queries and operations on IRQs the domain does not
 * own, the old physdev_op_compat form, and unknown commands.
 */
#include "lib/pvtest.h"

PVTEST("physdev", "SUCCESS", 0, "", "PHYSDEVOP set_iopl/irq ops, cli/sti under vIOPL, compat form");

#define T pvt_last_trap

void test_main(void)
{
    volatile struct vcpu_info *v = pvt_vcpu(0);
    /* IOPL 0: cli and sti are #GP. */
    pvt_trap_reset();
    PVT_TRY("sti");
    CHECK_EQ(T.vector, X86_EXC_GP);

    /* IOPL 1: cli and sti are accepted as no-ops; the event mask does not change. */
    struct physdev_set_iopl iopl = { .iopl = 1 };
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    pvt_trap_reset();
    __asm__ volatile("sti" ::: "memory");
    CHECK_EQ(T.count, 0);
    CHECK_EQ(v->evtchn_upcall_mask, 1);
    v->evtchn_upcall_mask = 0;
    __asm__ volatile("cli" ::: "memory");
    CHECK_EQ(v->evtchn_upcall_mask, 0);
    v->evtchn_upcall_mask = 1;
    iopl.iopl = 0;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);

    /* IRQ status of an IRQ we do not have. */
    struct physdev_irq_status_query q = { .irq = 1 };
    long rc = HYPERVISOR_physdev_op(PHYSDEVOP_irq_status_query, &q);
    pv_printf("irq_status_query(1) rc %ld flags %x\n", rc, q.flags);
    CHECK_EQ(rc, 0);
    q.irq = 100000;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_irq_status_query, &q), -XEN_EINVAL);
    struct physdev_eoi eoi = { .irq = 1 };
    rc = HYPERVISOR_physdev_op(PHYSDEVOP_eoi, &eoi);
    pv_printf("eoi(1) rc %ld\n", rc);
    CHECK_EQ(rc, -XEN_EINVAL);
    struct physdev_map_pirq mp;
    memset(&mp, 0, sizeof(mp));
    mp.domid = DOMID_SELF;
    mp.type = MAP_PIRQ_TYPE_GSI;
    mp.index = 5;
    mp.pirq = -1;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_map_pirq, &mp), -XEN_EPERM);

    /* The compat form: one pointer to {cmd, union}. */
    struct physdev_op op;
    memset(&op, 0, sizeof(op));
    op.cmd = PHYSDEVOP_set_iopl;
    op.u.set_iopl.iopl = 1;
    CHECK_EQ(xen_hypercall(__HYPERVISOR_physdev_op_compat, (long)&op, 0, 0, 0, 0), 0);
    op.u.set_iopl.iopl = 0;
    CHECK_EQ(xen_hypercall(__HYPERVISOR_physdev_op_compat, (long)&op, 0, 0, 0, 0), 0);

    CHECK_EQ(HYPERVISOR_physdev_op(999, &op), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, (void *)0x100), -XEN_EFAULT);
}
