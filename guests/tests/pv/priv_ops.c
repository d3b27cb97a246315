/*
 * Privileged instructions a ring-1 kernel executes and Xen emulates (or refuses with #GP):
 * control-register reads, CR3 writes (= new base pointer), wbinvd, debug registers through
 * mov, rdtsc, the forced-emulation CPUID prefix (ud2; "xen"; cpuid) with Xen's leaves,
 * and the ones that stay #GP (hlt, lgdt, cli/sti without IOPL, in/out without ports).
 */
#include "lib/pvtest.h"

PVTEST("priv_ops", "SUCCESS", 0, "", "emulated CR/DR access, forced-emulation CPUID, #GP cases");

#define T pvt_last_trap

static void forced_cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("ud2; .ascii \"xen\"; cpuid"
                     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

#define EXPECT_GP(insn, ...)                                                         \
    do {                                                                             \
        pvt_trap_reset();                                                            \
        PVT_TRY(insn, __VA_ARGS__);                                                  \
        CHECK_EQ_NAMED(insn ": vector", T.vector, X86_EXC_GP);                       \
        CHECK_EQ_NAMED(insn ": error code", T.error_code, 0);                        \
        CHECK_EQ_NAMED(insn ": at the instruction", T.fixed_up, 1);                  \
    } while (0)

void test_main(void)
{
    uint32_t cr0, cr3, cr4, a, b, c, d;

    pvt_trap_reset();
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    CHECK_EQ(T.count, 0);
    pv_printf("cr0 %08x cr4 %08x\n", cr0, cr4);
    CHECK_NE(cr0 & 0x80000001u, 0);  /* PG and PE */
    unsigned long l3 = pvt_l3_mfn();
    CHECK_EQ(cr3 == (((uint32_t)l3 << 12) | ((uint32_t)l3 >> 20)), 1);  /* xen_pfn_to_cr3 */
    CHECK_NE(cr4 & 0x20, 0);  /* PAE */

    /* Writing CR3 with the current L3 is a NEW_BASEPTR. */
    pvt_trap_reset();
    __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
    CHECK_EQ(T.count, 0);

    /* CR4 writes are accepted, but only guest-controllable bits change: PGE does not. */
    pvt_trap_reset();
    uint32_t cr4b;
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 0x80));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4b));
    CHECK_EQ(T.count, 0);
    CHECK_EQ(cr4b == cr4, 1);

    /* wbinvd is accepted (and ignored without cache-flush permission). */
    pvt_trap_reset();
    __asm__ volatile("wbinvd");
    CHECK_EQ(T.count, 0);

    /* Debug registers through mov: DR7 round trip, same as get_debugreg. */
    uint32_t dr7 = 0;
    pvt_trap_reset();
    __asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
    CHECK_EQ(T.count, 0);
    CHECK_EQ(dr7, (uint32_t)HYPERVISOR_get_debugreg(7));
    __asm__ volatile("mov %0, %%dr0" : : "r"(0x12345000));
    CHECK_EQ(HYPERVISOR_get_debugreg(0), 0x12345000);
    CHECK_EQ(HYPERVISOR_set_debugreg(0, 0), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(0), 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(8), -XEN_ENODEV);
    CHECK_EQ(HYPERVISOR_set_debugreg(8, 0), -XEN_ENODEV);

    /* rdtsc runs natively and moves forward. */
    uint64_t t0 = xen_rdtsc(), t1 = xen_rdtsc();
    CHECK_GT_QUIET(t1, t0);

    /* Forced emulation: Xen's CPUID leaves. */
    forced_cpuid(0x40000000, &a, &b, &c, &d);
    CHECK_GE(a, 0x40000002);
    CHECK_EQ(b, 0x566e6558);  /* "XenV" */
    CHECK_EQ(c, 0x65584d4d);  /* "MMXe" */
    CHECK_EQ(d, 0x4d4d566e);  /* "nVMM" */
    forced_cpuid(0x40000001, &a, &b, &c, &d);
    CHECK_EQ(a, (uint32_t)HYPERVISOR_xen_version(XENVER_version, 0));
    forced_cpuid(0x40000002, &a, &b, &c, &d);
    CHECK_EQ(a, 1);           /* hypercall pages */
    CHECK_EQ(b, 0x40000000);  /* hypercall MSR */
    /* Leaf 0 through the prefix: a vendor string, and max leaf >= 1. */
    forced_cpuid(0, &a, &b, &c, &d);
    CHECK_GE(a, 1);
    /* Leaf 1 through the prefix is Xen's PV policy: the hypervisor bit, and none of the
     * HVM-only features (VME, PSE, MTRR, PGE, PSE-36). */
    forced_cpuid(1, &a, &b, &c, &d);
    CHECK_EQ(c >> 31, 1);
    CHECK_EQ(d & ((1u << 1) | (1u << 3) | (1u << 12) | (1u << 13) | (1u << 17)), 0);
    CHECK_NE(d & (1u << 4), 0);  /* TSC stays */

    /* Still #GP: hlt, lgdt, lidt, ltr, cli/sti without IOPL, I/O without ports. */
    static const uint8_t dtr[6];
    EXPECT_GP("hlt");
    EXPECT_GP("lgdt %0", : : "m"(dtr));
    EXPECT_GP("lidt %0", : : "m"(dtr));
    EXPECT_GP("ltr %w0", : : "r"(0x28));
    EXPECT_GP("cli");
    EXPECT_GP("sti");
    EXPECT_GP("inb $0x80, %%al", : : : "eax");
    EXPECT_GP("outb %%al, $0x80", : : "a"(0));
    EXPECT_GP("inl %%dx, %%eax", : : "d"(0xcf8) : "eax");
    EXPECT_GP("rdpmc", : : "c"(0) : "eax", "edx");
    EXPECT_GP("wrmsr", : : "c"(0x12345), "a"(0), "d"(0));
    EXPECT_GP("rdmsr", : : "c"(0x12345) : "eax", "edx");
}
