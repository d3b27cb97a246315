/*
 * Hostile: page-table entry flags a PV guest may not use. L1: PWT, PCD and PAT are
 * refused (-EINVAL) for a domain without I/O resources; Global, the available bits
 * (9-11, 52-62: this build does not reserve bit 62 for grant mappings) and NX are allowed. L2: PSE (2 MiB pages), PWT, PCD,
 * Global are refused. L3 (compat): RW/US/A/D are tolerated, PWT/PCD/PSE/Global and the
 * high bits (incl. NX) are refused.
 */
#include "lib/pvtest.h"

PVTEST("bad_pte_flags", "SUCCESS", 1, "", "L1/L2/L3 flag rules for PV page tables");

void test_main(void)
{
    volatile uint32_t *page = pvt_alloc_page(), *slot = pvt_alloc_page();
    page[0] = 0x1f1f;
    unsigned long va = (unsigned long)slot;
    uint64_t ptr = pvt_pte_maddr(va) | MMU_NORMAL_PT_UPDATE;
    uint64_t base = ((uint64_t)pvt_va_to_mfn((unsigned long)page) << 12) | _PAGE_PRESENT | _PAGE_ACCESSED;
    uint64_t before = pvt_pte(va);

    static const struct { const char *name; uint64_t bits; long rc; } l1[] = {
        { "L1 PWT", _PAGE_PWT, -XEN_EINVAL },
        { "L1 PCD", _PAGE_PCD, -XEN_EINVAL },
        { "L1 PAT", _PAGE_PAT, -XEN_EINVAL },
        { "L1 bit 62", 1ULL << 62, 0 },
        { "L1 Global", _PAGE_GLOBAL, 0 },
        { "L1 avail 9-11", 0xe00, 0 },
        { "L1 avail 52", 1ULL << 52, 0 },
        { "L1 avail 61", 1ULL << 61, 0 },
        { "L1 NX", _PAGE_NX, 0 },
        { "L1 RW|US|D", _PAGE_RW | _PAGE_USER | _PAGE_DIRTY, 0 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(l1); i++) {
        unsigned done = 7;
        long rc = pvt_mmu_update1(ptr, base | l1[i].bits, &done, DOMID_SELF);
        CHECK_EQ_NAMED(l1[i].name, rc, l1[i].rc);
        CHECK_EQ_NAMED("  done", done, rc ? 0 : 1);
        CHECK_EQ_NAMED("  via update_va_mapping", HYPERVISOR_update_va_mapping(va, base | l1[i].bits, UVMF_INVLPG), l1[i].rc);
    }
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, before, UVMF_INVLPG), 0);

    /* L2: a spare slot of the low L2 pointing at a fresh (zeroed, read-only) L1. */
    uint64_t *t = pvt_alloc_page();
    CHECK_EQ(pvt_set_writable((unsigned long)t, 0), 0);
    uint64_t l2_slot = (pvt_l3e(0) & PVT_PTE_ADDR_MASK) + 400 * 8;
    uint64_t l2base = ((uint64_t)pvt_va_to_mfn((unsigned long)t) << 12) | _PAGE_PRESENT | _PAGE_RW |
                      _PAGE_USER | _PAGE_ACCESSED;
    static const struct { const char *name; uint64_t bits; long rc; } l2[] = {
        { "L2 PSE", _PAGE_PSE, -XEN_EINVAL },
        { "L2 PWT", _PAGE_PWT, -XEN_EINVAL },
        { "L2 PCD", _PAGE_PCD, -XEN_EINVAL },
        { "L2 Global", _PAGE_GLOBAL, -XEN_EINVAL },
        { "L2 NX", _PAGE_NX, 0 },
        { "L2 plain", 0, 0 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(l2); i++)
        CHECK_EQ_NAMED(l2[i].name, pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, l2base | l2[i].bits, 0, DOMID_SELF), l2[i].rc);
    CHECK_EQ(pvt_mmu_update1(l2_slot | MMU_NORMAL_PT_UPDATE, 0, 0, DOMID_SELF), 0);

    /* L3 slot 2: its L2 with various flags. */
    uint64_t l3_slot = ((uint64_t)pvt_l3_mfn() << 12) + 2 * 8;
    uint64_t l3e = pvt_l3e(0x80000000);
    uint64_t l3base = l3e & (PVT_PTE_ADDR_MASK | _PAGE_PRESENT);
    static const struct { const char *name; uint64_t bits; long rc; } l3[] = {
        { "L3 P only", 0, 0 },
        { "L3 RW|US|A|D", _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY, 0 },
        { "L3 avail 9", 0x200, 0 },
        { "L3 PWT", _PAGE_PWT, -XEN_EINVAL },
        { "L3 PCD", _PAGE_PCD, -XEN_EINVAL },
        { "L3 PSE", _PAGE_PSE, -XEN_EINVAL },
        { "L3 Global", _PAGE_GLOBAL, -XEN_EINVAL },
        { "L3 NX", _PAGE_NX, -XEN_EINVAL },
        { "L3 avail 52", 1ULL << 52, -XEN_EINVAL },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(l3); i++)
        CHECK_EQ_NAMED(l3[i].name, pvt_mmu_update1(l3_slot | MMU_NORMAL_PT_UPDATE, l3base | l3[i].bits, 0, DOMID_SELF), l3[i].rc);
    CHECK_EQ(pvt_mmu_update1(l3_slot | MMU_NORMAL_PT_UPDATE, l3e, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_l3e(0x80000000) == l3e, 1);
}
