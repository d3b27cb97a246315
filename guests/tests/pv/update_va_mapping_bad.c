/*
 * Hostile: update_va_mapping misuse. A VA with no L1 table behind it (-EINVAL: only
 * existing L1 entries can be set this way), a VA in the hypervisor hole (-EINVAL), a
 * UVMF_MULTI vCPU mask pointer that is unreadable (-EFAULT, after the PTE was written;
 * the same mask in mmuext_op's MULTI flushes is -EINVAL),
 * a vCPU mask naming vCPUs that do not exist, and the otherdomain form for a domain that
 * does not exist (-ESRCH).
 */
#include "lib/pvtest.h"

PVTEST("update_va_mapping_bad", "SUCCESS", 1, "", "update_va_mapping with bad VAs, masks, domains");

void test_main(void)
{
    volatile uint32_t *a = pvt_alloc_page(), *slot = pvt_alloc_page();
    a[0] = 0xa5;
    unsigned long va = (unsigned long)slot;
    uint64_t pte = ((uint64_t)pvt_va_to_mfn((unsigned long)a) << 12) | _PAGE_PRESENT | _PAGE_RW |
                   _PAGE_ACCESSED | _PAGE_DIRTY;
    uint64_t before = pvt_pte(va);

    /* No L2 entry for VA 0x50000000 (L3 slot 1, L2 index 128): no L1 to write. */
    CHECK_EQ(pvt_l2e(0x50000000), 0);
    CHECK_EQ(HYPERVISOR_update_va_mapping(0x50000000, pte, UVMF_INVLPG), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping(HYPERVISOR_VIRT_START + 0x1000, pte, UVMF_INVLPG), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping(0xffffe000, 0, UVMF_INVLPG), -XEN_EINVAL);

    /* An unreadable vCPU mask: the PTE is written, the flush request fails. */
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, pte, UVMF_INVLPG | UVMF_MULTI | 0x100), -XEN_EFAULT);
    CHECK_EQ(pvt_pte(va) & PVT_PTE_ADDR_MASK, pte & PVT_PTE_ADDR_MASK);
    pvt_flush_tlb();
    CHECK_EQ(slot[0], 0xa5);
    /* A mask naming only vCPUs that do not exist: nothing to flush, fine. */
    static uint32_t mask = 0xfffffffe;
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, before, UVMF_INVLPG | UVMF_MULTI | (unsigned long)&mask), 0);
    /* MMUEXT forms with a bad mask pointer: mmuext_op reports any bad mask as -EINVAL. */
    CHECK_EQ(pvt_mmuext1(MMUEXT_TLB_FLUSH_MULTI, 0, 0x100, 0), -XEN_EINVAL);
    CHECK_EQ(pvt_mmuext1(MMUEXT_INVLPG_MULTI, va, 0x100, 0), -XEN_EINVAL);

    /* The otherdomain form, for a domain that does not exist and for ourselves by id
     * DOMID_SELF (allowed). */
    CHECK_EQ(HYPERVISOR_update_va_mapping_otherdomain(va, pte, UVMF_INVLPG, 31000), -XEN_ESRCH);
    CHECK_EQ(HYPERVISOR_update_va_mapping_otherdomain(va, pte, UVMF_INVLPG, DOMID_SELF), 0);
    CHECK_EQ(slot[0], 0xa5);
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, before, UVMF_INVLPG), 0);
}
