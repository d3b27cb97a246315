/*
 * Hostile, fatal: the iret hypercall asked to return to ring 0 (CS RPL 0). Xen crashes
 * the domain (compat_iret: "return to ring 0" is never allowed). Expected verdict: the
 * domain is crashed; no result line follows.
 */
#include "lib/pvtest.h"

PVTEST("iret_ring0", "CRASH", 1, "", "iret hypercall to CS RPL 0 crashes the domain");

void test_main(void)
{
    CHECK_EQ(x86_read_cs(), FLAT_KERNEL_CS);
    pvtest_expect_crash_now("iret hypercall with CS = FLAT_KERNEL_CS & ~3");
    __asm__ volatile("pushl $0x2\n"
                     "pushl %[cs]\n"
                     "pushl $1f\n"
                     "jmp hypercall_page + %c[slot]\n"
                     "1:\n"
                     "addl $0, %%esp\n"
                     : : [cs] "i"(FLAT_KERNEL_CS & ~3), [slot] "i"(__HYPERVISOR_iret * 32)
                     : "memory");
    pvtest_survived("an iret hypercall to ring 0");
}
