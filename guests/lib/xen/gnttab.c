/* Grant tables from a PV guest (see gnttab.h). */
#include "gnttab.h"
#include "hypercall.h"

struct xen_gnttab xen_gnttab;

/* Bounded wait for a transfer Xen committed to: it completes within its own hypercall on
 * one vCPU, so this only ever waits for another vCPU of the granter's peer. */
#define XEN_GNTTAB_TRANSFER_SPINS 1000000u

static inline void wmb(void) { __asm__ volatile("" ::: "memory"); }
static inline void rmb(void) { __asm__ volatile("" ::: "memory"); }

static inline uint16_t cmpxchg16(volatile uint16_t *p, uint16_t old, uint16_t new_)
{
    uint16_t prev;
    __asm__ volatile("lock cmpxchgw %2, %1" : "=a"(prev), "+m"(*p) : "r"(new_), "0"(old) : "memory");
    return prev;
}

int xen_gnttab_query(uint32_t *nr_frames, uint32_t *max_frames)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc < 0) return (int)rc;
    if (nr_frames) *nr_frames = q.nr_frames;
    if (max_frames) *max_frames = q.max_nr_frames;
    return q.status;
}

int xen_gnttab_setup(unsigned nr, xen_pfn_t *frames)
{
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = nr };
    set_xen_guest_handle(st.frame_list, frames);
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    return rc < 0 ? (int)rc : st.status;
}

void xen_gnttab_attach(volatile void *table, unsigned nr_frames)
{
    unsigned n = nr_frames * (4096 / sizeof(grant_entry_v1_t));
    if (n > XEN_GNTTAB_MAX_REFS) n = XEN_GNTTAB_MAX_REFS;
    xen_gnttab.table = table;
    xen_gnttab.nr_entries = n;
    for (unsigned i = 0; i < XEN_GNTTAB_MAX_REFS / 32; i++) xen_gnttab.used[i] = 0;
    for (unsigned r = 0; r < GNTTAB_NR_RESERVED_ENTRIES && r < n; r++) xen_gnttab.used[r / 32] |= 1u << (r % 32);
    xen_gnttab.nr_free = n > GNTTAB_NR_RESERVED_ENTRIES ? n - GNTTAB_NR_RESERVED_ENTRIES : 0;
}

grant_ref_t xen_gnttab_claim_ref(void)
{
    for (unsigned w = 0; w * 32 < xen_gnttab.nr_entries; w++) {
        uint32_t free = ~xen_gnttab.used[w];
        if (!free) continue;
        unsigned b = (unsigned)__builtin_ctz(free);
        grant_ref_t r = w * 32 + b;
        if (r >= xen_gnttab.nr_entries) break;
        xen_gnttab.used[w] |= 1u << b;
        xen_gnttab.nr_free--;
        return r;
    }
    return XEN_GNTTAB_INVALID_REF;
}

void xen_gnttab_release_ref(grant_ref_t ref)
{
    if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= xen_gnttab.nr_entries) return;
    if (!(xen_gnttab.used[ref / 32] & (1u << (ref % 32)))) return;
    xen_gnttab.used[ref / 32] &= ~(1u << (ref % 32));
    xen_gnttab.nr_free++;
}

static grant_ref_t make_entry(domid_t domid, unsigned long frame, uint16_t flags)
{
    grant_ref_t r = xen_gnttab_claim_ref();
    if (r == XEN_GNTTAB_INVALID_REF) return r;
    volatile grant_entry_v1_t *e = &xen_gnttab.table[r];
    e->domid = domid;
    e->frame = (uint32_t)frame;
    wmb();
    e->flags = flags;
    return r;
}

grant_ref_t xen_gnttab_grant_access(domid_t domid, unsigned long frame, int readonly)
{
    return make_entry(domid, frame, GTF_permit_access | (readonly ? GTF_readonly : 0));
}

