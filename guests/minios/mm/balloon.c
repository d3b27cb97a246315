/* The balloon driver (see balloon.h). */
#include "minios/mm/balloon.h"
#include "minios/mm/mm.h"
#include "minios/kernel/sched.h"
#include "minios/xen/xenbus.h"
#include <xen/memory.h>
#include <xen/io/xs_paths.h>

#define BATCH 64
#define RETRY_MIN (NSEC_PER_SEC / 4)
#define RETRY_MAX (4 * NSEC_PER_SEC)

static unsigned long *stack;          /* ballooned PFNs */
static unsigned long stack_len, stack_cap;
static unsigned long target;          /* pages */
static int stuck;                     /* Xen refused more (or no free pages): retry later */
static int reported;                  /* the current stall was reported (no repeats per retry) */
static uint64_t retry_at, backoff;    /* next retry of a stalled balloon; its back-off */
static struct xb_watch target_watch = { .path = XS_KEY_MEMORY_TARGET, .token = "balloon" };
static uint32_t target_seen;
unsigned long flip_pages_out;

unsigned long balloon_pages(void) { return stack_len; }
unsigned long balloon_target(void) { return target; }
unsigned long balloon_current(void) { return nr_pages - stack_len - flip_pages_out; }

int balloon_settled(void)
{
    return stuck || balloon_current() == target;
}

void balloon_set_target(unsigned long pages)
{
    target = pages;
    stuck = 0;
    reported = 0;
    backoff = 0;
}

/* Xen gave (or took) less than asked: try again later, sooner at first (as Linux's balloon
 * does, with a capped back-off), so the guest grows back once memory is free again. */
static void stall(void)
{
    stuck = 1;
    reported = 1;
    backoff = backoff ? MIN(backoff * 2, RETRY_MAX) : RETRY_MIN;
    retry_at = now_ns() + backoff;
}

long give_away_page(void *va)
{
    unsigned long pfn = virt_to_pfn(va);
    xen_pfn_t mfn = p2m[pfn];
    long rc = set_pte((unsigned long)va, 0);
    if (rc) return rc;
    p2m[pfn] = INVALID_MFN;
    struct xen_memory_reservation r = { .nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, &mfn);
    rc = HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
    if (rc != 1) {       /* Xen kept it: map it again */
        p2m[pfn] = mfn;
        set_pte((unsigned long)va, ((uint64_t)mfn << PAGE_SHIFT) | PTE_KERNEL);
        return rc < 0 ? rc : -XEN_EBUSY;
    }
    return 0;
}

/* Map pfn to a frame Xen just gave us (M2P already updated by Xen or the caller). */
static long install(unsigned long pfn, unsigned long mfn)
{
    p2m[pfn] = mfn;
    return set_pte((unsigned long)pfn_to_virt(pfn), ((uint64_t)mfn << PAGE_SHIFT) | PTE_KERNEL);
}

long reclaim_pfn(unsigned long pfn)
{
    xen_pfn_t frame = pfn;
    struct xen_memory_reservation r = { .nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, &frame);
    long rc = HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
    if (rc != 1) return rc < 0 ? rc : -XEN_ENOMEM;
    return install(pfn, frame);
}

