/*
 * Hostile: malformed mmu_update requests. A command field (ptr & 7) beyond the defined
 * ones is -ENOSYS; a target frame that is a descriptor page is -EINVAL; an unreadable
 * request array is -EFAULT, and one that becomes unreadable part-way stops there with the
 * done count of what was applied; an unwritable done pointer does not undo the updates.
 */
#include "lib/pvtest.h"

PVTEST("mmu_update_bad", "SUCCESS", 1, "", "bad commands, bad targets, partial batches");

void test_main(void)
{
    volatile uint32_t *a = pvt_alloc_page(), *slot = pvt_alloc_page();
    a[0] = 0xa;
    unsigned long va = (unsigned long)slot;
    uint64_t pte_ma = pvt_pte_maddr(va);
    uint64_t good = ((uint64_t)pvt_va_to_mfn((unsigned long)a) << 12) | _PAGE_PRESENT | _PAGE_RW |
                    _PAGE_ACCESSED | _PAGE_DIRTY;
    unsigned done;

    for (unsigned cmd = 4; cmd < 8; cmd++) {
        done = 9;
        CHECK_EQ_NAMED("command 4-7", pvt_mmu_update1(pte_ma | cmd, good, &done, DOMID_SELF), -XEN_ENOSYS);
        CHECK_EQ(done, 0);
    }

    /* The target frame is a GDT (descriptor) page. */
    uint64_t *gdt = pvt_alloc_page();
    CHECK_EQ(pvt_set_writable((unsigned long)gdt, 0), 0);
    xen_pfn_t frames[1] = { pvt_va_to_mfn((unsigned long)gdt) };
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 8), 0);
    CHECK_EQ(pvt_mmu_update1(((uint64_t)frames[0] << 12) | MMU_NORMAL_PT_UPDATE, 0, &done, DOMID_SELF),
             -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 0), 0);

    /* Unreadable request array. */
    done = 9;
    CHECK_EQ(HYPERVISOR_mmu_update((struct mmu_update *)0x100, 1, &done, DOMID_SELF), -XEN_EFAULT);
    CHECK_EQ(done, 0);  /* the copy of entry 0 failed: 0 done, written back */

    /* Two requests at the end of a page whose successor is unmapped, count 3: two are
     * applied, the third cannot be read. */
    struct mmu_update *edge = pvt_alloc_page();
    void *hole = pvt_alloc_page();
    CHECK_EQ(pvt_unmap((unsigned long)hole), 0);
    struct mmu_update *req = (struct mmu_update *)((char *)edge + PVT_PAGE_SIZE - 2 * sizeof(*req));
    req[0].ptr = pte_ma | MMU_NORMAL_PT_UPDATE;
    req[0].val = 0;
    req[1].ptr = pte_ma | MMU_NORMAL_PT_UPDATE;
    req[1].val = good;
    done = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(req, 3, &done, DOMID_SELF), -XEN_EFAULT);
    CHECK_EQ(done, 2);
    pvt_flush_tlb();
    CHECK_EQ(slot[0], 0xa);

    /* Unwritable done pointer: the update still happens, the call returns 0. */
    CHECK_EQ(HYPERVISOR_mmu_update(req, 1, (unsigned *)0x100, DOMID_SELF), 0);
    CHECK_EQ(pvt_pte(va), 0);
    /* A count whose array would run past 4 GiB. */
    CHECK_EQ(HYPERVISOR_mmu_update(req, 0x0fffffff, &done, DOMID_SELF), -XEN_EFAULT);
}
