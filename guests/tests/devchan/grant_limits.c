/*
 * Hostile: grant-table limits and edges in one domain (xl.cfg max_grant_frames=4,
 * max_maptrack_frames=1). Grants to ourselves stand in for a peer.
 *   - table size: query_size, setup_table up to the limit and past it, batch counts;
 *   - versions: set_version(1) is a no-op, other values are refused; get_version;
 *     a v1 table has no status frames;
 *   - pins: a read-only device mapping counter stops at 128 (general_error);
 *   - maptrack: one frame gives 255 usable handles, then GNTST_no_space; an unmap makes
 *     room again; unmaps of bad handles are bad_handle;
 *   - PTE mappings: by PTE machine address (contains_pte), misaligned or not in an L1,
 *     in the hypervisor's area, above 4 GiB; the PTE bits (USER for application_map, the
 *     available bits from flags 16-18, NX); unmap_and_replace;
 *   - swap_grant_ref, cache_flush, unknown commands and argument bits.
 */
#include "tests/devchan/lib/devchan.h"

PVTEST("devchan_grant_limits", "SUCCESS", 1, "max_grant_frames=4;max_maptrack_frames=1",
       "grant table size, pin and maptrack limits, PTE mappings, swap, cache_flush");

static long gop(unsigned cmd, void *arg, unsigned count)
{
    return HYPERVISOR_grant_table_op(cmd, arg, count);
}

static void table_size(void)
{
    uint32_t nr = 0, max = 0;
    CHECK_EQ(xen_gnttab_query(&nr, &max), GNTST_okay);
    CHECK_EQ(max, 4);
    CHECK_EQ(nr, 1);
    xen_pfn_t frames[8];
    CHECK_EQ(xen_gnttab_setup(5, frames), GNTST_general_error);
    CHECK_EQ(xen_gnttab_setup(4, frames), GNTST_okay);
    CHECK_EQ(xen_gnttab_query(&nr, &max), GNTST_okay);
    CHECK_EQ(nr, 4);
    CHECK_EQ(xen_gnttab_setup(2, frames), GNTST_okay); /* never shrinks */
    CHECK_EQ(xen_gnttab_query(&nr, &max), GNTST_okay);
    CHECK_EQ(nr, 4);
    struct gnttab_setup_table st[2];
    memset(st, 0, sizeof(st));
    st[0].dom = DOMID_SELF;
    st[0].nr_frames = 1;
    set_xen_guest_handle(st[0].frame_list, frames);
    st[1] = st[0];
    CHECK_EQ(gop(GNTTABOP_setup_table, st, 2), -XEN_EINVAL);
    CHECK_EQ(gop(GNTTABOP_setup_table, st, 0), 0);
    st[0].dom = 0;
    CHECK_EQ(gop(GNTTABOP_setup_table, st, 1), 0);
    CHECK_EQ(st[0].status, GNTST_permission_denied);
    struct gnttab_query_size q[2];
    memset(q, 0, sizeof(q));
    q[0].dom = DOMID_SELF;
    CHECK_EQ(gop(GNTTABOP_query_size, q, 0), -XEN_EINVAL);
    CHECK_EQ(gop(GNTTABOP_query_size, q, 2), -XEN_EINVAL);
    q[0].dom = 0;
    CHECK_EQ(gop(GNTTABOP_query_size, q, 1), 0);
    CHECK_EQ(q[0].status, GNTST_permission_denied);
    q[0].dom = 31000;
    CHECK_EQ(gop(GNTTABOP_query_size, q, 1), 0);
    CHECK_EQ(q[0].status, GNTST_bad_domain);
}

static void versions(void)
{
    struct gnttab_set_version sv = { .version = 1 };
    CHECK_EQ(gop(GNTTABOP_set_version, &sv, 1), 0);
    CHECK_EQ(sv.version, 1);
    sv.version = 3;
    CHECK_EQ(gop(GNTTABOP_set_version, &sv, 1), -XEN_EINVAL);
    CHECK_EQ(sv.version, 1);
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    CHECK_EQ(gop(GNTTABOP_get_version, &gv, 1), 0);
    CHECK_EQ(gv.version, 1);
    gv.dom = 31000;
    CHECK_EQ(gop(GNTTABOP_get_version, &gv, 1), -XEN_ESRCH);
    gv.dom = 0;
    CHECK_EQ(gop(GNTTABOP_get_version, &gv, 1), -XEN_EPERM);
    uint64_t sframes[2];
    struct gnttab_get_status_frames gs = { .nr_frames = 0, .dom = DOMID_SELF };
    set_xen_guest_handle(gs.frame_list, sframes);
    CHECK_EQ(gop(GNTTABOP_get_status_frames, &gs, 1), 0);
    CHECK_EQ(gs.status, GNTST_okay);
    gs.nr_frames = 1;
    CHECK_EQ(gop(GNTTABOP_get_status_frames, &gs, 1), 0);
    CHECK_EQ(gs.status, GNTST_general_error);
    CHECK_EQ(gop(GNTTABOP_get_status_frames, &gs, 2), -XEN_EINVAL);
}

