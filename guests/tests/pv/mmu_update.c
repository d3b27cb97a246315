/*
 * mmu_update, the normal cases: an L1 entry written through its machine address (the
 * mapping appears after a flush), a batch with the success count, an entry cleared,
 * MMU_PT_UPDATE_PRESERVE_AD keeping the hardware-set Accessed/Dirty bits,
 * MMU_MACHPHYS_UPDATE changing our M2P entry (visible in the read-only M2P), and a write
 * through mmu_update into an ordinary (non-table) page of ours, which Xen performs, and
 * MMUEXT_COPY_PAGE / MMUEXT_CLEAR_PAGE.
 */
#include "lib/pvtest.h"

PVTEST("mmu_update", "SUCCESS", 0, "", "MMU_NORMAL_PT_UPDATE, PRESERVE_AD, MACHPHYS_UPDATE, done count");

void test_main(void)
{
    volatile uint32_t *a = pvt_alloc_page(), *b = pvt_alloc_page(), *slot = pvt_alloc_page();
    a[0] = 0xaaaa0001;
    b[0] = 0xbbbb0002;
    unsigned long mfn_a = pvt_va_to_mfn((unsigned long)a), mfn_b = pvt_va_to_mfn((unsigned long)b);
    unsigned long va = (unsigned long)slot;
    uint64_t ptr = pvt_pte_maddr(va);
    uint64_t flags = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    unsigned done = 99;

    /* One update: slot's VA now maps a's frame. */
    CHECK_EQ(pvt_mmu_update1(ptr | MMU_NORMAL_PT_UPDATE, ((uint64_t)mfn_a << 12) | flags, &done,
                             DOMID_SELF), 0);
    CHECK_EQ(done, 1);
    pvt_flush_tlb();
    CHECK_EQ(slot[0], 0xaaaa0001);
    CHECK_EQ(pvt_pte(va) & PVT_PTE_ADDR_MASK, (uint64_t)mfn_a << 12);

    /* A batch of three: remap to b, then clear, then map b read-only; done = 3. */
    struct mmu_update req[3] = {
        { ptr | MMU_NORMAL_PT_UPDATE, ((uint64_t)mfn_b << 12) | flags },
        { ptr | MMU_NORMAL_PT_UPDATE, 0 },
        { ptr | MMU_NORMAL_PT_UPDATE, ((uint64_t)mfn_b << 12) | _PAGE_PRESENT | _PAGE_ACCESSED },
    };
    done = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(req, 3, &done, DOMID_SELF), 0);
    CHECK_EQ(done, 3);
    pvt_flush_tlb();
    CHECK_EQ(slot[0], 0xbbbb0002);
    CHECK_EQ(pvt_pte(va) & _PAGE_RW, 0);
    /* The done pointer may be NULL; count 0 is a no-op. */
    CHECK_EQ(HYPERVISOR_mmu_update(req, 0, &done, DOMID_SELF), 0);
    CHECK_EQ(done, 0);
    CHECK_EQ(HYPERVISOR_mmu_update(req, 1, 0, DOMID_SELF), 0);

    /* PRESERVE_AD: the CPU sets A and D on access; an update without them keeps them. */
    CHECK_EQ(pvt_mmu_update1(ptr | MMU_NORMAL_PT_UPDATE,
                             ((uint64_t)mfn_a << 12) | _PAGE_PRESENT | _PAGE_RW, 0, DOMID_SELF), 0);
    pvt_flush_tlb();
    slot[1] = 5;  /* sets A and D in the PTE */
    CHECK_EQ(pvt_pte(va) & (_PAGE_ACCESSED | _PAGE_DIRTY), _PAGE_ACCESSED | _PAGE_DIRTY);
    CHECK_EQ(pvt_mmu_update1(ptr | MMU_PT_UPDATE_PRESERVE_AD,
                             ((uint64_t)mfn_a << 12) | _PAGE_PRESENT | _PAGE_RW, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_pte(va) & (_PAGE_ACCESSED | _PAGE_DIRTY), _PAGE_ACCESSED | _PAGE_DIRTY);
    CHECK_EQ(pvt_mmu_update1(ptr | MMU_NORMAL_PT_UPDATE,
                             ((uint64_t)mfn_a << 12) | _PAGE_PRESENT | _PAGE_RW, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_pte(va) & (_PAGE_ACCESSED | _PAGE_DIRTY), 0);
    /* The later-Xen NO_TRANSLATE form is a normal update for a PV guest. */
    CHECK_EQ(pvt_mmu_update1(ptr | MMU_PT_UPDATE_NO_TRANSLATE, ((uint64_t)mfn_b << 12) | flags, 0,
                             DOMID_SELF), 0);
    pvt_flush_tlb();
    CHECK_EQ(slot[0], 0xbbbb0002);

    /* MACHPHYS_UPDATE: our M2P entry for b's frame, as the read-only M2P shows it. */
    unsigned long pfn_b = (unsigned long)b >> 12;
    CHECK_EQ(pvt_m2p_lookup(mfn_b) == pfn_b, 1);
    CHECK_EQ(pvt_mmu_update1(((uint64_t)mfn_b << 12) | MMU_MACHPHYS_UPDATE, 0x1234, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_m2p_lookup(mfn_b), 0x1234);
    CHECK_EQ(pvt_mmu_update1(((uint64_t)mfn_b << 12) | MMU_MACHPHYS_UPDATE, pfn_b, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_m2p_lookup(mfn_b) == pfn_b, 1);

    /* mmu_update into a plain page of ours (not a page table): Xen writes the value. */
    volatile uint64_t *data = pvt_alloc_page();
    uint64_t data_ma = ((uint64_t)pvt_va_to_mfn((unsigned long)data) << 12) + 16;
    CHECK_EQ(pvt_mmu_update1(data_ma | MMU_NORMAL_PT_UPDATE, 0x1122334455667788ULL, 0, DOMID_SELF), 0);
    CHECK_EQ(data[2] == 0x1122334455667788ULL, 1);

    /* The highmem assists (XENFEAT_highmem_assist): copy and clear frames by MFN. */
    unsigned long data_mfn = (unsigned long)(data_ma >> 12);
    volatile uint64_t *copy = pvt_alloc_page();
    unsigned long copy_mfn = pvt_va_to_mfn((unsigned long)copy);
    struct mmuext_op op;
    memset(&op, 0, sizeof(op));
    op.cmd = MMUEXT_COPY_PAGE;
    op.arg1.mfn = copy_mfn;
    op.arg2.src_mfn = data_mfn;
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, 0, DOMID_SELF), 0);
    CHECK_EQ(copy[2] == 0x1122334455667788ULL, 1);
    CHECK_EQ(pvt_mmuext1(MMUEXT_CLEAR_PAGE, data_mfn, 0, 0), 0);
    CHECK_EQ(data[2] == 0, 1);
    CHECK_EQ(copy[2] == 0x1122334455667788ULL, 1);
}