int xen_gnttab_end_access(grant_ref_t ref)
{
    if (ref >= xen_gnttab.nr_entries) return 0;
    volatile uint16_t *pflags = &xen_gnttab.table[ref].flags;
    uint16_t flags = *pflags;
    for (unsigned tries = 0; tries < 1000; tries++) {
        if (flags & (GTF_reading | GTF_writing)) return 0;
        uint16_t prev = cmpxchg16(pflags, flags, 0);
        if (prev == flags) {
            xen_gnttab_release_ref(ref);
            return 1;
        }
        flags = prev;
    }
    return 0;
}

grant_ref_t xen_gnttab_grant_transfer(domid_t domid, unsigned long pfn)
{
    return make_entry(domid, pfn, GTF_accept_transfer);
}

int xen_gnttab_transfer_done(grant_ref_t ref)
{
    if (ref >= xen_gnttab.nr_entries) return 0;
    return (xen_gnttab.table[ref].flags & GTF_transfer_completed) != 0;
}

unsigned long xen_gnttab_end_transfer(grant_ref_t ref)
{
    if (ref >= xen_gnttab.nr_entries) return 0;
    volatile grant_entry_v1_t *e = &xen_gnttab.table[ref];
    volatile uint16_t *pflags = &e->flags;
    uint16_t flags = *pflags;
    /* Not committed yet: withdraw the offer if Xen has not started. */
    while (!(flags & GTF_transfer_committed)) {
        uint16_t prev = cmpxchg16(pflags, flags, 0);
        if (prev == flags) {
            xen_gnttab_release_ref(ref);
            return 0;
        }
        flags = prev;
    }
    unsigned spins = 0;
    while (!(*pflags & GTF_transfer_completed)) {
        if (++spins > XEN_GNTTAB_TRANSFER_SPINS) {
            /* A transfer Xen never completes: keep the ref (leaked) rather than reuse it. */
            return 0;
        }
        xen_yield();
    }
    rmb();
    unsigned long frame = e->frame;
    e->flags = 0;
    xen_gnttab_release_ref(ref);
    return frame;
}

int xen_gnttab_map(domid_t dom, grant_ref_t ref, uint64_t host_addr, uint32_t flags,
                   grant_handle_t *handle, uint64_t *bus)
{
    struct gnttab_map_grant_ref m = { .host_addr = host_addr, .flags = flags, .ref = ref, .dom = dom };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1);
    if (rc < 0) return (int)rc;
    if (m.status == GNTST_okay) {
        if (handle) *handle = m.handle;
        if (bus) *bus = m.dev_bus_addr;
    }
    return m.status;
}

int xen_gnttab_unmap(grant_handle_t handle, uint64_t host_addr, uint64_t dev_bus_addr)
{
    struct gnttab_unmap_grant_ref u = { .host_addr = host_addr, .dev_bus_addr = dev_bus_addr, .handle = handle };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
    return rc < 0 ? (int)rc : u.status;
}

int xen_gnttab_copy(uint32_t src, domid_t src_dom, uint16_t src_off, uint32_t dst, domid_t dst_dom,
                    uint16_t dst_off, uint16_t len, uint16_t flags)
{
    struct gnttab_copy c;
    c.source.u.gmfn = src;
    c.source.domid = src_dom;
    c.source.offset = src_off;
    c.dest.u.gmfn = dst;
    c.dest.domid = dst_dom;
    c.dest.offset = dst_off;
    c.len = len;
    c.flags = flags;
    c.status = 1;
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1);
    return rc < 0 ? (int)rc : c.status;
}

int xen_gnttab_transfer(unsigned long mfn, domid_t domid, grant_ref_t ref)
{
    struct gnttab_transfer t = { .mfn = mfn, .domid = domid, .ref = ref };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_transfer, &t, 1);
    return rc < 0 ? (int)rc : t.status;
}

const char *xen_gntst_str(int status)
{
    static const char *const msgs[] = GNTTABOP_error_msgs;
    unsigned i = (unsigned)-status;
    if (status > 0 || i >= sizeof(msgs) / sizeof(msgs[0])) return "bad status";
    return msgs[i];
}
