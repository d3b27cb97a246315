/*
 * I/O instructions of a PV kernel: without I/O privilege they raise #GP; with a virtual
 * IOPL (PHYSDEVOP_set_iopl) they are emulated, and a domU that was granted no ports reads
 * all-ones and writes go nowhere, except the per-domain virtual PCI CONFIG_ADDRESS (0xcf8,
 * dword), which reads back what was written. An I/O bitmap (PHYSDEVOP_set_iobitmap)
 * admits listed ports only. Ring 3 stays out.
 */
#include "lib/pvtest.h"

PVTEST("io_ports", "SUCCESS", 0, "", "set_iopl, set_iobitmap, emulated in/out, virtual 0xcf8");

#define T pvt_last_trap

PVT_USER_TEXT static uint32_t user_in(uint32_t port)
{
    uint32_t v;
    __asm__ volatile("inb %w1, %b0" : "=a"(v) : "d"(port));
    return v & 0xff;
}

static uint8_t iobitmap[8192];

void test_main(void)
{
    pvt_trap_reset();
    PVT_TRY("inb $0x80, %%al", : : : "eax");
    CHECK_EQ(T.vector, X86_EXC_GP);
    CHECK_EQ(T.error_code, 0);

    struct physdev_set_iopl iopl = { .iopl = 1 };
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    uint32_t b, w, l;
    pvt_trap_reset();
    __asm__ volatile("inb $0x80, %%al" : "=a"(b) : "a"(0));
    __asm__ volatile("inw $0x80, %%ax" : "=a"(w) : "a"(0));
    __asm__ volatile("inl $0x84, %%eax" : "=a"(l));
    __asm__ volatile("outb %%al, $0x80" : : "a"(0x12));
    CHECK_EQ(T.count, 0);
    CHECK_EQ(b & 0xff, 0xff);
    CHECK_EQ(w & 0xffff, 0xffff);
    CHECK_EQ(l, 0xffffffff);

    /* CONFIG_ADDRESS is virtual per domain; CONFIG_DATA reads all-ones for a domU. */
    uint32_t cf8;
    __asm__ volatile("outl %%eax, %%dx" : : "a"(0x80001234), "d"(0xcf8));
    __asm__ volatile("inl %%dx, %%eax" : "=a"(cf8) : "d"(0xcf8));
    CHECK_EQ(cf8, 0x80001234);
    __asm__ volatile("inl %%dx, %%eax" : "=a"(l) : "d"(0xcfc));
    CHECK_EQ(l, 0xffffffff);

    /* Ring 3 is above IOPL 1. */
    pvt_trap_reset();
    CHECK_EQ(pvt_user_call(user_in, 0x80), PVT_USER_FAULTED);
    CHECK_EQ(T.vector, X86_EXC_GP);
    CHECK_EQ(T.from_user, 1);

    /* IOPL 3: ring 3 may do I/O too. */
    iopl.iopl = 3;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    CHECK_EQ(pvt_user_call(user_in, 0x80), 0xff);
    iopl.iopl = 4;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), -XEN_EINVAL);

    /* Back to IOPL 0, with an I/O bitmap admitting port 0x80 only (clear bit = allowed). */
    iopl.iopl = 0;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    memset(iobitmap, 0xff, sizeof(iobitmap));
    iobitmap[0x80 / 8] &= (uint8_t)~(1u << (0x80 % 8));
    struct physdev_set_iobitmap bm;
    set_xen_guest_handle(bm.bitmap, iobitmap);
    bm.nr_ports = 65536;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iobitmap, &bm), 0);
    pvt_trap_reset();
    __asm__ volatile("inb $0x80, %%al" : "=a"(b) : "a"(0));
    CHECK_EQ(T.count, 0);
    CHECK_EQ(b & 0xff, 0xff);
    PVT_TRY("inb $0x81, %%al", : : : "eax");
    CHECK_EQ(T.vector, X86_EXC_GP);
    bm.nr_ports = 0;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iobitmap, &bm), 0);
    pvt_trap_reset();
    PVT_TRY("inb $0x80, %%al", : : : "eax");
    CHECK_EQ(T.vector, X86_EXC_GP);
}
