/* Grant table v1, granting side (see gnttab.h). */
#include "minios/xen/gnttab.h"
#include "minios/mm/mm.h"
#include "minios/kernel/spinlock.h"

#define WANT_FRAMES 4
#define MAX_ENTRIES (WANT_FRAMES * (PAGE_SIZE / sizeof(grant_entry_v1_t)))

static volatile grant_entry_v1_t *table[WANT_FRAMES];   /* one mapped frame each */
static unsigned nr_frames;
static grant_ref_t free_refs[MAX_ENTRIES];
static unsigned nr_free;
static spinlock_t lock = SPINLOCK_INIT;

static const char *const gntst_msgs[] = GNTTABOP_error_msgs;

const char *gnttab_status_str(int16_t st)
{
    if (st > 0 || -st >= (int)ARRAY_SIZE(gntst_msgs)) return "unknown status";
    return gntst_msgs[-st];
}

static volatile grant_entry_v1_t *entry(grant_ref_t ref)
{
    unsigned per = PAGE_SIZE / sizeof(grant_entry_v1_t);
    return &table[ref / per][ref % per];
}

static int map_table(void)
{
    xen_pfn_t frames[WANT_FRAMES];
    struct gnttab_setup_table setup = { .dom = DOMID_SELF, .nr_frames = nr_frames };
    set_xen_guest_handle(setup.frame_list, frames);
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &setup, 1);
    if (rc || setup.status != GNTST_okay) {
        printk("gnttab: GNTTABOP_setup_table(%u frames): rc=%ld status=%d (%s); no grant table, "
               "so no devices\n", nr_frames, rc, setup.status, gnttab_status_str(setup.status));
        return -1;
    }
    for (unsigned i = 0; i < nr_frames; i++) {
        table[i] = map_frame(frames[i], 1);
        if (!table[i]) panic("cannot map grant table frame %u (mfn %lx)", i, (unsigned long)frames[i]);
    }
    return 0;
}

static void reset_free_list(void)
{
    nr_free = 0;
    unsigned n = nr_frames * (PAGE_SIZE / sizeof(grant_entry_v1_t));
    for (grant_ref_t r = n; r-- > GNTTAB_NR_RESERVED_ENTRIES;) free_refs[nr_free++] = r;
}

void gnttab_init(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    nr_frames = WANT_FRAMES;
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc == 0 && q.status == GNTST_okay && q.max_nr_frames && q.max_nr_frames < nr_frames)
        nr_frames = q.max_nr_frames;
    if (map_table()) {
        nr_frames = 0;
        return;
    }
    reset_free_list();
}

void gnttab_suspend(void)
{
    for (unsigned i = 0; i < nr_frames; i++) {
        unmap_frame((void *)table[i]);
        table[i] = 0;
    }
}

void gnttab_resume(int new_domain)
{
    if (!nr_frames) return;
    if (map_table()) panic("gnttab: lost the grant table across suspend");
    if (new_domain) reset_free_list();
}

static grant_ref_t get_ref(void)
{
    spin_lock(&lock);
    grant_ref_t r = nr_free ? free_refs[--nr_free] : GNTTAB_INVALID_REF;
    spin_unlock(&lock);
    return r;
}

static void put_ref(grant_ref_t r)
{
    spin_lock(&lock);
    free_refs[nr_free++] = r;
    spin_unlock(&lock);
}

grant_ref_t gnttab_grant_access(domid_t domid, unsigned long mfn, int readonly)
{
    grant_ref_t ref = get_ref();
    if (ref == GNTTAB_INVALID_REF) return ref;
    volatile grant_entry_v1_t *e = entry(ref);
    e->domid = domid;
    e->frame = (uint32_t)mfn;
    wmb();
    e->flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
    return ref;
}

int gnttab_end_access(grant_ref_t ref)
{
    volatile grant_entry_v1_t *e = entry(ref);
    uint16_t flags = e->flags, prev;
    do {
        if (flags & (GTF_reading | GTF_writing)) {
            printk("gnttab: ref %u still in use by dom%u (flags %x)\n", ref, e->domid, flags);
            return 0;
        }
        prev = flags;
        flags = cmpxchg16(&e->flags, prev, 0);
    } while (flags != prev);
    put_ref(ref);
    return 1;
}

grant_ref_t gnttab_grant_transfer(domid_t domid, unsigned long pfn)
{
    grant_ref_t ref = get_ref();
    if (ref == GNTTAB_INVALID_REF) return ref;
    volatile grant_entry_v1_t *e = entry(ref);
    e->domid = domid;
    e->frame = (uint32_t)pfn;
    wmb();
    e->flags = GTF_accept_transfer;
    return ref;
}

int gnttab_transfer_done(grant_ref_t ref)
{
    return (entry(ref)->flags & GTF_transfer_completed) != 0;
}

unsigned long gnttab_end_transfer(grant_ref_t ref)
{
    volatile grant_entry_v1_t *e = entry(ref);
    uint16_t flags;
    /* Not committed: revoke, and no transfer will happen. */
    while (!((flags = e->flags) & GTF_transfer_committed)) {
        if (cmpxchg16(&e->flags, flags, 0) == flags) {
            put_ref(ref);
            return 0;
        }
    }
    /* Committed: Xen finishes shortly; the frame is valid once completed is set. */
    while (!(e->flags & GTF_transfer_completed)) cpu_relax();
    rmb();
    unsigned long mfn = e->frame;
    e->flags = 0;
    put_ref(ref);
    return mfn;
}

unsigned gnttab_free_count(void) { return nr_free; }
unsigned gnttab_nr_entries(void) { return nr_frames * (PAGE_SIZE / sizeof(grant_entry_v1_t)); }
