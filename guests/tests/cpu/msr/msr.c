/*
 * CPUID, RDTSC, RDMSR and WRMSR basics: CPUID is present (EFLAGS.ID toggles) and works
 * at any CPL; the leaves report the features the other kernels rely on; the TSC counts up,
 * can be written through MSR 0x10, and CR4.TSD makes RDTSC privileged; RDMSR/WRMSR are
 * CPL 0 only; an MSR that does not exist and a reserved EFER bit fault #GP(0); WBINVD and
 * INVD are CPL 0 only, RDPMC too while CR4.PCE = 0, and a counter that does not exist is
 * #GP(0).
 *
 * QEMU's TCG departs from the manual in four places, marked CHECK_ARCH: it keeps MSR
 * 0x10 apart from the counter RDTSC reads (neither RDMSR nor WRMSR of it reach the TSC),
 * reads and writes MSRs that do not exist without #GP, accepts reserved EFER bits, and
 * raises #UD for RDPMC at CPL 0 (it has no counters; the SDM says #GP(0) for an invalid
 * counter, which is every counter here).
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

static uint32_t u_cpuid(uint32_t leaf) { return cpuid(leaf, 0).eax; }
static uint32_t u_rdtsc(uint32_t a)
{
    (void)a;
    uint32_t lo = 0, hi = 0;
    __asm__ volatile(TRY("rdtsc") : "+a"(lo), "+d"(hi) : : "memory");
    return lo;
}
static uint32_t u_rdmsr(uint32_t msr)
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile(TRY("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    return lo;
}
static uint32_t u_wrmsr(uint32_t msr)
{
    __asm__ volatile(TRY("wrmsr") : : "c"(msr), "a"(0), "d"(0) : "memory");
    return 0;
}
static uint32_t u_wbinvd(uint32_t a)
{
    (void)a;
    __asm__ volatile(TRY("wbinvd") : : : "memory");
    return 0;
}
static uint32_t u_invd(uint32_t a)
{
    (void)a;
    __asm__ volatile(TRY("invd") : : : "memory");
    return 0;
}
static uint32_t u_rdpmc(uint32_t counter)
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile(TRY("rdpmc") : "+a"(lo), "+d"(hi) : "c"(counter) : "memory");
    return lo;
}
static void k_rdmsr(uint32_t msr)
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile(TRY("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
}
static void k_wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile(TRY("wrmsr") : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static int printable(uint32_t w)
{
    for (int i = 0; i < 4; i++, w >>= 8)
        if ((w & 0xff) < 0x20 || (w & 0xff) > 0x7e) return 0;
    return 1;
}

static void cpuid_checks(void)
{
    test_section("cpuid");
    uint32_t f = read_eflags();
    write_eflags(f ^ EFL_ID);
    CHECK((read_eflags() ^ f) & EFL_ID, "EFLAGS.ID can be toggled (CPUID exists)");
    write_eflags(f);
    struct cpuid_regs r = cpuid(0, 0);
    CHECK(r.eax >= 1, "leaf 0: at least leaf 1");
    CHECK(printable(r.ebx) && printable(r.edx) && printable(r.ecx), "leaf 0: a printable vendor string");
    r = cpuid(1, 0);
    uint32_t family = (r.eax >> 8) & 0xf;
    CHECK(family >= 6, "leaf 1: family 6 or later (P6 class)");
    CHECK((r.edx & CPUID_FPU) && (r.edx & CPUID_TSC) && (r.edx & CPUID_MSR), "FPU, TSC, MSR");
    CHECK((r.edx & CPUID_CX8) && (r.edx & CPUID_CMOV), "CX8, CMOV");
    CHECK((r.edx & CPUID_PSE) && (r.edx & CPUID_PAE) && (r.edx & CPUID_PGE), "PSE, PAE, PGE");
    CHECK((r.edx & CPUID_SEP) && (r.edx & CPUID_FXSR), "SEP, FXSR");
    CHECK(cpuid(0x80000000u, 0).eax >= 0x80000001u, "extended leaves reach 0x80000001");
    CHECK(cpu_has_nx(), "0x80000001: NX");
    CHECK_EQ(ring_call(3, u_cpuid, 0, 0x2), cpuid(0, 0).eax, "cpuid works at CPL 3");
}

static void tsc_checks(void)
{
    test_section("time-stamp counter");
    uint64_t a = rdtsc();
    for (volatile int i = 0; i < 1000; i++) {
    }
    uint64_t b = rdtsc();
    CHECK(b > a, "the TSC counts up");
    uint64_t r1 = rdtsc(), m = rdmsr(MSR_TSC), r2 = rdtsc();
    CHECK_ARCH(r1 <= m && m <= r2, "rdmsr 0x10 reads the TSC");
    wrmsr(MSR_TSC, 0x100000000ull);
    uint64_t c = rdtsc();
    CHECK_ARCH(c >= 0x100000000ull && c < 0x100000000ull + (1ull << 31), "writing MSR 0x10 sets the TSC");
    ring_call(3, u_rdtsc, 0, 0x2);
    check_no_fault("rdtsc at CPL 3 with CR4.TSD = 0");
    write_cr4(read_cr4() | CR4_TSD);
    ring_call(3, u_rdtsc, 0, 0x2);
    check_fault(13, 0, "rdtsc at CPL 3 with CR4.TSD = 1: #GP(0)");
    u_rdtsc(0);
    check_no_fault("rdtsc at CPL 0 with TSD");
    write_cr4(read_cr4() & ~CR4_TSD);
}

static void msr_checks(void)
{
    test_section("rdmsr and wrmsr");
    ring_call(3, u_rdmsr, MSR_SYSENTER_CS, 0x2);
    check_fault(13, 0, "rdmsr at CPL 3: #GP(0)");
    ring_call(3, u_wrmsr, MSR_SYSENTER_CS, 0x2);
    check_fault(13, 0, "wrmsr at CPL 3: #GP(0)");
    ring_call(1, u_rdmsr, MSR_SYSENTER_CS, 0x2);
    check_fault(13, 0, "rdmsr at CPL 1: #GP(0)");
    k_rdmsr(0x40000123u + 0x12000000u);
    check_fault_arch(13, 0, "rdmsr of an MSR that does not exist: #GP(0)");
    k_wrmsr(0x52345678u, 1);
    check_fault_arch(13, 0, "wrmsr of an MSR that does not exist: #GP(0)");
    k_rdmsr(MSR_EFER);
    check_no_fault("EFER exists (NX is reported)");
    k_wrmsr(MSR_EFER, rdmsr(MSR_EFER) | (1ull << 1));
    check_fault_arch(13, 0, "setting a reserved EFER bit: #GP(0)");
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)2);
    wrmsr(MSR_SYSENTER_ESP, 0x12345678);
    CHECK_EQ(rdmsr(MSR_SYSENTER_ESP), 0x12345678, "an MSR keeps what was written");
}

static void cache_checks(void)
{
    test_section("wbinvd, invd, rdpmc");
    u_wbinvd(0);
    check_no_fault("wbinvd at CPL 0");
    u_invd(0);
    check_no_fault("invd at CPL 0");
    ring_call(3, u_wbinvd, 0, 0x2);
    check_fault(13, 0, "wbinvd at CPL 3: #GP(0)");
    ring_call(1, u_invd, 0, 0x2);
    check_fault(13, 0, "invd at CPL 1: #GP(0)");
    ring_call(3, u_rdpmc, 0, 0x2);
    check_fault(13, 0, "rdpmc at CPL 3 with CR4.PCE = 0: #GP(0)");
    u_rdpmc(0x1234);
    check_fault_arch(13, 0, "rdpmc of a counter that does not exist: #GP(0)");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-msr");
    cpuid_checks();
    tsc_checks();
    msr_checks();
    cache_checks();
    return test_finish();
}
