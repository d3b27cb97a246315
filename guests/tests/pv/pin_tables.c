/*
 * Building page tables the PV way: pinning fresh L1, L2 and L3 tables (each must be
 * mapped read-only everywhere), a whole new address space (new L3 with the low L2 shared
 * and its own L2 for slot 3, where Xen puts its mappings) loaded with NEW_BASEPTR and
 * run on, then switching back, unpinning, and the frames becoming ordinary writable
 * pages again.
 */
#include "lib/pvtest.h"

PVTEST("pin_tables", "SUCCESS", 0, "", "pin/unpin L1-L3, new address space via NEW_BASEPTR");

static unsigned long ro_table(void **va_out)
{
    void *p = pvt_alloc_page();
    if (pvt_set_writable((unsigned long)p, 0)) pvtest_error("cannot make a table read-only");
    *va_out = p;
    return pvt_va_to_mfn((unsigned long)p);
}

void test_main(void)
{
    void *l1_va, *l2_va, *l3_va, *l2x_va;
    uint64_t ma;

    /* An empty L1: pin, unpin. While pinned it cannot be mapped writable. */
    unsigned long l1 = ro_table(&l1_va);
    CHECK_EQ(pvt_pin(1, l1), 0);
    CHECK_NE(pvt_set_writable((unsigned long)l1_va, 1), 0);
    CHECK_EQ(pvt_unpin(l1), 0);
    CHECK_EQ(pvt_set_writable((unsigned long)l1_va, 1), 0);
    CHECK_EQ(pvt_set_writable((unsigned long)l1_va, 0), 0);

    /* An L1 holding one mapping, inside an L2: pinning the L2 validates (types) the L1. */
    volatile uint32_t *target = pvt_alloc_page();
    target[0] = 0x7a96e7;
    unsigned long target_mfn = pvt_va_to_mfn((unsigned long)target);
    ma = ((uint64_t)l1 << 12) + 5 * 8;
    CHECK_EQ(pvt_mmu_update1(ma | MMU_NORMAL_PT_UPDATE,
                             ((uint64_t)target_mfn << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED,
                             0, DOMID_SELF), 0);
    CHECK_EQ(((volatile uint64_t *)l1_va)[5] >> 12, target_mfn);
    unsigned long l2 = ro_table(&l2_va);
    CHECK_EQ(pvt_mmu_update1(((uint64_t)l2 << 12) | MMU_NORMAL_PT_UPDATE,
                             ((uint64_t)l1 << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED,
                             0, DOMID_SELF), 0);  /* a writable data page still: a plain write */
    CHECK_EQ(pvt_pin(2, l2), 0);
    /* The L1 is now in use as an L1 (typed by the L2), so it cannot become writable. */
    CHECK_NE(pvt_set_writable((unsigned long)l1_va, 1), 0);

    /* A new L3: slot 0 shares our low L2 (code, data, stacks), slot 3 gets a fresh L2. */
    unsigned long l3 = ro_table(&l3_va);
    unsigned long l2x = ro_table(&l2x_va);
    uint64_t low_l2 = pvt_l3e(0);
    CHECK_EQ(pvt_mmu_update1(((uint64_t)l3 << 12) | MMU_NORMAL_PT_UPDATE, low_l2, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_mmu_update1((((uint64_t)l3 << 12) + 3 * 8) | MMU_NORMAL_PT_UPDATE,
                             ((uint64_t)l2x << 12) | _PAGE_PRESENT, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_mmu_update1((((uint64_t)l3 << 12) + 1 * 8) | MMU_NORMAL_PT_UPDATE,
                             ((uint64_t)l2 << 12) | _PAGE_PRESENT, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_pin(3, l3), 0);
    /* Xen filled its slots of the slot-3 L2 (the compat M2P) when it validated the L3. */
    CHECK_NE(((volatile uint64_t *)l2x_va)[511] | ((volatile uint64_t *)l2x_va)[0x1ac], 0);

    unsigned long old_l3 = pvt_l3_mfn(), old_l3_va = pvt_l3_va;
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, l3, 0, 0), 0);
    pvt_l3_va = (unsigned long)l3_va;
    pv_printf("running on the new L3\n");
    CHECK_EQ(pvt_l3_mfn(), l3);
    /* Slot 1 (VA 0x40000000..) maps through l2 -> l1[5] -> target. */
    volatile uint32_t *via_new = (volatile uint32_t *)(0x40000000UL + 5 * 4096);
    CHECK_EQ(via_new[0], 0x7a96e7);
    via_new[1] = 0x5a5a;
    CHECK_EQ(target[1], 0x5a5a);
    /* The M2P is still there (Xen's slots of the new slot-3 L2). */
    CHECK_EQ(pvt_m2p_lookup(target_mfn) == ((unsigned long)target >> 12), 1);

    /* Back to the builder's tables; the new L3 is no longer in use. */
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, old_l3, 0, 0), 0);
    pvt_l3_va = old_l3_va;
    CHECK_EQ(pvt_l3_mfn(), old_l3);
    CHECK_EQ(pvt_unpin(l3), 0);
    CHECK_EQ(pvt_unpin(l2), 0);
    /* With nothing referencing them, all frames are ordinary pages again. */
    CHECK_EQ(pvt_set_writable((unsigned long)l3_va, 1), 0);
    CHECK_EQ(pvt_set_writable((unsigned long)l2x_va, 1), 0);
    CHECK_EQ(pvt_set_writable((unsigned long)l2_va, 1), 0);
    CHECK_EQ(pvt_set_writable((unsigned long)l1_va, 1), 0);
    ((volatile uint64_t *)l1_va)[5] = 0;
}
