/*
 * Grants between two domUs (roles "granter" and "mapper"): map, copy, revoke.
 *
 * The granter grants three of its pages to the mapper (A writable, B read-only, C
 * writable), grants A to a domain that does not exist, claims a ref it never fills, and
 * names a page D it never grants. The mapper:
 *   - maps A writable and B read-only into its address space, reads the granter's data,
 *     writes A (the granter sees it), faults writing B, and may not map B writable;
 *   - maps B for device access (the bus address is B's frame), unmaps it only with the
 *     right bus address (another one is GNTST_bad_dev_addr);
 *   - copies from A and into A at page offsets (GNTTABOP_copy with grefs), never into B,
 *     never across a page end;
 *   - cannot reach D: not by a never-set ref, a ref granted to someone else, a ref past
 *     the table, a frame number with the granter's domid, a local frame number, or a PTE;
 *   - and while A is mapped, the granter's safe revoke (cmpxchg while GTF_reading /
 *     GTF_writing are clear) fails; after the unmap it succeeds, and A cannot be mapped
 *     again. A hostile granter zeroing C's flags while C is mapped cannot take the frame
 *     back: the mapping keeps working and the unmap still succeeds.
 */
#include "tests/devchan/lib/devchan.h"

PVTEST("devchan_grant_access", "SUCCESS", 1, "", "grant map, copy and revoke between two domUs; refs never granted");

static void fill(uint8_t *p, uint8_t seed)
{
    for (unsigned i = 0; i < PVT_PAGE_SIZE; i++) p[i] = (uint8_t)(seed + i * 7);
}

static int same(const volatile uint8_t *p, uint8_t seed, unsigned off, unsigned len)
{
    for (unsigned i = off; i < off + len; i++)
        if (p[i] != (uint8_t)(seed + i * 7)) return 0;
    return 1;
}

