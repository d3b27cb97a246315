/*
 * Hostile: mapping frames that are not ours. Xen 4.x refuses a RAM frame owned by
 * another domain (or by nobody) with -EBUSY from the PTE validation, a non-RAM or I/O
 * frame with -EPERM (no iomem permission), and the same through update_va_mapping,
 * MMU_MACHPHYS_UPDATE (-EINVAL) and pinning (-EINVAL); naming dom0 as the foreign owner
 * of a mapping is -EPERM. The done count says nothing was applied.
 */
#include "lib/pvtest.h"

PVTEST("foreign_frame", "SUCCESS", 1, "", "map another domain's frame, I/O frames, foreign owners");

static int ours(unsigned long mfn)
{
    if (mfn > pvt_max_mfn) return 0;
    unsigned long pfn = pvt_m2p_lookup(mfn);
    return pfn < pvt_si->nr_pages && pvt_p2m[pfn] == mfn;
}

void test_main(void)
{
    volatile uint32_t *slot = pvt_alloc_page();
    unsigned long va = (unsigned long)slot;
    uint64_t ptr = pvt_pte_maddr(va) | MMU_NORMAL_PT_UPDATE;
    uint64_t before = pvt_pte(va);
    uint64_t fl = _PAGE_PRESENT | _PAGE_ACCESSED;

    /* A RAM frame that is not ours: the highest RAM frame, or the next one down. */
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    unsigned long foreign = top - 1;
    while (ours(foreign)) foreign--;
    unsigned done = 77;
    pv_printf("mapping a foreign RAM frame:\n");
    CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)foreign << 12) | fl, &done, DOMID_SELF), -XEN_EBUSY);
    CHECK_EQ(done, 0);
    CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)foreign << 12) | fl | _PAGE_RW, &done, DOMID_SELF), -XEN_EBUSY);
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, ((uint64_t)foreign << 12) | fl, UVMF_INVLPG), -XEN_EBUSY);
    CHECK_EQ(pvt_pte(va) == before, 1);

    /* I/O space: a frame of the first megabyte, and one past the end of RAM. */
    pv_printf("mapping I/O and non-RAM frames:\n");
    CHECK_EQ(pvt_mmu_update1(ptr, (0xb8ULL << 12) | fl, 0, DOMID_SELF), -XEN_EPERM);
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, ((uint64_t)(top + 0x1000) << 12) | fl, UVMF_INVLPG),
             -XEN_EPERM);
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, (0xfeeULL << 20) | fl, UVMF_INVLPG), -XEN_EPERM);

    /* The M2P of a frame that is not ours. */
    CHECK_EQ(pvt_mmu_update1(((uint64_t)foreign << 12) | MMU_MACHPHYS_UPDATE, 5, 0, DOMID_SELF),
             -XEN_EINVAL);
    /* A page-table update whose table frame is not ours. */
    CHECK_EQ(pvt_mmu_update1(((uint64_t)foreign << 12) | MMU_NORMAL_PT_UPDATE, 0, &done, DOMID_SELF),
             -XEN_EINVAL);
    CHECK_EQ(done, 0);
    /* Pinning it. */
    CHECK_EQ(pvt_pin(1, foreign), -XEN_EINVAL);

    /* Claiming dom0 as the owner of the mapped frame (foreigndom). */
    unsigned long mine = pvt_va_to_mfn((unsigned long)pvt_alloc_page());
    CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)mine << 12) | fl, &done, 0), -XEN_EPERM);
    CHECK_EQ(done, 0);
    CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)foreign << 12) | fl, &done, 0), -XEN_EPERM);
    CHECK_EQ(HYPERVISOR_update_va_mapping_otherdomain(va, ((uint64_t)foreign << 12) | fl, UVMF_INVLPG, 0),
             -XEN_EPERM);
    /* DOMID_XEN as foreign owner: privileged only. */
    CHECK_EQ(pvt_mmu_update1(ptr, ((uint64_t)mine << 12) | fl, &done, DOMID_XEN), -XEN_EPERM);
    /* Nothing changed. */
    CHECK_EQ(pvt_pte(va) == before, 1);
    slot[0] = 1;
    CHECK_EQ(slot[0], 1);
}
