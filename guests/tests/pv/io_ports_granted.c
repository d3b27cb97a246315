/*
 * I/O to ports the toolstack granted (xl ioports = ["92"]: the PC's "system control port
 * A", bit 1 = A20 enabled, read only here). With a virtual IOPL of 1 the emulated in
 * reaches the real port; an ungranted neighbour still reads all-ones; without IOPL or an
 * I/O bitmap entry even the granted port is #GP.
 */
#include "lib/pvtest.h"

PVTEST("io_ports_granted", "SUCCESS", 0, "ioports=[\\\"92\\\"]", "emulated in/out on a port granted by xl ioports");

#define T pvt_last_trap

void test_main(void)
{
    pvt_trap_reset();
    PVT_TRY("inb $0x92, %%al", : : : "eax");
    CHECK_EQ(T.vector, X86_EXC_GP);

    struct physdev_set_iopl iopl = { .iopl = 1 };
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    uint32_t a = 0, b = 0;
    pvt_trap_reset();
    __asm__ volatile("inb $0x92, %%al" : "=a"(a) : "a"(0));
    __asm__ volatile("inb $0x93, %%al" : "=a"(b) : "a"(0));
    CHECK_EQ(T.count, 0);
    pv_printf("port 0x92 reads %02x\n", a & 0xff);
    CHECK_EQ(a & 0x02, 0x02);   /* A20 enabled */
    CHECK_NE(a & 0xff, 0xff);   /* a real port, not Xen's all-ones */
    CHECK_EQ(b & 0xff, 0xff);   /* not granted */
    /* A 16-bit read spanning the granted and an ungranted port. */
    uint32_t w = 0;
    __asm__ volatile("inw $0x92, %%ax" : "=a"(w) : "a"(0));
    CHECK_EQ(w & 0xff, a & 0xff);
    CHECK_EQ((w >> 8) & 0xff, 0xff);
}
