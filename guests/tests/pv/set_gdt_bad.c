/*
 * Hostile: set_gdt requests Xen refuses. More entries than the guest part of the GDT
 * (FIRST_RESERVED_GDT_ENTRY) is -EINVAL, an unreadable frame list is -EFAULT, a frame that
 * is mapped writable, not ours or holding a bad descriptor is -EINVAL, and a refused
 * request leaves no frame held (the good frames of it can be made writable again).
 */
#include "lib/pvtest.h"

PVTEST("set_gdt_bad", "SUCCESS", 1, "", "set_gdt limits, frames and validation");

void test_main(void)
{
    uint64_t *g0 = pvt_alloc_page(), *g1 = pvt_alloc_page();
    g0[1] = x86_desc(0, 0xfffff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K);
    xen_pfn_t frames[16];
    frames[0] = pvt_va_to_mfn((unsigned long)g0);
    frames[1] = pvt_va_to_mfn((unsigned long)g1);
    CHECK_EQ(pvt_set_writable((unsigned long)g0, 0), 0);

    CHECK_EQ(HYPERVISOR_set_gdt(frames, FIRST_RESERVED_GDT_ENTRY + 1), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 0xffffffff), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_gdt((xen_pfn_t *)0x100, 8), -XEN_EFAULT);

    /* Second frame still writable: the whole request fails; the first is released. */
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 1024), -XEN_EINVAL);
    CHECK_EQ(pvt_set_writable((unsigned long)g0, 1), 0);
    CHECK_EQ(pvt_set_writable((unsigned long)g0, 0), 0);

    /* A frame that is not ours. */
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    frames[1] = top - 1;
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 1024), -XEN_EINVAL);
    frames[1] = top + 100;
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 1024), -XEN_EINVAL);

    /* A page table as a GDT frame. */
    frames[1] = (xen_pfn_t)(pvt_pte_maddr((unsigned long)g1) >> 12);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 1024), -XEN_EINVAL);

    /* The good single frame works, and the maximum guest size with it is accepted. */
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 512), 0);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 0), 0);
    CHECK_EQ(pvt_set_writable((unsigned long)g0, 1), 0);
}
