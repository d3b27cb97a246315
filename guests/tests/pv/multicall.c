/*
 * multicall: a batch of different hypercalls, each entry's own result written back
 * (success values, -ENOSYS for an unknown op, -EFAULT for a bad argument), the call's own
 * result 0, 64-bit arguments split over two slots (update_va_mapping), a nested multicall
 * refused, an empty batch, and a batch whose entry array is unreadable.
 */
#include "lib/pvtest.h"

PVTEST("multicall", "SUCCESS", 0, "", "multicall batches and per-entry results");

static void entry(multicall_entry_t *e, unsigned op, unsigned long a0, unsigned long a1,
                  unsigned long a2, unsigned long a3)
{
    memset(e, 0, sizeof(*e));
    e->op = op;
    e->result = 0xdeadbeef;
    e->args[0] = a0;
    e->args[1] = a1;
    e->args[2] = a2;
    e->args[3] = a3;
}

void test_main(void)
{
    static multicall_entry_t mc[8];
    domid_t self = DOMID_SELF;
    long version = HYPERVISOR_xen_version(XENVER_version, 0);
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);

    entry(&mc[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    entry(&mc[1], __HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0);
    entry(&mc[2], __HYPERVISOR_memory_op, XENMEM_current_reservation, (unsigned long)&self, 0, 0);
    entry(&mc[3], 99, 0, 0, 0, 0);
    entry(&mc[4], __HYPERVISOR_xen_version, XENVER_extraversion, 0x100, 0, 0);
    entry(&mc[5], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0, 0);
    CHECK_EQ(HYPERVISOR_multicall(mc, 6), 0);
    CHECK_EQ((long)mc[0].result, version);
    CHECK_EQ((long)mc[1].result, 0);
    CHECK_EQ((long)mc[2].result, cur);
    CHECK_EQ((long)mc[3].result, -XEN_ENOSYS);
    CHECK_EQ((long)mc[4].result, -XEN_EFAULT);
    CHECK_EQ((long)mc[5].result, 4096);

    /* update_va_mapping with the 64-bit PTE in two slots, low word first. */
    volatile uint32_t *a = pvt_alloc_page(), *slot = pvt_alloc_page();
    a[0] = 0xabcd;
    uint64_t pte = ((uint64_t)pvt_va_to_mfn((unsigned long)a) << 12) | _PAGE_PRESENT | _PAGE_RW |
                   _PAGE_ACCESSED | _PAGE_DIRTY;
    entry(&mc[0], __HYPERVISOR_update_va_mapping, (unsigned long)slot, (uint32_t)pte,
          (uint32_t)(pte >> 32), UVMF_INVLPG);
    struct mmu_update u = { pvt_pte_maddr((unsigned long)slot) | MMU_NORMAL_PT_UPDATE, pte };
    unsigned done = 0;
    entry(&mc[1], __HYPERVISOR_mmu_update, (unsigned long)&u, 1, (unsigned long)&done, DOMID_SELF);
    CHECK_EQ(HYPERVISOR_multicall(mc, 2), 0);
    CHECK_EQ((long)mc[0].result, 0);
    CHECK_EQ((long)mc[1].result, 0);
    CHECK_EQ(done, 1);
    CHECK_EQ(slot[0], 0xabcd);

    /* A multicall inside a multicall. */
    static multicall_entry_t inner[1];
    entry(&inner[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    entry(&mc[0], __HYPERVISOR_multicall, (unsigned long)inner, 1, 0, 0);
    CHECK_EQ(HYPERVISOR_multicall(mc, 1), 0);
    pv_printf("nested multicall result %ld\n", (long)mc[0].result);
    CHECK_EQ((long)mc[0].result, -XEN_EINVAL);

    CHECK_EQ(HYPERVISOR_multicall(mc, 0), 0);
    CHECK_EQ(HYPERVISOR_multicall((multicall_entry_t *)0x100, 1), -XEN_EFAULT);
}