static void granter(void)
{
    unsigned long ma, mb, mc, md;
    uint8_t *a = devchan_page(&ma), *b = devchan_page(&mb), *c = devchan_page(&mc), *d = devchan_page(&md);
    fill(a, 1);
    fill(b, 2);
    fill(c, 3);
    fill(d, 4);
    grant_ref_t ra = xen_gnttab_grant_access(devchan_peer, ma, 0);
    grant_ref_t rb = xen_gnttab_grant_access(devchan_peer, mb, 1);
    grant_ref_t rc = xen_gnttab_grant_access(devchan_peer, mc, 0);
    grant_ref_t rother = xen_gnttab_grant_access(31000, ma, 0);
    grant_ref_t runset = xen_gnttab_claim_ref();
    CHECK_NE(runset, XEN_GNTTAB_INVALID_REF);
    devchan_put("refs", "%u %u %u %u %u", ra, rb, rc, rother, runset);
    devchan_put("frames", "%lu %lu", mb, md);
    devchan_put("entries", "%u", xen_gnttab.nr_entries);

    devchan_sync("mapped");
    volatile grant_entry_v1_t *ea = xen_gnttab_entry(ra), *eb = xen_gnttab_entry(rb);
    CHECK_EQ(ea->flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(eb->flags, GTF_permit_access | GTF_readonly | GTF_reading);
    /* The revoke protocol refuses entries in use. */
    CHECK_EQ(xen_gnttab_end_access(ra), 0);
    CHECK_EQ(xen_gnttab_end_access(rb), 0);
    CHECK_EQ(ea->flags, GTF_permit_access | GTF_reading | GTF_writing);
    /* The mapper wrote through its mapping: the data is in our frame. */
    CHECK_EQ(a[0], 0xa5);
    CHECK_EQ(a[4095], 0x5a);

    devchan_sync("copied");
    CHECK(same(a + 4000 - 100, 1, 100, 50)); /* the mapper copied 50 bytes from offset 100 to 4000 */

    /* Hostile granter: take C's flags away while it is mapped. */
    xen_gnttab_entry(rc)->flags = 0;
    devchan_put("forced", "1");

    devchan_sync("unmapped");
    CHECK_EQ(ea->flags & (GTF_reading | GTF_writing), 0);
    CHECK_EQ(eb->flags & (GTF_reading | GTF_writing), 0);
    CHECK_EQ(xen_gnttab_end_access(ra), 1);
    CHECK_EQ(xen_gnttab_end_access(rb), 1);
    CHECK_EQ(xen_gnttab_entry(rc)->flags, 0);
    CHECK_EQ(c[8], 0x77); /* written through the mapping after the forced revoke */
    devchan_put("revoked", "1");
    devchan_sync("done");
}

static uint32_t next_num(const char **s)
{
    while (**s == ' ') (*s)++;
    uint32_t v = devchan_atou(*s);
    while (**s >= '0' && **s <= '9') (*s)++;
    return v;
}

static void mapper(void)
{
    char buf[96];
    devchan_get("refs", buf, sizeof(buf));
    const char *s = buf;
    grant_ref_t ra = next_num(&s), rb = next_num(&s), rc = next_num(&s), rother = next_num(&s), runset = next_num(&s);
    devchan_get("frames", buf, sizeof(buf));
    s = buf;
    unsigned long mb = next_num(&s), md = next_num(&s);
    uint32_t entries = devchan_get_u32("entries");
    domid_t g = devchan_peer;

    volatile uint8_t *va = pvt_alloc_page(), *vb = pvt_alloc_page(), *vc = pvt_alloc_page(), *vc2 = pvt_alloc_page();
    grant_handle_t ha, hb, hc, hc2, hd;
    uint64_t bus;

    /* Map A writable, B read-only. */
    CHECK_EQ(xen_gnttab_map(g, ra, (unsigned long)va, GNTMAP_host_map, &ha, 0), GNTST_okay);
    CHECK_EQ(xen_gnttab_map(g, rb, (unsigned long)vb, GNTMAP_host_map | GNTMAP_readonly, &hb, 0), GNTST_okay);
    CHECK(same(va, 1, 0, PVT_PAGE_SIZE));
    CHECK(same(vb, 2, 0, PVT_PAGE_SIZE));
    va[0] = 0xa5;
    va[4095] = 0x5a;
    pvt_trap_reset();
    PVT_TRY("movb $1, (%0)", : : "r"(vb) : "memory");
    CHECK_EQ(pvt_last_trap.vector, X86_EXC_PF);
    CHECK_EQ(vb[0], 2);
    /* B may not be mapped writable (read-only grant). */
    CHECK_EQ(xen_gnttab_map(g, rb, (unsigned long)vc2, GNTMAP_host_map, &hd, 0), GNTST_general_error);
    /* Device mapping of B: the bus address is B's frame; unmap needs it. */
    CHECK_EQ(xen_gnttab_map(g, rb, 0, GNTMAP_device_map | GNTMAP_readonly, &hd, &bus), GNTST_okay);
    CHECK_EQ(bus == ((uint64_t)mb << 12), 1);
    CHECK_EQ(xen_gnttab_unmap(hd, 0, bus + 4096), GNTST_bad_dev_addr);
    CHECK_EQ(xen_gnttab_unmap(hd, 0, bus), GNTST_okay);
    CHECK_EQ(xen_gnttab_unmap(hd, 0, bus), GNTST_bad_handle);
    /* Map C before the granter turns hostile. */
    CHECK_EQ(xen_gnttab_map(g, rc, (unsigned long)vc, GNTMAP_host_map, &hc, 0), GNTST_okay);

    /* What we may not reach. */
    CHECK_EQ(xen_gnttab_map(g, runset, (unsigned long)vc2, GNTMAP_host_map, &hd, 0), GNTST_general_error);
    CHECK_EQ(xen_gnttab_map(g, rother, (unsigned long)vc2, GNTMAP_host_map, &hd, 0), GNTST_general_error);
    CHECK_EQ(xen_gnttab_map(g, entries, (unsigned long)vc2, GNTMAP_host_map, &hd, 0), GNTST_bad_gntref);
    CHECK_EQ(xen_gnttab_map(g, 0xfffffff0u, (unsigned long)vc2, GNTMAP_host_map, &hd, 0), GNTST_bad_gntref);
    CHECK_EQ(xen_gnttab_map(g, ra, (unsigned long)vc2, 0, &hd, 0), GNTST_bad_gntref);
    CHECK_EQ(xen_gnttab_map(31000, ra, (unsigned long)vc2, GNTMAP_host_map, &hd, 0), GNTST_bad_domain);
    unsigned long lm;
    uint8_t *local = devchan_page(&lm);
    CHECK_EQ(xen_gnttab_copy(md, g, 0, lm, DOMID_SELF, 0, 16, 0), GNTST_permission_denied);
    CHECK_EQ(xen_gnttab_copy(md, DOMID_SELF, 0, lm, DOMID_SELF, 0, 16, 0), GNTST_bad_page);
    CHECK_EQ(xen_gnttab_copy(runset, g, 0, lm, DOMID_SELF, 0, 16, GNTCOPY_source_gref), GNTST_general_error);
    CHECK_EQ(xen_gnttab_copy(entries + 5, g, 0, lm, DOMID_SELF, 0, 16, GNTCOPY_source_gref), GNTST_bad_gntref);
    long r = HYPERVISOR_update_va_mapping((unsigned long)vc2, ((uint64_t)md << 12) | _PAGE_PRESENT, UVMF_INVLPG);
    CHECK_LT(r, 0);
    CHECK_EQ(local[0], 0);

    /* Copies: from A (grant) to a local frame, from a local frame into A, never into B. */
    CHECK_EQ(xen_gnttab_copy(ra, g, 100, lm, DOMID_SELF, 0, 50, GNTCOPY_source_gref), GNTST_okay);
    CHECK(same(local - 100, 1, 100, 50));
    CHECK_EQ(xen_gnttab_copy(lm, DOMID_SELF, 0, ra, g, 3900, 50, GNTCOPY_dest_gref), GNTST_okay);
    CHECK(same(va + 3900 - 100, 1, 100, 50));
    CHECK_EQ(xen_gnttab_copy(lm, DOMID_SELF, 0, rb, g, 0, 50, GNTCOPY_dest_gref), GNTST_general_error);
    CHECK_EQ(xen_gnttab_copy(lm, DOMID_SELF, 0, ra, g, 4000, 200, GNTCOPY_dest_gref), GNTST_bad_copy_arg);
    CHECK_EQ(xen_gnttab_copy(ra, g, 4090, lm, DOMID_SELF, 0, 20, GNTCOPY_source_gref), GNTST_bad_copy_arg);
    /* Grant to grant, both the granter's: A offset 100 -> A offset 4000. */
    CHECK_EQ(xen_gnttab_copy(ra, g, 100, ra, g, 4000, 50, GNTCOPY_source_gref | GNTCOPY_dest_gref), GNTST_okay);
    devchan_sync("mapped");
    devchan_sync("copied");

    /* The granter zeroed C's flags: our mapping still works, a second map of the pinned
     * entry still succeeds (Xen checks the entry only for the first pin), unmaps succeed. */
    char fbuf[8];
    devchan_get("forced", fbuf, sizeof(fbuf));
    vc[8] = 0x77;
    int second = xen_gnttab_map(g, rc, (unsigned long)vc2, GNTMAP_host_map, &hc2, 0);
    pv_printf("second map of a pinned, zeroed entry: %d (%s)\n", second, xen_gntst_str(second));
    CHECK_EQ(second, GNTST_okay);
    if (second == GNTST_okay) CHECK_EQ(xen_gnttab_unmap(hc2, (unsigned long)vc2, 0), GNTST_okay);
    CHECK_EQ(xen_gnttab_unmap(hc, (unsigned long)vc, 0), GNTST_okay);

    /* Unmaps: the wrong address is refused, the right one clears the PTE. */
    CHECK_EQ(xen_gnttab_unmap(ha, (unsigned long)vb, 0), GNTST_general_error);
    CHECK_EQ(xen_gnttab_unmap(ha, (unsigned long)va, 0), GNTST_okay);
    CHECK_EQ(xen_gnttab_unmap(hb, (unsigned long)vb, 0), GNTST_okay);
    CHECK_EQ(xen_gnttab_unmap(ha, (unsigned long)va, 0), GNTST_bad_handle);
    CHECK_EQ(xen_gnttab_unmap(9999, (unsigned long)va, 0), GNTST_bad_handle);
    CHECK_EQ(pvt_pte((unsigned long)va) & _PAGE_PRESENT, 0);
    devchan_sync("unmapped");

    devchan_get("revoked", fbuf, sizeof(fbuf));
    CHECK_EQ(xen_gnttab_map(g, ra, (unsigned long)vc2, GNTMAP_host_map, &hd, 0), GNTST_general_error);
    devchan_sync("done");
}

void test_main(void)
{
    devchan_init(1);
    if (devchan_peer == DOMID_INVALID) pvtest_skip("needs a peer domain (scenario grant-access)");
    if (devchan_role_is("granter")) granter();
    else if (devchan_role_is("mapper")) mapper();
    else pvtest_error("unknown role '%s'", devchan_role);
}
