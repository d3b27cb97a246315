/*
 * Hostile: unpinning tables that are in use. Unpinning the L3 we run on succeeds (the
 * base pointer keeps its own reference, so the table stays typed and in use); a second
 * unpin is -EINVAL (not pinned); so is unpinning a live but never-pinned L1, an ordinary
 * page, and a frame that is not ours. After switching away from the unpinned L3 it loses
 * its type, and switching back revalidates it.
 */
#include "lib/pvtest.h"

PVTEST("unpin_in_use", "SUCCESS", 1, "", "unpin of the live L3, unpin errors, revalidation");

void test_main(void)
{
    unsigned long l3 = pvt_l3_mfn();
    unsigned long l1 = (unsigned long)(pvt_pte_maddr((unsigned long)pvt_si) >> 12);

    CHECK_EQ(pvt_unpin(l3), 0);
    pv_printf("still running after unpinning the live L3\n");
    CHECK_EQ(pvt_unpin(l3), -XEN_EINVAL);
    /* Still a page table: it cannot be mapped writable. */
    CHECK_NE(pvt_set_writable(pvt_l3_va, 1), 0);

    CHECK_EQ(pvt_unpin(l1), -XEN_EINVAL);
    void *page = pvt_alloc_page();
    CHECK_EQ(pvt_unpin(pvt_va_to_mfn((unsigned long)page)), -XEN_EINVAL);
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    CHECK_EQ(pvt_unpin(top - 1), -XEN_EINVAL);
    CHECK_EQ(pvt_unpin(0x7fffffff), -XEN_EINVAL);

    /* Pin it again while in use: fine. */
    CHECK_EQ(pvt_pin(3, l3), 0);
    CHECK_EQ(pvt_pin(3, l3), -XEN_EINVAL);  /* already pinned */

    /* Switch to a copy of the L3, unpin the original: it is now unused and untyped, so it
     * may become writable; make it read-only again and switch back (revalidated). */
    uint64_t *copy = pvt_alloc_page();
    for (unsigned i = 0; i < 4; i++) copy[i] = pvt_l3e((unsigned long)i << 30);
    /* Slot 3's L2 can serve one L3 only: give the copy a fresh one. */
    uint64_t *l2x = pvt_alloc_page();
    CHECK_EQ(pvt_set_writable((unsigned long)l2x, 0), 0);
    copy[3] = ((uint64_t)pvt_va_to_mfn((unsigned long)l2x) << 12) | _PAGE_PRESENT;
    CHECK_EQ(pvt_set_writable((unsigned long)copy, 0), 0);
    unsigned long copy_mfn = pvt_va_to_mfn((unsigned long)copy);
    CHECK_EQ(pvt_pin(3, copy_mfn), 0);
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, copy_mfn, 0, 0), 0);
    unsigned long old_va = pvt_l3_va;
    pvt_l3_va = (unsigned long)copy;
    CHECK_EQ(pvt_unpin(l3), 0);
    CHECK_EQ(pvt_set_writable(old_va, 1), 0);
    CHECK_EQ(pvt_set_writable(old_va, 0), 0);
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, l3, 0, 0), 0);
    pvt_l3_va = old_va;
    CHECK_EQ(pvt_l3_mfn(), l3);
    CHECK_EQ(pvt_unpin(copy_mfn), 0);
    CHECK_EQ(pvt_pin(3, l3), 0);
}
