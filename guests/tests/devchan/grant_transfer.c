/*
 * Page flipping between two domUs (roles "sender" and "receiver"): GNTTABOP_transfer.
 *
 * The receiver prepares two pages the way netfront does: gives their frames back to Xen
 * (decrease_reservation), then offers accept_transfer grants for those PFNs; it also
 * publishes a permit_access ref, which is no place to transfer to. The sender writes a
 * pattern into two of its own pages, unmaps them (a frame still mapped cannot be stolen:
 * bad_page), and transfers them. Refused transfers are checked on the way: an invalid
 * frame, the shared_info page, a mapped page (bad_page, the sender keeps them), a
 * permit_access target or a domain that does not exist (general_error / bad_domain, the
 * frame is gone all the same). The receiver ends each transfer grant (the entry holds the
 * new MFN, the M2P already names our PFN), installs the frame (MMU_MACHPHYS_UPDATE, a
 * PTE) and finds the sender's data; both domains' reservations moved by one page each.
 */
#include "tests/devchan/lib/devchan.h"

PVTEST("devchan_grant_transfer", "SUCCESS", 1, "", "page flipping (GNTTABOP_transfer) between two domUs");

#define PAGES 2

static long reservation(void)
{
    domid_t self = DOMID_SELF;
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static long give_back(unsigned long mfn)
{
    xen_pfn_t list[1] = { mfn };
    struct xen_memory_reservation r;
    memset(&r, 0, sizeof(r));
    set_xen_guest_handle(r.extent_start, list);
    r.nr_extents = 1;
    r.domid = DOMID_SELF;
    return HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
}

static void fill(volatile uint32_t *p, uint32_t seed)
{
    for (unsigned i = 0; i < PVT_PAGE_SIZE / 4; i++) p[i] = seed ^ (i * 0x9E3779B1u);
}

static int check(volatile uint32_t *p, uint32_t seed)
{
    for (unsigned i = 0; i < PVT_PAGE_SIZE / 4; i++)
        if (p[i] != (seed ^ (i * 0x9E3779B1u))) return 0;
    return 1;
}

static void receiver(void)
{
    long before = reservation();
    unsigned long pfn[PAGES], old[PAGES];
    grant_ref_t ref[PAGES];
    for (unsigned i = 0; i < PAGES; i++) {
        old[i] = pvt_alloc_loose_mfn(&pfn[i]);
        CHECK_EQ(give_back(old[i]), 1);
        ((xen_pfn_t *)pvt_p2m)[pfn[i]] = ~0ul; /* the PFN has no frame now */
        ref[i] = xen_gnttab_grant_transfer(devchan_peer, pfn[i]);
        CHECK_NE(ref[i], XEN_GNTTAB_INVALID_REF);
    }
    CHECK_EQ(reservation(), before - PAGES);
    unsigned long bm;
    devchan_page(&bm);
    grant_ref_t rbad = xen_gnttab_grant_access(devchan_peer, bm, 0);
    devchan_put("refs", "%u %u %u", ref[0], ref[1], rbad);

    char buf[8];
    devchan_get("sent", buf, sizeof(buf));
    for (unsigned i = 0; i < PAGES; i++) {
        CHECK_EQ(xen_gnttab_transfer_done(ref[i]), 1);
        unsigned long mfn = xen_gnttab_end_transfer(ref[i]);
        CHECK_NE(mfn, 0);
        if (!mfn) continue;
        CHECK_EQ(pvt_m2p_lookup(mfn), pfn[i]); /* Xen set the M2P to the PFN we named */
        unsigned done = 0;
        CHECK_EQ(pvt_mmu_update1(((uint64_t)mfn << 12) | MMU_MACHPHYS_UPDATE, pfn[i], &done, DOMID_SELF), 0);
        ((xen_pfn_t *)pvt_p2m)[pfn[i]] = mfn;
        volatile uint32_t *va = pvt_alloc_page();
        CHECK_EQ(pvt_map((unsigned long)va, mfn, _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY), 0);
        CHECK(check(va, 0xf1100000u + i));
    }
    CHECK_EQ(reservation(), before);
    CHECK_EQ(xen_gnttab_entry(rbad)->flags, GTF_permit_access);
    CHECK_EQ(xen_gnttab_end_access(rbad), 1);
    devchan_sync("done");
}

static void sender(void)
{
    char buf[64];
    devchan_get("refs", buf, sizeof(buf));
    const char *s = buf;
    grant_ref_t ref[PAGES + 1];
    for (unsigned i = 0; i < PAGES + 1; i++) {
        while (*s == ' ') s++;
        ref[i] = devchan_atou(s);
        while (*s >= '0' && *s <= '9') s++;
    }
    domid_t r = devchan_peer;
    long before = reservation();

    /* Refused: the sender keeps these frames. */
    unsigned long mm;
    volatile uint32_t *mapped = devchan_page(&mm);
    CHECK_EQ(xen_gnttab_transfer(mm, r, ref[0]), GNTST_bad_page);
    CHECK_EQ(xen_gnttab_transfer(0xfffffffful, r, ref[0]), GNTST_bad_page);
    CHECK_EQ(xen_gnttab_transfer(pvt_si->shared_info >> 12, r, ref[0]), GNTST_bad_page);
    CHECK_EQ(reservation(), before);

    /* Refused after stealing: the frame is gone. */
    unsigned long lost1 = pvt_alloc_loose_mfn(0), lost2 = pvt_alloc_loose_mfn(0);
    CHECK_EQ(xen_gnttab_transfer(lost1, r, ref[PAGES]), GNTST_general_error);
    CHECK_EQ(xen_gnttab_transfer(lost2, 31000, ref[0]), GNTST_bad_domain);
    CHECK_EQ(reservation(), before - 2);

    for (unsigned i = 0; i < PAGES; i++) {
        unsigned long mfn;
        volatile uint32_t *p = devchan_page(&mfn);
        fill(p, 0xf1100000u + i);
        CHECK_EQ(pvt_unmap((unsigned long)p), 0);
        CHECK_EQ(xen_gnttab_transfer(mfn, r, ref[i]), GNTST_okay);
        /* Twice: the frame is not ours any more. */
        CHECK_EQ(xen_gnttab_transfer(mfn, r, ref[i]), GNTST_bad_page);
    }
    CHECK_EQ(reservation(), before - 2 - PAGES);
    CHECK_EQ(mapped[0], 0);
    devchan_put("sent", "1");
    devchan_sync("done");
}

void test_main(void)
{
    devchan_init(1);
    if (devchan_peer == DOMID_INVALID) pvtest_skip("needs a peer domain (scenario grant-transfer)");
    if (devchan_role_is("receiver")) receiver();
    else if (devchan_role_is("sender")) sender();
    else pvtest_error("unknown role '%s'", devchan_role);
}
