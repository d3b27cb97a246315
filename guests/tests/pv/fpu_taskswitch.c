/*
 * fpu_taskswitch and the virtual CR0.TS: with TS set the first FPU instruction raises #NM
 * and Xen clears TS as it delivers it; clts is emulated as fpu_taskswitch(0); CR0 reads
 * (emulated) show TS; FPU state survives the #NM.
 */
#include "lib/pvtest.h"

PVTEST("fpu_taskswitch", "SUCCESS", 0, "", "virtual CR0.TS, #NM, clts");

#define T pvt_last_trap

static uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

void test_main(void)
{
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK_EQ(read_cr0() & X86_CR0_TS, 0);
    __asm__ volatile("fninit");

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK_NE(read_cr0() & X86_CR0_TS, 0);
    pvt_trap_reset();
    PVT_TRY("fninit");
    CHECK_EQ(T.count, 1);
    CHECK_EQ(T.vector, X86_EXC_NM);
    CHECK_EQ(T.error_code, 0);
    CHECK_EQ(T.fixed_up, 1);
    /* Xen cleared TS when it delivered #NM: the next FPU instruction runs. */
    CHECK_EQ(read_cr0() & X86_CR0_TS, 0);
    pvt_trap_reset();
    __asm__ volatile("fninit");
    CHECK_EQ(T.count, 0);

    /* clts is fpu_taskswitch(0). */
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    pvt_trap_reset();
    __asm__ volatile("clts");
    CHECK_EQ(T.count, 0);
    CHECK_EQ(read_cr0() & X86_CR0_TS, 0);
    __asm__ volatile("fninit");
    CHECK_EQ(T.count, 0);

    /* FPU contents survive a TS round trip. */
    static const double three = 3.0;
    double out = 0;
    __asm__ volatile("fninit; fldl %0" : : "m"(three));
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    pvt_trap_reset();
    PVT_TRY("fstpl %0", : "=m"(out));
    CHECK_EQ(T.vector, X86_EXC_NM);
    __asm__ volatile("fstpl %0" : "=m"(out));
    CHECK_EQ(out == 3.0, 1);

    /* mov to CR0 changing only TS is emulated; changing other bits is #GP. */
    uint32_t cr0 = read_cr0();
    pvt_trap_reset();
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | X86_CR0_TS));
    CHECK_EQ(T.count, 0);
    CHECK_NE(read_cr0() & X86_CR0_TS, 0);
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~X86_CR0_TS));
    CHECK_EQ(read_cr0() & X86_CR0_TS, 0);
    pvt_trap_reset();
    PVT_TRY("mov %0, %%cr0", : : "r"(cr0 & ~0x80000000u));  /* clear PG */
    CHECK_EQ(T.vector, X86_EXC_GP);
    CHECK_EQ(T.error_code, 0);
}
