/*
 * vm_assist: the assists a 32-bit PV guest may toggle (types 0-5), invalid types and
 * commands, and writable page tables: with VMASST_TYPE_writable_pagetables on, a plain
 * write to a read-only-mapped L1 is emulated and validated by Xen; off, it faults.
 */
#include "lib/pvtest.h"

PVTEST("vm_assist", "SUCCESS", 0, "", "VMASST types and commands, writable page tables");

#define T pvt_last_trap

void test_main(void)
{
    static const unsigned ok_types[] = {
        VMASST_TYPE_4gb_segments, VMASST_TYPE_4gb_segments_notify,
        VMASST_TYPE_writable_pagetables, VMASST_TYPE_pae_extended_cr3,
        VMASST_TYPE_architectural_iopl, VMASST_TYPE_runstate_update_flag,
    };
    for (unsigned i = 0; i < ARRAY_SIZE(ok_types); i++) {
        CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, ok_types[i]), 0);
        if (ok_types[i] != VMASST_TYPE_pae_extended_cr3)
            CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_disable, ok_types[i]), 0);
    }
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, 6), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_m2p_strict), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, 31), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, 64), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, 0xffffffff), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vm_assist(2, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_vm_assist(2, 6), -XEN_EINVAL);  /* the type is checked first */

    /* Writable page tables. The PTE of `slot` lives in an L1 mapped read-only. */
    volatile uint32_t *a = pvt_alloc_page(), *slot = pvt_alloc_page();
    a[0] = 0xa11ce;
    unsigned long va = (unsigned long)slot;
    uint64_t ma = pvt_pte_maddr(va);
    volatile uint64_t *pte = (volatile uint64_t *)((char *)pvt_mfn_to_va((unsigned long)(ma >> 12)) +
                                                   (ma & 0xfff));
    uint64_t old = *pte;
    uint64_t new_pte = ((uint64_t)pvt_va_to_mfn((unsigned long)a) << 12) | _PAGE_PRESENT |
                       _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;

    /* Off: the write faults (present, write). */
    pvt_trap_reset();
    PVT_TRY("movl %%eax, (%0)", : : "r"(pte), "a"((uint32_t)new_pte));
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.error_code, X86_PFEC_PRESENT | X86_PFEC_WRITE);
    CHECK_EQ(*pte == old, 1);

    /* On: Xen emulates the 8-byte write, validating the new entry. */
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
    pvt_trap_reset();
    __asm__ volatile("movl %1, 4(%0); movl %2, (%0)"
                     : : "r"(pte), "r"((uint32_t)(new_pte >> 32)), "r"((uint32_t)new_pte) : "memory");
    CHECK_EQ(T.count, 0);
    CHECK_EQ((*pte & PVT_PTE_ADDR_MASK) == (new_pte & PVT_PTE_ADDR_MASK), 1);
    pvt_flush_tlb();
    CHECK_EQ(slot[0], 0xa11ce);
    /* An entry Xen refuses (PCD|PWT set) is not written: the guest gets the #PF. */
    pvt_trap_reset();
    PVT_TRY("movl %%eax, (%0)", : : "r"(pte), "a"((uint32_t)new_pte | (uint32_t)_PAGE_PCD));
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ((*pte & _PAGE_PCD), 0);
    /* Restore through the emulated path and switch the assist off again. */
    __asm__ volatile("movl %1, 4(%0); movl %2, (%0)"
                     : : "r"(pte), "r"((uint32_t)(old >> 32)), "r"((uint32_t)old) : "memory");
    CHECK_EQ(*pte == old, 1);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_disable, VMASST_TYPE_writable_pagetables), 0);
    pvt_flush_tlb();
}
