/*
 * Hostile: hypercall numbers a 32-bit PV guest may not use. Unassigned numbers, numbers
 * past the table (through the page's slots and through int $0x82 directly: 64, 127, 128,
 * 0xffffffff) and numbers reserved for 64-bit guests are -ENOSYS, without side effects;
 * optional interfaces answer as built (absent: -ENOSYS).
 */
#include "lib/pvtest.h"

PVTEST("bad_hypercall_numbers", "SUCCESS", 1, "", "unknown and unavailable hypercall numbers");

void test_main(void)
{
    static const uint32_t nosys[] = {
        11,                                  /* unused (old set_fast_trap) */
        __HYPERVISOR_set_segment_base,       /* 64-bit guests only */
        43, 44, 45, 46, 47,                  /* unassigned */
        56, 57, 60, 63,                      /* unassigned arch range */
        64, 100, 127,                        /* past NR_hypercalls, within the page */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(nosys); i++) {
        pv_printf("hypercall %u:\n", nosys[i]);
        CHECK_EQ(xen_hypercall(nosys[i], 1, 2, 3, 4, 5), -XEN_ENOSYS);
        CHECK_EQ(xen_hypercall_int82(nosys[i], 1, 2, 3, 4, 5), -XEN_ENOSYS);
    }
    static const uint32_t beyond[] = { 128, 255, 0x10000, 0x7fffffff, 0x80000000u, 0xffffffffu };
    for (unsigned i = 0; i < ARRAY_SIZE(beyond); i++)
        CHECK_EQ_NAMED("int $0x82 past the page", xen_hypercall_int82(beyond[i], 0, 0, 0, 0, 0), -XEN_ENOSYS);

    /* Optional interfaces, as this Xen (Debian's 4.17 build) answers a domU calling them
     * with zero arguments: absent ones -ENOSYS; xenoprof is built in (its first op reads
     * the NULL argument: -EFAULT); hypfs is built in and privileged (-EPERM). */
    static const struct { const char *name; uint32_t nr; long rc; } opt[] = {
        { "xsm_op", __HYPERVISOR_xsm_op, -XEN_ENOSYS },
        { "xenoprof_op", __HYPERVISOR_xenoprof_op, -XEN_EFAULT },
        { "tmem_op", __HYPERVISOR_tmem_op, -XEN_ENOSYS },
        { "argo_op", __HYPERVISOR_argo_op, -XEN_ENOSYS },
        { "hypfs_op", __HYPERVISOR_hypfs_op, -XEN_EPERM },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(opt); i++)
        CHECK_EQ_NAMED(opt[i].name, xen_hypercall(opt[i].nr, 0, 0, 0, 0, 0), opt[i].rc);
    /* The domain is unharmed. */
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, 0) >> 16, 4);
}