static void deflate(unsigned long want)   /* give `want` pages to Xen */
{
    while (want) {
        unsigned n = 0;
        xen_pfn_t mfns[BATCH];
        unsigned long pfns[BATCH];
        while (n < BATCH && n < want && free_page_count() > BALLOON_MIN_FREE) {
            void *va = alloc_page();
            if (!va) break;
            unsigned long pfn = virt_to_pfn(va);
            pfns[n] = pfn;
            mfns[n] = p2m[pfn];
            if (set_pte((unsigned long)va, 0)) panic("balloon: cannot unmap pfn %lx", pfn);
            p2m[pfn] = INVALID_MFN;
            n++;
        }
        if (!n) {
            if (!reported)
                printk("balloon: keeping %lu free pages; target %lu not reached (at %lu)\n",
                       free_page_count(), target, balloon_current());
            stall();
            return;
        }
        struct xen_memory_reservation r = { .nr_extents = n, .extent_order = 0, .domid = DOMID_SELF };
        set_xen_guest_handle(r.extent_start, mfns);
        long rc = HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
        unsigned done = rc > 0 ? (unsigned)rc : 0;
        for (unsigned i = 0; i < n; i++) {
            if (i < done) {
                stack[stack_len++] = pfns[i];
            } else {                      /* not freed by Xen: ours again */
                install(pfns[i], mfns[i]);
                free_page(pfn_to_virt(pfns[i]));
            }
        }
        if (done < n) {
            if (!reported) printk("balloon: decrease_reservation freed %u of %u (rc %ld)\n", done, n, rc);
            stall();
            return;
        }
        want -= n;
    }
}

static void inflate(unsigned long want)   /* take `want` pages back */
{
    while (want && stack_len) {
        unsigned n = (unsigned)MIN(MIN(want, stack_len), (unsigned long)BATCH);
        xen_pfn_t frames[BATCH];
        for (unsigned i = 0; i < n; i++) frames[i] = stack[stack_len - 1 - i];
        struct xen_memory_reservation r = { .nr_extents = n, .extent_order = 0, .domid = DOMID_SELF };
        set_xen_guest_handle(r.extent_start, frames);
        long rc = HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
        unsigned done = rc > 0 ? (unsigned)rc : 0;
        for (unsigned i = 0; i < done; i++) {
            unsigned long pfn = stack[--stack_len];
            if (install(pfn, frames[i])) panic("balloon: cannot map pfn %lx", pfn);
            free_page(pfn_to_virt(pfn));
        }
        if (done < n) {
            if (!reported)
                printk("balloon: populate_physmap gave %u of %u (rc %ld); retrying while below target\n",
                       done, n, rc);
            stall();
            return;
        }
        if (reported) {
            printk("balloon: growing again (at %lu of %lu pages)\n", balloon_current(), target);
            reported = 0;
        }
        backoff = 0;
        want -= n;
    }
}

static void balloon_poll(void)
{
    if (target_watch.fired != target_seen) {
        target_seen = target_watch.fired;
        uint64_t kib;
        if (xb_read_u64(XBT_NIL, XS_KEY_MEMORY_TARGET, &kib) == 0) {
            unsigned long pages = (unsigned long)(kib >> 2);
            if (pages != target) {
                printk("BALLOON target %llu KiB (%lu pages), now %lu pages\n",
                       (unsigned long long)kib, pages, balloon_current());
                balloon_set_target(pages);
            } else if (stuck) {
                stuck = 0;                /* the same target again: try at once */
                backoff = 0;
            }
        }
    }
    if (stuck) {
        if (now_ns() < retry_at) {
            poll_wake_at(retry_at);
            return;
        }
        stuck = 0;
    }
    unsigned long cur = balloon_current();
    if (target && cur > target) deflate(cur - target);
    else if (target && cur < target) inflate(target - cur);
    /* A stall just now: ask for the retry. No event may come before it (a blocked vCPU
     * gets no periodic tick), and without this the first retry waited for one. */
    if (stuck) poll_wake_at(retry_at);
}

void balloon_init(void)
{
    stack_cap = nr_pages;
    unsigned long pages = (stack_cap * sizeof(unsigned long) + PAGE_SIZE - 1) / PAGE_SIZE;
    stack = alloc_pages((unsigned)pages);
    if (!stack) panic("balloon: no memory for the PFN stack");
    target = balloon_current();
    int rc = xb_watch(&target_watch);
    if (rc) printk("balloon: cannot watch %s: %s\n", XS_KEY_MEMORY_TARGET, xb_strerror(rc));
    poller_register("balloon", balloon_poll);
}
