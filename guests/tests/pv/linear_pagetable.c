/*
 * Hostile: page tables that map themselves. An L2 entry may point at an L2 (itself or
 * another) read-only: a "linear" page table, through which the guest reads its L1
 * entries; writable it is refused (-EINVAL). An L2 entry pointing at the L3, and an L3
 * entry pointing at an L3, are refused (-EINVAL). An L1 entry mapping the L1 itself
 * read-only is an ordinary read-only mapping of a table frame; writable it is -EBUSY.
 */
#include "lib/pvtest.h"

PVTEST("linear_pagetable", "SUCCESS", 1, "", "L2/L3 self-maps, L1 self-maps");

void test_main(void)
{
    uint64_t l3e0 = pvt_l3e(0);
    unsigned long l2 = (unsigned long)((l3e0 & PVT_PTE_ADDR_MASK) >> 12);
    unsigned long l3 = pvt_l3_mfn();
    /* A free L2 slot in the low L2: index 300 maps VA 0x25800000, unused. */
    uint64_t l2_slot = ((uint64_t)l2 << 12) + 300 * 8;
    uint64_t ro = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_USER;
    uint64_t rw = ro | _PAGE_RW | _PAGE_DIRTY;
    unsigned done = 5;

    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, ((uint64_t)l2 << 12) | rw, &done, DOMID_SELF),
             -XEN_EINVAL);
    CHECK_EQ(done, 0);
    /* Read-only: accepted. VA 0x25800000 + i * 4096 now maps the i-th L1 of this L2. */
    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, ((uint64_t)l2 << 12) | ro, 0, DOMID_SELF), 0);
    pvt_flush_tlb();
    const volatile uint64_t *linear = (const volatile uint64_t *)(300UL << 21);
    unsigned long probe = (unsigned long)pvt_si;
    CHECK_EQ(linear[(probe >> 12)] == pvt_pte(probe), 1);
    /* The linear slot itself can be turned writable? No. */
    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, ((uint64_t)l2 << 12) | rw, 0, DOMID_SELF),
             -XEN_EINVAL);
    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, 0, 0, DOMID_SELF), 0);
    /* Another L2 (slot 1's) read-only: accepted as well. */
    unsigned long l2b = (unsigned long)((pvt_l3e(0x40000000) & PVT_PTE_ADDR_MASK) >> 12);
    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, ((uint64_t)l2b << 12) | ro, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, 0, 0, DOMID_SELF), 0);
    /* The L3 as an L1. */
    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, ((uint64_t)l3 << 12) | ro, 0, DOMID_SELF),
             -XEN_EINVAL);
    CHECK_EQ(pvt_l2e(300UL << 21), 0);
    pvt_flush_tlb();

    /* L3 slot 2 pointing at the L3 itself. */
    uint64_t l3e2 = pvt_l3e(0x80000000);
    CHECK_EQ(pvt_mmu_update1((((uint64_t)l3 << 12) + 2 * 8) | MMU_NORMAL_PT_UPDATE,
                             ((uint64_t)l3 << 12) | _PAGE_PRESENT, 0, DOMID_SELF), -XEN_EINVAL);
    CHECK_EQ(pvt_l3e(0x80000000) == l3e2, 1);

    /* An L1 entry mapping its own L1. */
    volatile uint32_t *slot = pvt_alloc_page();
    unsigned long va = (unsigned long)slot;
    uint64_t before = pvt_pte(va);
    unsigned long l1 = (unsigned long)(pvt_pte_maddr(va) >> 12);
    uint64_t ptr = pvt_pte_maddr(va) | MMU_NORMAL_PT_UPDATE;
    CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)l1 << 12) | _PAGE_PRESENT | _PAGE_ACCESSED, 0, DOMID_SELF), 0);
    pvt_flush_tlb();
    /* Through it we read our own PTE (it maps the L1 itself). */
    const volatile uint64_t *self = (const volatile uint64_t *)va;
    CHECK_EQ((self[(va >> 12) & 511] & PVT_PTE_ADDR_MASK) == ((uint64_t)l1 << 12), 1);
    CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)l1 << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED, 0,
                             DOMID_SELF), -XEN_EBUSY);
    CHECK_EQ(pvt_mmu_update1(ptr, before, 0, DOMID_SELF), 0);
    pvt_flush_tlb();
    slot[0] = 3;
    CHECK_EQ(slot[0], 3);
}
