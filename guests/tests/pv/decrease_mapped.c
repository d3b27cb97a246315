/*
 * Hostile: giving back memory that is still in use. decrease_reservation of a frame that
 * is still mapped succeeds, but the frame stays allocated to the domain (and counted)
 * until the mapping's reference goes; once unmapped it is freed and cannot be mapped
 * again. A pinned L1 given back likewise lives on until unpinned. Frames not ours (above
 * RAM) are refused; Xen even lets the domain drop the allocation reference of its own
 * shared_info frame, which stays mapped and keeps working.
 */
#include "lib/pvtest.h"

PVTEST("decrease_mapped", "SUCCESS", 1, "memory=32", "decrease_reservation of mapped and pinned frames");

static long give_back(unsigned long mfn)
{
    xen_pfn_t ext[1] = { mfn };
    struct xen_memory_reservation r;
    memset(&r, 0, sizeof(r));
    set_xen_guest_handle(r.extent_start, ext);
    r.nr_extents = 1;
    r.domid = DOMID_SELF;
    return HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
}

void test_main(void)
{
    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);

    volatile uint32_t *page = pvt_alloc_page();
    page[0] = 0xfeed;
    unsigned long va = (unsigned long)page, mfn = pvt_va_to_mfn(va);
    CHECK_EQ(give_back(mfn), 1);
    /* Still mapped: still allocated and counted, contents intact. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur);
    CHECK_EQ(page[0], 0xfeed);
    page[1] = 1;
    CHECK_EQ(give_back(mfn), 1);  /* nothing left to drop: still "done" */
    /* Unmap: the last reference goes, the frame is freed and cannot be mapped again. */
    CHECK_EQ(pvt_unmap(va), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur - 1);
    CHECK_EQ(pvt_map(va, mfn, _PAGE_PRESENT | _PAGE_ACCESSED), -XEN_EBUSY);
    CHECK_EQ(give_back(mfn), 0);

    /* A pinned L1 that nothing else references: lives on until unpinned. */
    uint64_t *t = pvt_alloc_page();
    CHECK_EQ(pvt_set_writable((unsigned long)t, 0), 0);
    unsigned long tm = pvt_va_to_mfn((unsigned long)t);
    CHECK_EQ(pvt_pin(1, tm), 0);
    CHECK_EQ(pvt_unmap((unsigned long)t), 0);
    CHECK_EQ(give_back(tm), 1);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur - 1);
    CHECK_EQ(pvt_unpin(tm), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur - 2);
    CHECK_EQ(give_back(tm), 0);

    /* Above RAM: not ours. */
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    CHECK_EQ(give_back(top + 5), 0);

    /* shared_info: Xen accepts it (the allocation reference is dropped), but the frame is
     * Xen's and stays in use: time keeps moving through our mapping. */
    CHECK_EQ(give_back(pvt_si->shared_info >> 12), 1);
    uint64_t t0 = pvt_now();
    pvt_sleep_until(t0 + 20000000ULL);
    CHECK_GE_QUIET(pvt_now(), t0 + 20000000ULL);
    CHECK_EQ(pvt_vcpu(0)->time.version & 1, 0);
    CHECK_EQ(xen_evtchn_send(pvt_si->console.domU.evtchn), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur - 2);
}
