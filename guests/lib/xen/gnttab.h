/*
 * Grant tables (v1) from a PV guest: the granting side (entries in our own table, revoked
 * with the safe protocol) and the using side (map, unmap, copy, transfer through
 * GNTTABOP_*), for test kernels and any other PV kernel.
 *
 * Setting up: xen_gnttab_setup() asks Xen for the table's frames (setup_table); the caller
 * maps them contiguously wherever its address space has room and hands the VA to
 * xen_gnttab_attach(). Refs below GNTTAB_NR_RESERVED_ENTRIES (the toolstack's console
 * and xenstore grants) are never handed out.
 *
 * Invariants (grant-tables.md §10):
 * - An entry is written domid, frame, write barrier, then flags; Xen reads flags+domid
 *   as one word, so it never sees a half-made entry.
 * - An access grant is revoked only by a 16-bit cmpxchg of its flags to 0 that saw
 *   neither GTF_reading nor GTF_writing; an entry in use is reported (0), never freed.
 * - A transfer grant is ended by waiting (bounded) for GTF_transfer_completed once Xen
 *   set GTF_transfer_committed; `frame` then holds the new MFN.
 * - Every wait is bounded: a hostile peer can make a call fail, never hang it.
 */
#ifndef XEN_LIB_GNTTAB_H
#define XEN_LIB_GNTTAB_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#define XEN_GNTTAB_INVALID_REF 0xffffffffu
/* Refs this library can manage (a bitmap of this many bits). */
#define XEN_GNTTAB_MAX_REFS (64u * 512u)

struct xen_gnttab {
    volatile grant_entry_v1_t *table;
    unsigned nr_entries;
    unsigned nr_free;
    uint32_t used[XEN_GNTTAB_MAX_REFS / 32];
};

extern struct xen_gnttab xen_gnttab;

/* GNTTABOP_query_size of DOMID_SELF: frames now and at most (GNTST_* status returned). */
int xen_gnttab_query(uint32_t *nr_frames, uint32_t *max_frames);
/* GNTTABOP_setup_table for DOMID_SELF: grow to nr frames and list their MFNs. */
int xen_gnttab_setup(unsigned nr, xen_pfn_t *frames);
/* Use the table mapped at `table` (nr_frames frames). */
void xen_gnttab_attach(volatile void *table, unsigned nr_frames);

/* A fresh ref permitting `domid` to access `frame` (MFN); XEN_GNTTAB_INVALID_REF if full. */
grant_ref_t xen_gnttab_grant_access(domid_t domid, unsigned long frame, int readonly);
/* Revoke an access grant: 1 revoked (ref freed), 0 still in use (ref kept). */
int xen_gnttab_end_access(grant_ref_t ref);
/* A fresh ref accepting a page transfer from `domid` into our PFN `pfn`. */
grant_ref_t xen_gnttab_grant_transfer(domid_t domid, unsigned long pfn);
/* Is the transfer into `ref` complete? */
int xen_gnttab_transfer_done(grant_ref_t ref);
/* End a transfer grant: the new MFN, or 0 if none happened (the ref is freed either way). */
unsigned long xen_gnttab_end_transfer(grant_ref_t ref);
/* Claim/release refs without writing entries (for tests that write entries by hand). */
grant_ref_t xen_gnttab_claim_ref(void);
void xen_gnttab_release_ref(grant_ref_t ref);
/* The entry itself (tests inspect and corrupt it on purpose). */
static inline volatile grant_entry_v1_t *xen_gnttab_entry(grant_ref_t ref)
{ return &xen_gnttab.table[ref]; }

/* One map (GNTMAP_* flags); returns the GNTST_* status, *handle / *bus on success. */
int xen_gnttab_map(domid_t dom, grant_ref_t ref, uint64_t host_addr, uint32_t flags,
                   grant_handle_t *handle, uint64_t *bus);
/* One unmap; returns the GNTST_* status. */
int xen_gnttab_unmap(grant_handle_t handle, uint64_t host_addr, uint64_t dev_bus_addr);
/* One copy: a side is (ref in domid's table) if its GNTCOPY_* flag is set, else a local
 * MFN with domid DOMID_SELF. Returns the GNTST_* status. */
int xen_gnttab_copy(uint32_t src, domid_t src_dom, uint16_t src_off, uint32_t dst, domid_t dst_dom,
                    uint16_t dst_off, uint16_t len, uint16_t flags);
/* One transfer of our MFN `mfn` into `domid`'s accept-transfer `ref`; GNTST_* status. */
int xen_gnttab_transfer(unsigned long mfn, domid_t domid, grant_ref_t ref);

/* Xen's message for a GNTST_* status ("okay", "invalid grant reference", ...). */
const char *xen_gntst_str(int status);

#endif
