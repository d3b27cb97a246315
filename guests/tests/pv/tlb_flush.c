/*
 * TLB maintenance through mmuext_op and update_va_mapping's flags: every flush form
 * (local, all, multi with a vCPU mask; invlpg local/all/multi) succeeds, and after
 * changing a PTE with mmu_update (which does not flush) the flush makes the new
 * translation visible.
 */
#include "lib/pvtest.h"

PVTEST("tlb_flush", "SUCCESS", 0, "", "MMUEXT TLB flush and INVLPG forms, UVMF flags");

void test_main(void)
{
    volatile uint32_t *a = pvt_alloc_page(), *b = pvt_alloc_page(), *slot = pvt_alloc_page();
    a[0] = 0xa;
    b[0] = 0xb;
    unsigned long va = (unsigned long)slot;
    uint64_t ptr = pvt_pte_maddr(va) | MMU_NORMAL_PT_UPDATE;
    uint64_t fl = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    uint64_t pte_a = ((uint64_t)pvt_va_to_mfn((unsigned long)a) << 12) | fl;
    uint64_t pte_b = ((uint64_t)pvt_va_to_mfn((unsigned long)b) << 12) | fl;
    static uint32_t vcpu_mask = 1;  /* vCPU 0 */

    struct { unsigned cmd; unsigned long arg1, arg2; const char *name; } ops[] = {
        { MMUEXT_TLB_FLUSH_LOCAL, 0, 0, "TLB_FLUSH_LOCAL" },
        { MMUEXT_TLB_FLUSH_ALL, 0, 0, "TLB_FLUSH_ALL" },
        { MMUEXT_TLB_FLUSH_MULTI, 0, (unsigned long)&vcpu_mask, "TLB_FLUSH_MULTI" },
        { MMUEXT_INVLPG_LOCAL, va, 0, "INVLPG_LOCAL" },
        { MMUEXT_INVLPG_ALL, va, 0, "INVLPG_ALL" },
        { MMUEXT_INVLPG_MULTI, va, (unsigned long)&vcpu_mask, "INVLPG_MULTI" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
        pv_printf("%s:\n", ops[i].name);
        uint64_t pte = (i & 1) ? pte_b : pte_a;
        uint32_t want = (i & 1) ? 0xb : 0xa;
        CHECK_EQ(pvt_mmu_update1(ptr, pte, 0, DOMID_SELF), 0);
        CHECK_EQ(pvt_mmuext1(ops[i].cmd, ops[i].arg1, ops[i].arg2, 0), 0);
        CHECK_EQ(slot[0], want);
    }
    /* A batch of flushes with the done count. */
    struct mmuext_op batch[3];
    memset(batch, 0, sizeof(batch));
    batch[0].cmd = MMUEXT_TLB_FLUSH_LOCAL;
    batch[1].cmd = MMUEXT_INVLPG_LOCAL;
    batch[1].arg1.linear_addr = va;
    batch[2].cmd = MMUEXT_TLB_FLUSH_ALL;
    unsigned done = 0;
    CHECK_EQ(HYPERVISOR_mmuext_op(batch, 3, &done, DOMID_SELF), 0);
    CHECK_EQ(done, 3);

    /* update_va_mapping with each flush type. */
    const unsigned long flags[] = { UVMF_INVLPG | UVMF_LOCAL, UVMF_TLB_FLUSH | UVMF_LOCAL,
                                           UVMF_INVLPG | UVMF_ALL, UVMF_TLB_FLUSH | UVMF_ALL,
                                           UVMF_INVLPG | UVMF_MULTI | (unsigned long)&vcpu_mask,
                                           UVMF_TLB_FLUSH | UVMF_MULTI | (unsigned long)&vcpu_mask };
    for (unsigned i = 0; i < ARRAY_SIZE(flags); i++) {
        uint64_t pte = (i & 1) ? pte_b : pte_a;
        CHECK_EQ(HYPERVISOR_update_va_mapping(va, pte, flags[i]), 0);
        CHECK_EQ(slot[0], (i & 1) ? 0xb : 0xa);
    }
    /* UVMF_NONE then an explicit invlpg. */
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, pte_b, UVMF_NONE), 0);
    CHECK_EQ(pvt_mmuext1(MMUEXT_INVLPG_LOCAL, va, 0, 0), 0);
    CHECK_EQ(slot[0], 0xb);
    /* Unmapping with a flush: the next access faults. */
    CHECK_EQ(HYPERVISOR_update_va_mapping(va, 0, UVMF_INVLPG), 0);
    pvt_trap_reset();
    PVT_TRY("movl (%0), %%eax", : : "r"(slot) : "eax");
    CHECK_EQ(pvt_last_trap.vector, X86_EXC_PF);
}
