/*
 * Hostile: writable mappings of page-table frames. Xen refuses any writable mapping of a
 * frame typed as a page table (the live L1s, the L2s, the pinned L3, a pinned L1) with
 * -EBUSY, through mmu_update and update_va_mapping; read-only mappings are fine; a batch
 * stops at the bad entry and reports how many were done; pinning a frame that is mapped
 * writable is -EINVAL.
 */
#include "lib/pvtest.h"

PVTEST("writable_pagetable", "SUCCESS", 1, "", "writable mappings of pinned/live page tables");

void test_main(void)
{
    volatile uint32_t *slot = pvt_alloc_page(), *other = pvt_alloc_page();
    unsigned long va = (unsigned long)slot;
    uint64_t ptr = pvt_pte_maddr(va) | MMU_NORMAL_PT_UPDATE;
    uint64_t rw = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    uint64_t ro = _PAGE_PRESENT | _PAGE_ACCESSED;
    uint64_t before = pvt_pte(va);

    unsigned long l1 = (unsigned long)(pvt_pte_maddr(va) >> 12);   /* the L1 mapping slot */
    unsigned long l2 = (unsigned long)((pvt_l3e(0) & PVT_PTE_ADDR_MASK) >> 12);  /* the low L2 */
    unsigned long l3 = pvt_l3_mfn();                                /* pinned by the builder */
    unsigned long l2x = (unsigned long)((pvt_l3e(0xc0000000) & PVT_PTE_ADDR_MASK) >> 12);
    const unsigned long tables[] = { l1, l2, l3, l2x };
    const char *names[] = { "live L1", "low L2", "pinned L3", "slot-3 L2" };
    for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
        pv_printf("%s:\n", names[i]);
        unsigned done = 9;
        CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)tables[i] << 12) | rw, &done, DOMID_SELF), -XEN_EBUSY);
        CHECK_EQ(done, 0);
        CHECK_EQ(HYPERVISOR_update_va_mapping(va, ((uint64_t)tables[i] << 12) | rw, UVMF_INVLPG), -XEN_EBUSY);
        /* Read-only is allowed, and shows the table. */
        CHECK_EQ(HYPERVISOR_update_va_mapping(va, ((uint64_t)tables[i] << 12) | ro, UVMF_INVLPG), 0);
    }
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, before, UVMF_INVLPG), 0);

    /* A freshly pinned L1. */
    uint64_t *t = pvt_alloc_page();
    CHECK_EQ(pvt_set_writable((unsigned long)t, 0), 0);
    unsigned long tm = pvt_va_to_mfn((unsigned long)t);
    CHECK_EQ(pvt_pin(1, tm), 0);
    CHECK_EQ(HYPERVISOR_update_va_mapping((unsigned long)t, pvt_pte((unsigned long)t) | _PAGE_RW,
                                          UVMF_INVLPG), -XEN_EBUSY);

    /* A batch: good, bad, good. Stops at the bad one; done = 1; the third is not applied. */
    unsigned long om = pvt_va_to_mfn((unsigned long)other);
    struct mmu_update req[3] = {
        { ptr, ((uint64_t)om << 12) | rw },
        { ptr, ((uint64_t)tm << 12) | rw },
        { ptr, before },
    };
    unsigned done = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(req, 3, &done, DOMID_SELF), -XEN_EBUSY);
    CHECK_EQ(done, 1);
    CHECK_EQ(pvt_pte(va) & PVT_PTE_ADDR_MASK, (uint64_t)om << 12);

    /* Pinning a frame that is mapped writable (here: `other`, mapped twice now). */
    CHECK_EQ(pvt_pin(1, om), -XEN_EINVAL);
    CHECK_EQ(pvt_pin(2, om), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, before, UVMF_INVLPG), 0);
    CHECK_EQ(pvt_unpin(tm), 0);
}
