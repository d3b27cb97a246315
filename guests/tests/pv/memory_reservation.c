/*
 * memory_op reservations: current/maximum reservation, maximum_ram_page, giving a frame
 * back (decrease_reservation by GMFN = MFN for PV), getting one (increase_reservation
 * returns the MFN), and populate_physmap filling a PFN (Xen sets the M2P entry).
 */
#include "lib/pvtest.h"

PVTEST("memory_reservation", "SUCCESS", 0, "memory=32", "XENMEM increase/decrease/populate, reservation counts");

static long reservation(unsigned cmd, xen_pfn_t *extents, unsigned n, unsigned order)
{
    struct xen_memory_reservation r;
    memset(&r, 0, sizeof(r));
    set_xen_guest_handle(r.extent_start, extents);
    r.nr_extents = n;
    r.extent_order = order;
    r.domid = DOMID_SELF;
    return HYPERVISOR_memory_op(cmd, &r);
}

void test_main(void)
{
    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    long ram = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    long gpfn = HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &self);
    pv_printf("current %ld maximum %ld max_ram_page %lx maximum_gpfn %lx\n", cur, max, ram, gpfn);
    CHECK_EQ(cur, pvt_si->nr_pages);
    CHECK_EQ(max, pvt_si->nr_pages + 256);  /* xl adds LIBXL_MAXMEM_CONSTANT, 1 MiB */
    CHECK_GT_QUIET(ram, pvt_p2m[0]);
    /* For PV it derives from shared_info.arch.max_pfn, which the guest maintains. */
    CHECK_EQ(gpfn, 0);
    pvt_shared->arch.max_pfn = pvt_si->nr_pages;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &self), pvt_si->nr_pages - 1);

    /* Give back a loose frame (mapped nowhere). */
    unsigned long pfn;
    unsigned long mfn = pvt_alloc_loose_mfn(&pfn);
    xen_pfn_t ext[4] = { mfn };
    CHECK_EQ(reservation(XENMEM_decrease_reservation, ext, 1, 0), 1);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur - 1);
    /* Giving it back twice: it is no longer ours. */
    CHECK_EQ(reservation(XENMEM_decrease_reservation, ext, 1, 0), 0);

    /* Take one: Xen picks the frame and reports its MFN. */
    ext[0] = 0;
    CHECK_EQ(reservation(XENMEM_increase_reservation, ext, 1, 0), 1);
    unsigned long new_mfn = ext[0];
    CHECK_NE_QUIET(new_mfn, 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur);
    /* It is ours: we may map it, after telling the M2P which PFN it backs. */
    CHECK_EQ(pvt_mmu_update1(((uint64_t)new_mfn << 12) | MMU_MACHPHYS_UPDATE, pfn, 0, DOMID_SELF), 0);
    CHECK_EQ(pvt_m2p_lookup(new_mfn) == pfn, 1);
    volatile uint32_t *slot = pvt_alloc_page();
    CHECK_EQ(pvt_map((unsigned long)slot, new_mfn, _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY), 0);
    slot[0] = 0x600d;
    CHECK_EQ(slot[0], 0x600d);
    CHECK_EQ(pvt_unmap((unsigned long)slot), 0);

    /* Return it, then repopulate the PFN: populate_physmap takes PFNs, returns MFNs. */
    ext[0] = new_mfn;
    CHECK_EQ(reservation(XENMEM_decrease_reservation, ext, 1, 0), 1);
    ext[0] = pfn;
    CHECK_EQ(reservation(XENMEM_populate_physmap, ext, 1, 0), 1);
    unsigned long pop_mfn = ext[0];
    CHECK_EQ(pvt_m2p_lookup(pop_mfn) == pfn, 1);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur);

    /* Several extents in one call, and order-1 (2-page) extents. */
    xen_pfn_t many[4] = { 0 };
    CHECK_EQ(reservation(XENMEM_increase_reservation, many, 4, 0), 4);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur + 4);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, many, 4, 0), 4);
    CHECK_EQ(reservation(XENMEM_increase_reservation, many, 1, 1), 1);
    CHECK_EQ(many[0] & 1, 0);  /* an order-1 extent starts on an even MFN */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur + 2);
    CHECK_EQ(reservation(XENMEM_decrease_reservation, many, 1, 1), 1);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur);
    /* A NULL extent list: increase_reservation still allocates, reporting nothing. */
    CHECK_EQ(reservation(XENMEM_increase_reservation, 0, 1, 0), 1);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur + 1);
}
