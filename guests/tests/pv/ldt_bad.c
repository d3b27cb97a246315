/*
 * Hostile: LDTs Xen refuses. MMUEXT_SET_LDT with a misaligned base or too many entries
 * (> 8192) is -EINVAL. Everything else is checked only when the LDT is used (Xen maps an
 * LDT page on the first access through a selector): an LDT in the hypervisor hole, on a
 * page mapped writable, or holding a descriptor Xen refuses is accepted by SET_LDT, and
 * loading a selector then faults: the guest sees #PF at the LDT page.
 */
#include "lib/pvtest.h"

PVTEST("ldt_bad", "SUCCESS", 1, "", "SET_LDT limits and lazily refused LDT pages");

#define T pvt_last_trap

void test_main(void)
{
    uint64_t *ldt = pvt_alloc_page();
    ldt[0] = x86_desc(0, 0xfffff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K);
    unsigned long va = (unsigned long)ldt;

    CHECK_EQ(pvt_mmuext1(MMUEXT_SET_LDT, va + 8, 1, 0), -XEN_EINVAL);
    CHECK_EQ(pvt_mmuext1(MMUEXT_SET_LDT, va, 8193, 0), -XEN_EINVAL);
    /* In the hypervisor hole (the read-only M2P): accepted, unusable. */
    CHECK_EQ(pvt_mmuext1(MMUEXT_SET_LDT, HYPERVISOR_VIRT_START, 1, 0), 0);
    pvt_trap_reset();
    PVT_TRY("mov %w0, %%fs", : : "r"(X86_SEL(0, 1, 1)));
    pv_printf("LDT in the hole: vector %u error code %x cr2 %x\n", T.vector, T.error_code, T.cr2);
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.error_code, 0);
    CHECK_EQ(T.cr2, HYPERVISOR_VIRT_START);
    __asm__ volatile("xor %%eax, %%eax; mov %%eax, %%fs" ::: "eax");

    /* Mapped writable: SET_LDT is fine, loading a selector faults. */
    CHECK_EQ(pvt_mmuext1(MMUEXT_SET_LDT, va, 1, 0), 0);
    pvt_trap_reset();
    PVT_TRY("mov %w0, %%fs", : : "r"(X86_SEL(0, 1, 1)));
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.cr2, va);
    __asm__ volatile("xor %%eax, %%eax; mov %%eax, %%fs" ::: "eax");

    /* Read-only but holding a TSS descriptor: same. */
    ldt[0] = x86_desc(0x1000, 0x67, 0x89 | (1 << 5), 0);
    CHECK_EQ(pvt_set_writable(va, 0), 0);
    pvt_trap_reset();
    PVT_TRY("mov %w0, %%fs", : : "r"(X86_SEL(0, 1, 1)));
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.cr2, va);
    __asm__ volatile("xor %%eax, %%eax; mov %%eax, %%fs" ::: "eax");

    /* Fixed: a good descriptor, read-only; the selector loads. */
    CHECK_EQ(pvt_set_writable(va, 1), 0);
    ldt[0] = x86_desc(0, 0xfffff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K);
    CHECK_EQ(pvt_set_writable(va, 0), 0);
    pvt_trap_reset();
    __asm__ volatile("push %%fs; mov %w0, %%fs; pop %%fs" : : "r"(X86_SEL(0, 1, 1)));
    CHECK_EQ(T.count, 0);
    CHECK_EQ(pvt_mmuext1(MMUEXT_SET_LDT, 0, 0, 0), 0);
}
