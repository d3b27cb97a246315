/*
 * Grant tables (v1) from the granting side: access grants for backends, accept-transfer
 * grants for rx-flip, and the mapping/copy calls used by the self-test.
 *
 * Invariants (grant-tables.md §10):
 * - An entry is created domid, frame, write barrier, then flags; refs 0-7 are reserved
 *   and never handed out.
 * - An access grant is revoked only with a 16-bit cmpxchg of flags to 0 while neither
 *   GTF_reading nor GTF_writing is set; a grant still in use is reported, not freed.
 * - A transfer grant is ended by waiting for GTF_transfer_completed once Xen set
 *   GTF_transfer_committed; the frame field then holds the new MFN.
 * - The table frames are Xen heap pages mapped in the map area; they are unmapped before
 *   suspend and set up again after resume (a new domain has a fresh, empty table).
 */
#ifndef MINIOS_GNTTAB_H
#define MINIOS_GNTTAB_H
#include "minios/kernel/kernel.h"
#include <xen/grant_table.h>

#define GNTTAB_INVALID_REF 0xFFFFFFFFU

void gnttab_init(void);
void gnttab_suspend(void);
void gnttab_resume(int new_domain);
grant_ref_t gnttab_grant_access(domid_t domid, unsigned long mfn, int readonly);
/* 1 if revoked (ref freed), 0 if the backend still uses it (ref kept, leaked). */
int gnttab_end_access(grant_ref_t ref);
grant_ref_t gnttab_grant_transfer(domid_t domid, unsigned long pfn);
/* The transferred MFN, or 0 if no transfer happened (the ref is freed either way). */
unsigned long gnttab_end_transfer(grant_ref_t ref);
/* Is the transfer into ref complete? */
int gnttab_transfer_done(grant_ref_t ref);
unsigned gnttab_free_count(void);
unsigned gnttab_nr_entries(void);
const char *gnttab_status_str(int16_t status);

#endif
