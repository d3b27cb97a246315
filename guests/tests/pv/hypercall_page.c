/*
 * The hypercall page Xen wrote into the image: one stub per 32-byte slot
 * (mov $i,%eax; int $0x82; ret, then int3 filler), the iret slot (push %eax;
 * mov $__HYPERVISOR_iret,%eax; int $0x82), and that calling through the page and
 * issuing int $0x82 directly reach the same hypercall.
 */
#include "lib/pvtest.h"

PVTEST("hypercall_page", "SUCCESS", 0, "", "hypercall page stubs and direct int 0x82");

void test_main(void)
{
    unsigned bad_slots = 0, bad_fill = 0;
    for (unsigned i = 0; i < 4096 / 32; i++) {
        const uint8_t *s = hypercall_page + i * 32;
        unsigned len;
        if (i == __HYPERVISOR_iret) {
            static const uint8_t want[] = { 0x50, 0xb8, __HYPERVISOR_iret, 0, 0, 0, 0xcd, HYPERCALL_VECTOR };
            len = sizeof(want);
            if (memcmp(s, want, len)) bad_slots++;
        } else {
            uint8_t want[8] = { 0xb8, (uint8_t)i, 0, 0, 0, 0xcd, HYPERCALL_VECTOR, 0xc3 };
            len = sizeof(want);
            if (memcmp(s, want, len)) {
                if (!bad_slots)
                    pv_printf("slot %u: %02x %02x %02x %02x %02x %02x %02x %02x\n", i, s[0], s[1],
                              s[2], s[3], s[4], s[5], s[6], s[7]);
                bad_slots++;
            }
        }
        for (unsigned j = len; j < 32; j++)
            if (s[j] != 0xcc) bad_fill++;
    }
    CHECK_EQ(bad_slots, 0);
    CHECK_EQ(bad_fill, 0);

    long via_page = HYPERVISOR_xen_version(XENVER_version, 0);
    long via_int = xen_hypercall_int82(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
    long via_generic = xen_hypercall(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
    CHECK_EQ(via_int, via_page);
    CHECK_EQ(via_generic, via_page);
    CHECK_EQ(via_page >> 16, 4);

    /* Registers beyond a hypercall's arguments survive it (here EBP, ESI, EDI around a
     * 2-argument call). */
    uint32_t b = XENVER_version, c = 0, esi = 0x12345678, edi = 0x9abcdef0, ebp_out;
    long rc;
    __asm__ volatile("pushl %%ebp\n"
                     "movl $0x55aa55aa, %%ebp\n"
                     "call hypercall_page + %c[slot]\n"
                     "movl %%ebp, %%edx\n"
                     "popl %%ebp\n"
                     : "=a"(rc), "=d"(ebp_out), "+S"(esi), "+D"(edi), "+b"(b), "+c"(c)
                     : [slot] "i"(__HYPERVISOR_xen_version * 32)
                     : "memory");
    CHECK_EQ(rc, via_page);
    CHECK_EQ(ebp_out, 0x55aa55aa);
    CHECK_EQ(esi, 0x12345678);
    CHECK_EQ(edi, 0x9abcdef0);
}
