/*
 * Hostile: console_io, a dom0 interface, from a domU on a release build of Xen 4.x:
 * XSM's default policy lets only the console domain use it, so every sub-op, known or
 * not, is -EPERM; the PV console ring is a domU's only console (this test's own output,
 * longer than the ring, proves it works).
 */
#include "lib/pvtest.h"

PVTEST("console_io", "SUCCESS", 1, "", "CONSOLEIO_* refused to a domU; PV console ring works");

void test_main(void)
{
    static const char msg[] = "console_io from a domU\n";
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg), -XEN_EPERM);
    char buf[16];
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), buf), -XEN_EPERM);
    CHECK_EQ(HYPERVISOR_console_io(7, 0, 0), -XEN_EPERM);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 0x7fffffff, (const char *)HYPERVISOR_VIRT_START),
             -XEN_EPERM);

    /* The ring: a long burst larger than the ring's out[] must arrive intact. */
    for (unsigned i = 0; i < 40; i++)
        pv_printf("ring line %02u: the quick brown fox jumps over the lazy dog\n", i);
    CHECK_EQ(xen_console.dropped, 0);
    CHECK_EQ(xen_console_flush(), 1);
}
