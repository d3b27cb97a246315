/*
 * Publishing the p2m for the toolstack (save/migrate of a PV domain).
 *
 * The saver finds a PV guest's p2m through shared_info.arch: max_pfn (entries) and
 * pfn_to_mfn_frame_list_list, the MFN of a page listing the MFNs of "frame list"
 * pages, each listing the MFNs of up to 1024 p2m pages (3 levels, 4-byte entries).
 * The p2m itself is the builder's mfn_list, so only the two upper levels are ours.
 *
 * Invariant: the lists hold MFNs, which change on restore; p2m_publish() runs at boot
 * and again after every resume into a new domain (the restorer rewrites the p2m pages
 * but not our lists).
 */
#include "minios/mm/mm.h"

#define ENTRIES_PER_PAGE (PAGE_SIZE / sizeof(xen_pfn_t))

static xen_pfn_t *fll;                 /* frame list list: one page */
static xen_pfn_t *frame_lists[4];      /* up to 4 Mi p2m entries */

void p2m_publish(void)
{
    unsigned long p2m_pages = (nr_pages + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE;
    unsigned long lists = (p2m_pages + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE;
    if (lists > ARRAY_SIZE(frame_lists)) panic("p2m too large to publish (%lu pages)", p2m_pages);
    if (!fll) {
        fll = alloc_page();
        for (unsigned long i = 0; i < lists; i++) frame_lists[i] = alloc_page();
        if (!fll || !frame_lists[lists - 1]) panic("no memory for the p2m frame lists");
    }
    memset(fll, 0, PAGE_SIZE);
    for (unsigned long i = 0; i < lists; i++) {
        memset(frame_lists[i], 0, PAGE_SIZE);
        fll[i] = virt_to_mfn(frame_lists[i]);
    }
    const char *base = (const char *)p2m;
    for (unsigned long i = 0; i < p2m_pages; i++)
        frame_lists[i / ENTRIES_PER_PAGE][i % ENTRIES_PER_PAGE] =
            virt_to_mfn(base + i * PAGE_SIZE);
    shared_info->arch.max_pfn = nr_pages;
    wmb();
    shared_info->arch.pfn_to_mfn_frame_list_list = virt_to_mfn(fll);
}