static void pins_and_maptrack(void)
{
    unsigned long mfn;
    devchan_page(&mfn);
    grant_ref_t r0 = xen_gnttab_grant_access(devchan_self, mfn, 1);
    static grant_handle_t h[300];
    unsigned n = 0;
    int st = GNTST_okay;
    while (n < 200 && (st = xen_gnttab_map(devchan_self, r0, 0, GNTMAP_device_map | GNTMAP_readonly, &h[n], 0)) == GNTST_okay) n++;
    CHECK_EQ(n, 128);
    CHECK_EQ(st, GNTST_general_error);
    /* More refs to the same frame until the maptrack runs out. */
    grant_ref_t r1 = xen_gnttab_grant_access(devchan_self, mfn, 1);
    while (n < 300 && (st = xen_gnttab_map(devchan_self, r1, 0, GNTMAP_device_map | GNTMAP_readonly, &h[n], 0)) == GNTST_okay) n++;
    CHECK_EQ(n, 255);
    CHECK_EQ(st, GNTST_no_space);
    uint64_t bus = (uint64_t)mfn << 12;
    CHECK_EQ(xen_gnttab_unmap(h[0], 0, bus), GNTST_okay);
    grant_handle_t again;
    CHECK_EQ(xen_gnttab_map(devchan_self, r1, 0, GNTMAP_device_map | GNTMAP_readonly, &again, 0), GNTST_okay);
    h[0] = again;
    CHECK_EQ(xen_gnttab_map(devchan_self, r1, 0, GNTMAP_device_map | GNTMAP_readonly, &again, 0), GNTST_no_space);
    CHECK_EQ(xen_gnttab_unmap(256, 0, bus), GNTST_bad_handle);
    CHECK_EQ(xen_gnttab_unmap(0xffffffffu, 0, bus), GNTST_bad_handle);
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++) bad += xen_gnttab_unmap(h[i], 0, bus) != GNTST_okay;
    CHECK_EQ(bad, 0);
    CHECK_EQ(xen_gnttab_entry(r0)->flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(xen_gnttab_end_access(r0), 1);
    CHECK_EQ(xen_gnttab_end_access(r1), 1);
}

static void pte_mappings(void)
{
    unsigned long mfn;
    volatile uint32_t *data = devchan_page(&mfn);
    data[0] = 0x600dcafe;
    grant_ref_t r = xen_gnttab_grant_access(devchan_self, mfn, 0);
    volatile uint32_t *va = pvt_alloc_page();
    uint64_t pte_ma = pvt_pte_maddr((unsigned long)va);
    grant_handle_t h;
    uint32_t avail = 5u << _GNTMAP_guest_avail0;
    CHECK_EQ(xen_gnttab_map(devchan_self, r, pte_ma, GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_application_map | avail,
                            &h, 0), GNTST_okay);
    uint64_t pte = pvt_pte((unsigned long)va);
    CHECK_EQ((pte >> 12) & 0xffffffffull, mfn);
    CHECK_EQ(pte & (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY),
             _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY);
    CHECK_EQ((pte >> 9) & 7, 5);
    CHECK_EQ(pte >> 63, 1);
    CHECK_EQ(va[0], 0x600dcafe);
    CHECK_EQ(xen_gnttab_unmap(h, pte_ma + 8, 0), GNTST_general_error);
    CHECK_EQ(xen_gnttab_unmap(h, pte_ma, 0), GNTST_okay);
    CHECK_EQ(pvt_pte((unsigned long)va), 0);
    grant_handle_t x;
    CHECK_EQ(xen_gnttab_map(devchan_self, r, pte_ma + 4, GNTMAP_host_map | GNTMAP_contains_pte, &x, 0), GNTST_general_error);
    CHECK_EQ(xen_gnttab_map(devchan_self, r, (uint64_t)mfn << 12, GNTMAP_host_map | GNTMAP_contains_pte, &x, 0),
             GNTST_general_error);
    CHECK_EQ(xen_gnttab_map(devchan_self, r, 0xf6000000u, GNTMAP_host_map, &x, 0), GNTST_general_error);
    CHECK_EQ(xen_gnttab_map(devchan_self, r, 0x100000000ull | (unsigned long)va, GNTMAP_host_map, &x, 0), GNTST_general_error);
    CHECK_EQ(xen_gnttab_entry(r)->flags, GTF_permit_access);

    /* unmap_and_replace: the grant PTE at va1 gets va2's PTE, va2 is zapped. */
    volatile uint32_t *va1 = pvt_alloc_page(), *va2 = pvt_alloc_page();
    va2[0] = 0x12345678;
    CHECK_EQ(xen_gnttab_map(devchan_self, r, (unsigned long)va1, GNTMAP_host_map, &h, 0), GNTST_okay);
    CHECK_EQ(va1[0], 0x600dcafe);
    struct gnttab_unmap_and_replace ur = { .host_addr = (unsigned long)va1, .new_addr = (unsigned long)va2, .handle = h };
    CHECK_EQ(gop(GNTTABOP_unmap_and_replace, &ur, 1), 0);
    CHECK_EQ(ur.status, GNTST_okay);
    CHECK_EQ(va1[0], 0x12345678);
    CHECK_EQ(pvt_pte((unsigned long)va2) & _PAGE_PRESENT, 0);
    CHECK_EQ(xen_gnttab_end_access(r), 1);
}

