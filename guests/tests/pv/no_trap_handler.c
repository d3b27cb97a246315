/*
 * Hostile, fatal: an exception with no handler in the virtual IDT. After set_trap_table
 * (NULL) clears the table, #UD has nowhere to go and Xen crashes the domain. Expected
 * verdict: the domain is crashed.
 */
#include "lib/pvtest.h"

PVTEST("no_trap_handler", "CRASH", 1, "", "exception with an empty virtual IDT crashes the domain");

void test_main(void)
{
    CHECK_EQ(HYPERVISOR_set_trap_table(0), 0);
    pvtest_expect_crash_now("ud2 with no trap table");
    __asm__ volatile("ud2");
    pvtest_survived("an exception without a handler");
}
