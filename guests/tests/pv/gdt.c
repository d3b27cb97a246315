/*
 * Guest descriptor tables: set_gdt with a read-only frame of descriptors (code and data
 * at DPL 1 and 3), loading and using those selectors (a far jump through our own code
 * segment, data through our own data segment), update_descriptor on a live GDT entry and
 * on ordinary frames (but not on a page table), the frame held as a descriptor page while installed (no writable
 * mapping), and released afterwards.
 */
#include "lib/pvtest.h"

PVTEST("gdt", "SUCCESS", 0, "", "set_gdt, update_descriptor, guest selectors");

#define T pvt_last_trap

void test_main(void)
{
    uint64_t *gdt = pvt_alloc_page();
    gdt[1] = x86_desc(0, 0xfffff, X86_DESC_CODE(1), X86_DESC_FLAGS_32_4K);
    gdt[2] = x86_desc(0, 0xfffff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K);
    gdt[3] = x86_desc(0, 0xfffff, X86_DESC_DATA(3), X86_DESC_FLAGS_32_4K);
    gdt[4] = x86_desc(0, 0xfffff, X86_DESC_CODE(3), X86_DESC_FLAGS_32_4K);
    gdt[5] = x86_desc(0x1000, 0, X86_DESC_DATA(1), 0x4);  /* byte-granular, 1 byte */
    unsigned long va = (unsigned long)gdt;
    xen_pfn_t frames[1] = { pvt_va_to_mfn(va) };

    /* A writable frame is refused. */
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 16), -XEN_EINVAL);
    CHECK_EQ(pvt_set_writable(va, 0), 0);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 16), 0);
    /* Installed: it cannot be mapped writable. */
    CHECK_NE(pvt_set_writable(va, 1), 0);

    /* Our data segment works; Xen's flat selectors still do. */
    uint16_t sel = X86_SEL(2, 0, 1);
    uint32_t val = 0;
    static volatile uint32_t probe = 0x5eed;
    __asm__ volatile("push %%ds; mov %w1, %%ds; movl (%2), %0; pop %%ds"
                     : "=r"(val) : "r"(sel), "r"(&probe) : "memory");
    CHECK_EQ(val, 0x5eed);
    CHECK_EQ(x86_read_cs(), FLAT_KERNEL_CS);

    /* A far jump into our code segment and back to FLAT_KERNEL_CS. */
    uint16_t cs_seen = 0;
    __asm__ volatile("ljmp %[c1], $1f\n"
                     "1: mov %%cs, %0\n"
                     "ljmp %[kc], $2f\n"
                     "2:\n"
                     : "=r"(cs_seen) : [c1] "i"(X86_SEL(1, 0, 1)), [kc] "i"(FLAT_KERNEL_CS));
    CHECK_EQ(cs_seen, X86_SEL(1, 0, 1));
    CHECK_EQ(x86_read_cs(), FLAT_KERNEL_CS);

    /* A DPL-3 data selector may be loaded in ring 1 (DPL >= CPL). */
    __asm__ volatile("push %%es; mov %w0, %%es; pop %%es" : : "r"(X86_SEL(3, 0, 3)));
    /* Entry 6 is empty: loading it is #GP with the selector. */
    pvt_trap_reset();
    PVT_TRY("mov %w0, %%fs", : : "r"(X86_SEL(6, 0, 1)));
    CHECK_EQ(T.vector, X86_EXC_GP);
    CHECK_EQ(T.error_code, X86_SEL(6, 0, 0));
    __asm__ volatile("xor %%eax, %%eax; mov %%eax, %%fs" ::: "eax");

    /* update_descriptor on the live GDT: entry 6 becomes a data segment. */
    uint64_t ma = ((uint64_t)frames[0] << 12) + 6 * 8;
    CHECK_EQ(HYPERVISOR_update_descriptor(ma, x86_desc(0, 0xfffff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K)), 0);
    CHECK_EQ(gdt[6] >> 40 & 0xff, X86_DESC_DATA(1));  /* stored as given */
    pvt_trap_reset();
    __asm__ volatile("push %%fs; mov %w0, %%fs; pop %%fs" : : "r"(X86_SEL(6, 0, 1)));
    CHECK_EQ(T.count, 0);
    /* Misaligned address. */
    CHECK_EQ(HYPERVISOR_update_descriptor(ma + 4, 0), -XEN_EINVAL);

    /* A descriptor written into a read-only, untyped frame of ours is fine too. */
    uint64_t *plain = pvt_alloc_page();
    CHECK_EQ(pvt_set_writable((unsigned long)plain, 0), 0);
    uint64_t pma = ((uint64_t)pvt_va_to_mfn((unsigned long)plain) << 12) + 8;
    uint64_t d = x86_desc(0, 0xfffff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K);
    CHECK_EQ(HYPERVISOR_update_descriptor(pma, d), 0);
    CHECK_EQ(plain[1] == d, 1);
    /* ... and into a writable-mapped one (any page that may take the writable type). */
    CHECK_EQ(pvt_set_writable((unsigned long)plain, 1), 0);
    plain[1] = 0;
    CHECK_EQ(HYPERVISOR_update_descriptor(pma, d), 0);
    CHECK_EQ(plain[1] == d, 1);
    /* Not into a page table, which cannot take the writable type. */
    uint64_t l1_ma = pvt_pte_maddr((unsigned long)plain) & ~0xfffULL;
    CHECK_EQ(HYPERVISOR_update_descriptor(l1_ma + 4088, d), -XEN_EINVAL);

    /* Back to no guest GDT: the frame is released and may be written again. */
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 0), 0);
    CHECK_EQ(pvt_set_writable(va, 1), 0);
    gdt[1] = 0;
}
