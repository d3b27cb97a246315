/*
 * The balloon driver: follows ~/memory/target (KiB) by returning free pages to Xen
 * (XENMEM_decrease_reservation) and taking them back (XENMEM_populate_physmap).
 *
 * Invariants:
 * - A ballooned PFN has p2m INVALID_MFN, no mapping, and its allocator bit set; it is
 *   on the balloon stack and nowhere else.
 * - Our page count is nr_pages - ballooned - (rx-flip buffers given away); the driver
 *   only works on ballooned PFNs, so it never grows past the boot size (the p2m's size).
 * - It keeps at least BALLOON_MIN_FREE pages free for the kernel; a target below that is
 *   followed as far as possible and reported.
 * - A stall (Xen gave fewer frames than asked, or no page could be spared) is reported
 *   once and retried with a back-off (0.25 s doubling to 4 s), and at once when the
 *   toolstack writes the target again, even with the same value; so a guest grows back
 *   when another domain frees memory without anybody touching its target.
 */
#ifndef MINIOS_BALLOON_H
#define MINIOS_BALLOON_H
#include "minios/kernel/kernel.h"

#define BALLOON_MIN_FREE 512     /* 2 MiB */

void balloon_init(void);
/* Set the target (pages) as the toolstack would; the poller works towards it. */
void balloon_set_target(unsigned long pages);
unsigned long balloon_target(void);
unsigned long balloon_pages(void);          /* ballooned out now */
unsigned long balloon_current(void);        /* our pages: nr_pages - ballooned - flipped */
int balloon_settled(void);                  /* reached the target or stalled (retrying) */
extern unsigned long flip_pages_out;        /* rx-flip buffers currently given away */
/* Give one page back to Xen / take one from Xen at pfn (used by rx flip too). */
long give_away_page(void *va);
long reclaim_pfn(unsigned long pfn);

#endif
