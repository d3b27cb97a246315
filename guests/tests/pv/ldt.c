/*
 * Local descriptor tables: MMUEXT_SET_LDT with a read-only page of descriptors, loading
 * LDT selectors (Xen maps the LDT page on first use), a selector past nr_ents (#GP), the
 * page held as a descriptor page while mapped into the LDT, and SET_LDT with no entries.
 */
#include "lib/pvtest.h"

PVTEST("ldt", "SUCCESS", 0, "", "MMUEXT_SET_LDT and LDT selectors");

#define T pvt_last_trap

void test_main(void)
{
    uint64_t *ldt = pvt_alloc_page();
    ldt[0] = x86_desc(0, 0xfffff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K);
    ldt[1] = x86_desc(0, 0xfffff, X86_DESC_CODE(1), X86_DESC_FLAGS_32_4K);
    ldt[2] = x86_desc(0, 0xfffff, X86_DESC_DATA(3), X86_DESC_FLAGS_32_4K);
    unsigned long va = (unsigned long)ldt;
    CHECK_EQ(pvt_set_writable(va, 0), 0);
    CHECK_EQ(pvt_mmuext1(MMUEXT_SET_LDT, va, 3, 0), 0);

    static volatile uint32_t probe = 0x1d7;
    uint32_t val = 0;
    pvt_trap_reset();
    __asm__ volatile("push %%ds; mov %w1, %%ds; movl (%2), %0; pop %%ds"
                     : "=r"(val) : "r"(X86_SEL(0, 1, 1)), "r"(&probe) : "memory");
    CHECK_EQ(T.count, 0);
    CHECK_EQ(val, 0x1d7);
    uint16_t cs_seen = 0;
    __asm__ volatile("ljmp %[c], $1f\n1: mov %%cs, %0\nljmp %[kc], $2f\n2:\n"
                     : "=r"(cs_seen) : [c] "i"(X86_SEL(1, 1, 1)), [kc] "i"(FLAT_KERNEL_CS));
    CHECK_EQ(cs_seen, X86_SEL(1, 1, 1));

    /* Past nr_ents: #GP with the selector (RPL dropped). */
    pvt_trap_reset();
    PVT_TRY("mov %w0, %%fs", : : "r"(X86_SEL(3, 1, 1)));
    CHECK_EQ(T.vector, X86_EXC_GP);
    CHECK_EQ(T.error_code, X86_SEL(3, 1, 0));
    __asm__ volatile("xor %%eax, %%eax; mov %%eax, %%fs" ::: "eax");

    /* In use by the LDT: no writable mapping. */
    CHECK_NE(pvt_set_writable(va, 1), 0);

    /* No LDT: LDT selectors fault. */
    CHECK_EQ(pvt_mmuext1(MMUEXT_SET_LDT, 0, 0, 0), 0);
    pvt_trap_reset();
    PVT_TRY("mov %w0, %%fs", : : "r"(X86_SEL(0, 1, 1)));
    CHECK_EQ(T.vector, X86_EXC_GP);
    __asm__ volatile("xor %%eax, %%eax; mov %%eax, %%fs" ::: "eax");
    CHECK_EQ(pvt_set_writable(va, 1), 0);
}
