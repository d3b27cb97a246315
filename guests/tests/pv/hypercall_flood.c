/*
 * Hostile: a flood of hypercalls. Tens of thousands of cheap calls, long multicalls,
 * long mmu_update and mmuext_op batches (which Xen preempts and continues transparently),
 * event sends and yields: every call gets its normal answer, batches complete with the
 * full done count, and the domain stays responsive.
 */
#include "lib/pvtest.h"

PVTEST("hypercall_flood", "SUCCESS", 1, "", "many hypercalls, long batches, continuations");

void test_main(void)
{
    long version = HYPERVISOR_xen_version(XENVER_version, 0);
    unsigned bad = 0;
    uint64_t t0 = pvt_now();
    for (unsigned i = 0; i < 50000; i++)
        if (HYPERVISOR_xen_version(XENVER_version, 0) != version) bad++;
    CHECK_EQ(bad, 0);
    pv_printf("50000 xen_version in %llu ms\n", (pvt_now() - t0) / 1000000);

    /* A 1000-entry multicall. */
    static multicall_entry_t mc[1000];
    for (unsigned i = 0; i < ARRAY_SIZE(mc); i++) {
        memset(&mc[i], 0, sizeof(mc[i]));
        mc[i].op = (i % 3) ? __HYPERVISOR_xen_version : __HYPERVISOR_sched_op;
        mc[i].args[0] = (i % 3) ? XENVER_version : SCHEDOP_yield;
        mc[i].result = 12345;
    }
    CHECK_EQ(HYPERVISOR_multicall(mc, ARRAY_SIZE(mc)), 0);
    bad = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(mc); i++)
        if ((long)mc[i].result != ((i % 3) ? version : 0)) bad++;
    CHECK_EQ(bad, 0);

    /* 4000 mmu_updates in one call, remapping one slot back and forth. */
    static struct mmu_update req[4000];
    volatile uint32_t *a = pvt_alloc_page(), *b = pvt_alloc_page(), *slot = pvt_alloc_page();
    a[0] = 1;
    b[0] = 2;
    uint64_t fl = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    uint64_t ptr = pvt_pte_maddr((unsigned long)slot) | MMU_NORMAL_PT_UPDATE;
    uint64_t pa = ((uint64_t)pvt_va_to_mfn((unsigned long)a) << 12) | fl;
    uint64_t pb = ((uint64_t)pvt_va_to_mfn((unsigned long)b) << 12) | fl;
    for (unsigned i = 0; i < ARRAY_SIZE(req); i++) {
        req[i].ptr = ptr;
        req[i].val = (i & 1) ? pb : pa;
    }
    unsigned done = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(req, ARRAY_SIZE(req), &done, DOMID_SELF), 0);
    CHECK_EQ(done, ARRAY_SIZE(req));
    pvt_flush_tlb();
    CHECK_EQ(slot[0], 2);

    /* 5000 flushes in one mmuext_op. */
    static struct mmuext_op ops[5000];
    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        memset(&ops[i], 0, sizeof(ops[i]));
        ops[i].cmd = (i & 1) ? MMUEXT_INVLPG_LOCAL : MMUEXT_TLB_FLUSH_LOCAL;
        ops[i].arg1.linear_addr = (unsigned long)slot;
    }
    done = 0;
    CHECK_EQ(HYPERVISOR_mmuext_op(ops, ARRAY_SIZE(ops), &done, DOMID_SELF), 0);
    CHECK_EQ(done, ARRAY_SIZE(ops));

    /* 10000 sends on our own IPI port and 2000 yields. */
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_ipi(0, &port), 0);
    bad = 0;
    for (unsigned i = 0; i < 10000; i++)
        if (xen_evtchn_send(port)) bad++;
    for (unsigned i = 0; i < 2000; i++)
        if (xen_yield()) bad++;
    CHECK_EQ(bad, 0);
    CHECK_EQ(xen_evtchn_pending(pvt_shared, port), 1);

    /* 20000 hypercalls that fail: the failure path is as cheap and as correct. */
    bad = 0;
    for (unsigned i = 0; i < 20000; i++)
        if (xen_hypercall(60, 0, 0, 0, 0, 0) != -XEN_ENOSYS) bad++;
    CHECK_EQ(bad, 0);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, 0), version);
}
