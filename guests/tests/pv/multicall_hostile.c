/*
 * Hostile: multicalls carrying bad entries. Each entry fails on its own (its result says
 * why) and the batch goes on: unknown ops, foreign and writable-table mappings, bad
 * pointers. An entry array that runs into unmapped memory executes the readable entries
 * and then fails the whole call with -EFAULT; so does an absurd count (no range check up
 * front: the readable entries run first).
 */
#include "lib/pvtest.h"

PVTEST("multicall_hostile", "SUCCESS", 1, "", "failing entries inside multicalls, truncated batches");

static void entry(multicall_entry_t *e, unsigned op, unsigned long a0, unsigned long a1,
                  unsigned long a2, unsigned long a3)
{
    memset(e, 0, sizeof(*e));
    e->op = op;
    e->result = 0x5a5a5a5a;
    e->args[0] = a0;
    e->args[1] = a1;
    e->args[2] = a2;
    e->args[3] = a3;
}

void test_main(void)
{
    static multicall_entry_t mc[8];
    volatile uint32_t *slot = pvt_alloc_page();
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    uint64_t foreign = ((uint64_t)(top - 1) << 12) | _PAGE_PRESENT;
    uint64_t l1 = pvt_pte_maddr((unsigned long)slot) & ~0xfffULL;
    uint64_t table_rw = l1 | _PAGE_PRESENT | _PAGE_RW;
    long version = HYPERVISOR_xen_version(XENVER_version, 0);

    entry(&mc[0], 0xffffffffu, 0, 0, 0, 0);
    entry(&mc[1], __HYPERVISOR_update_va_mapping, (unsigned long)slot, (uint32_t)foreign,
          (uint32_t)(foreign >> 32), UVMF_INVLPG);
    entry(&mc[2], __HYPERVISOR_update_va_mapping, (unsigned long)slot, (uint32_t)table_rw,
          (uint32_t)(table_rw >> 32), UVMF_INVLPG);
    entry(&mc[3], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    entry(&mc[4], __HYPERVISOR_memory_op, XENMEM_current_reservation, 0x100, 0, 0);
    entry(&mc[5], __HYPERVISOR_set_trap_table, 0x100, 0, 0, 0);
    entry(&mc[6], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    CHECK_EQ(HYPERVISOR_multicall(mc, 7), 0);
    CHECK_EQ((long)mc[0].result, -XEN_ENOSYS);
    CHECK_EQ((long)mc[1].result, -XEN_EBUSY);
    CHECK_EQ((long)mc[2].result, -XEN_EBUSY);
    CHECK_EQ((long)mc[3].result, version);
    CHECK_EQ((long)mc[4].result, -XEN_EFAULT);
    CHECK_EQ((long)mc[5].result, -XEN_EFAULT);
    CHECK_EQ((long)mc[6].result, version);
    slot[0] = 1;  /* still our own page */

    /* Two entries at the end of a page, the next page unmapped, count 4. */
    multicall_entry_t *edge = pvt_alloc_page();
    void *hole = pvt_alloc_page();
    CHECK_EQ(pvt_unmap((unsigned long)hole), 0);
    multicall_entry_t *e = (multicall_entry_t *)((char *)edge + PVT_PAGE_SIZE - 2 * sizeof(*e));
    entry(&e[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    entry(&e[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0, 0);
    CHECK_EQ(HYPERVISOR_multicall(e, 4), -XEN_EFAULT);
    CHECK_EQ((long)e[0].result, version);
    CHECK_EQ((long)e[1].result, 4096);
    /* An absurd count: no range check up front; the readable entries run, then -EFAULT. */
    e[0].result = 0x5a5a5a5a;
    CHECK_EQ(HYPERVISOR_multicall(e, 0x7fffffff), -XEN_EFAULT);
    CHECK_EQ((long)e[0].result, version);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, 0), version);
}
