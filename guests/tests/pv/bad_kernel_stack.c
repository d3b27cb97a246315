/*
 * Hostile, fatal: an exception while the kernel stack is unusable. Xen must write the
 * bounce frame onto the ring-1 stack; with ESP pointing into an unmapped page it cannot,
 * and it crashes the domain. Expected verdict: the domain is crashed.
 */
#include "lib/pvtest.h"

PVTEST("bad_kernel_stack", "CRASH", 1, "", "exception with an unmapped kernel stack crashes the domain");

void test_main(void)
{
    void *page = pvt_alloc_page();
    CHECK_EQ(pvt_unmap((unsigned long)page), 0);
    pvtest_expect_crash_now("ud2 with ESP in an unmapped page");
    __asm__ volatile("movl %0, %%esp\n"
                     "ud2\n"
                     : : "r"((uint32_t)page + 2048) : "memory");
    pvtest_survived("a fault with an unmapped kernel stack");
}
