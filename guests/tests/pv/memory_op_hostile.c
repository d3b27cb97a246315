/*
 * Hostile: memory_op abuse. Asking for more memory than the domain's maximum gets only
 * what is left (the call returns the count done); extents larger than a domU may request
 * and other domains' reservations give 0 extents; unreadable extent lists stop at the
 * first unreadable entry; queries with unreadable arguments are -EFAULT; exchange with a
 * bad argument fails; unknown commands are -ENOSYS.
 */
#include "lib/pvtest.h"

PVTEST("memory_op_hostile", "SUCCESS", 1, "memory=32", "reservation limits, bad extents, bad domains");

static long resv(unsigned cmd, xen_pfn_t *ext, unsigned n, unsigned order, domid_t dom)
{
    struct xen_memory_reservation r;
    memset(&r, 0, sizeof(r));
    set_xen_guest_handle(r.extent_start, ext);
    r.nr_extents = n;
    r.extent_order = order;
    r.domid = dom;
    return HYPERVISOR_memory_op(cmd, &r);
}

void test_main(void)
{
    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    static xen_pfn_t ext[1024];

    /* More than the maximum: only max - cur extents. */
    long got = resv(XENMEM_increase_reservation, ext, 1000, 0, DOMID_SELF);
    CHECK_EQ(got, max - cur);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), max);
    CHECK_EQ(resv(XENMEM_increase_reservation, ext + 1000, 1, 0, DOMID_SELF), 0);
    CHECK_EQ(resv(XENMEM_decrease_reservation, ext, (unsigned)got, 0, DOMID_SELF), got);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur);

    /* Extent orders beyond what a domU may ask for. */
    CHECK_EQ(resv(XENMEM_increase_reservation, ext, 1, 10, DOMID_SELF), 0);
    CHECK_EQ(resv(XENMEM_populate_physmap, ext, 1, 20, DOMID_SELF), 0);
    /* Absurd counts. */
    CHECK_EQ(resv(XENMEM_increase_reservation, ext, 0xffffffff, 0, DOMID_SELF), 0);
    /* Another domain, DOMID_XEN, a domain that does not exist. */
    CHECK_EQ(resv(XENMEM_increase_reservation, ext, 1, 0, 0), 0);
    CHECK_EQ(resv(XENMEM_increase_reservation, ext, 1, 0, DOMID_XEN), 0);
    CHECK_EQ(resv(XENMEM_increase_reservation, ext, 1, 0, 31000), 0);

    /* Decrease with an unreadable list, and with a frame in the list not ours. */
    CHECK_EQ(resv(XENMEM_decrease_reservation, (xen_pfn_t *)0x100, 1, 0, DOMID_SELF), 0);
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    unsigned long pfn;
    ext[0] = pvt_alloc_loose_mfn(&pfn);
    ext[1] = top - 1;
    ext[2] = pvt_alloc_loose_mfn(&pfn);
    CHECK_EQ(resv(XENMEM_decrease_reservation, ext, 3, 0, DOMID_SELF), 1);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur - 1);

    /* populate_physmap into an unwritable extent list: the first extent's result cannot
     * be written back (0 done). */
    CHECK_EQ(resv(XENMEM_populate_physmap, (xen_pfn_t *)HYPERVISOR_VIRT_START, 1, 0, DOMID_SELF), 0);

    /* Queries. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, (void *)0x100), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_increase_reservation, (void *)0x100), 0);
    struct xen_memory_exchange ex;
    memset(&ex, 0, sizeof(ex));
    ex.in.nr_extents = 1;
    ex.out.nr_extents = 1;
    ex.in.extent_order = 0;
    ex.out.extent_order = 5;  /* sizes do not match */
    set_xen_guest_handle(ex.in.extent_start, ext);
    set_xen_guest_handle(ex.out.extent_start, ext + 10);
    ex.in.domid = ex.out.domid = DOMID_SELF;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &ex), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, (void *)0x100), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_memory_op(1000, &self), -XEN_ENOSYS);
}