static void swap_and_flush(void)
{
    unsigned long m1, m2;
    devchan_page(&m1);
    devchan_page(&m2);
    grant_ref_t a = xen_gnttab_grant_access(devchan_self, m1, 0), b = xen_gnttab_grant_access(31000, m2, 1);
    struct gnttab_swap_grant_ref sw = { .ref_a = a, .ref_b = b };
    CHECK_EQ(gop(GNTTABOP_swap_grant_ref, &sw, 1), 0);
    CHECK_EQ(sw.status, GNTST_okay);
    CHECK_EQ(xen_gnttab_entry(a)->frame, m2);
    CHECK_EQ(xen_gnttab_entry(a)->domid, 31000);
    CHECK_EQ(xen_gnttab_entry(b)->frame, m1);
    sw.ref_b = 4 * 512;
    CHECK_EQ(gop(GNTTABOP_swap_grant_ref, &sw, 1), 0);
    CHECK_EQ(sw.status, GNTST_bad_gntref);
    grant_handle_t h;
    CHECK_EQ(xen_gnttab_map(devchan_self, b, 0, GNTMAP_device_map, &h, 0), GNTST_okay);
    sw.ref_b = b;
    CHECK_EQ(gop(GNTTABOP_swap_grant_ref, &sw, 1), 0);
    CHECK_EQ(sw.status, GNTST_eagain);

    struct gnttab_cache_flush cf;
    memset(&cf, 0, sizeof(cf));
    cf.a.dev_bus_addr = (uint64_t)m1 << 12;
    cf.length = 64;
    cf.op = GNTTAB_CACHE_CLEAN;
    CHECK_EQ(gop(GNTTABOP_cache_flush, &cf, 1), 0);
    cf.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL;
    CHECK_EQ(gop(GNTTABOP_cache_flush, &cf, 1), 0);
    cf.op = GNTTAB_CACHE_INVAL;
    CHECK_EQ(gop(GNTTABOP_cache_flush, &cf, 1), -XEN_EOPNOTSUPP);
    cf.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_SOURCE_GREF;
    CHECK_EQ(gop(GNTTABOP_cache_flush, &cf, 1), -XEN_EINVAL);
    cf.op = GNTTAB_CACHE_CLEAN;
    cf.offset = 4096;
    CHECK_EQ(gop(GNTTABOP_cache_flush, &cf, 1), -XEN_EINVAL);
    cf.offset = 0;
    cf.length = 0;
    CHECK_EQ(gop(GNTTABOP_cache_flush, &cf, 1), 0);
    CHECK_EQ(xen_gnttab_unmap(h, 0, (uint64_t)m1 << 12), GNTST_okay);
}

static void whole_call_errors(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    CHECK_EQ(gop(99, &q, 1), -XEN_ENOSYS);
    CHECK_EQ(gop(GNTTABOP_dump_table, &q, 1), -XEN_ENOSYS);
    CHECK_EQ(gop(GNTTABOP_query_size | (1u << 12), &q, 1), -XEN_EINVAL);
    CHECK_EQ(gop(GNTTABOP_map_grant_ref, &q, 0x80000000u), -XEN_EINVAL);
    CHECK_EQ(gop(GNTTABOP_map_grant_ref, &q, 0), 0);
    CHECK_EQ(gop(GNTTABOP_map_grant_ref, (void *)0xf5900000u, 1), -XEN_EFAULT);
    CHECK_EQ(gop(GNTTABOP_copy, (void *)0x10, 1), -XEN_EFAULT);
}

void test_main(void)
{
    devchan_init(1);
    table_size();
    versions();
    pins_and_maptrack();
    pte_mappings();
    swap_and_flush();
    whole_call_errors();
}
