/* The PV block frontend (see blkfront.h). */
#include "minios/drivers/blkfront.h"
#include "minios/kernel/events.h"
#include "minios/kernel/sched.h"
#include "minios/kernel/control.h"
#include "minios/kernel/cmdline.h"
#include "minios/mm/mm.h"
#include "minios/xen/gnttab.h"
#include "minios/xen/xenbus.h"
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xs_paths.h>

#define MAX_DEVS BLKFRONT_MAX_DEVS
#define MAX_RING_ORDER 2                    /* up to 4 ring pages, 128 slots */
#define MAX_RING_SLOTS 128
#define MAX_INDIRECT_SEGS 64                /* 256 KiB per indirect request, one page of segments */
#define STATE_TIMEOUT (30 * NSEC_PER_SEC)
#define IO_TIMEOUT (60 * NSEC_PER_SEC)
#define DRAIN_TIMEOUT (5 * NSEC_PER_SEC)     /* requests in flight at an unplug */
#define CLOSE_TIMEOUT (5 * NSEC_PER_SEC)     /* each backend state step of a close */

struct shadow {
    int in_use;
    volatile int done;
    int16_t status;
    uint8_t op;
    unsigned ngrefs;
    grant_ref_t grefs[MAX_INDIRECT_SEGS + 1];
    void *indirect_page;
};

struct blkdev {
    char nodename[48];                 /* device/vbd/<devid> */
    char backend[96];
    char be_state_path[112];
    char state_path[64];
    domid_t backend_id;
    unsigned devid;
    blkif_front_ring_t ring;
    void *ring_va;
    unsigned ring_order;
    grant_ref_t ring_refs[1 << MAX_RING_ORDER];
    evtchn_port_t port;
    int state;                         /* DEV_* */
    int connected;                     /* accepting new I/O */
    int live;                          /* ring granted, port open: responses are processed */
    uint32_t gen;                      /* bumped at every close: waiters of an old ring give up */
    uint64_t sectors;
    unsigned sector_size, info;
    int flush, barrier, discard;
    unsigned max_indirect;
    struct xb_watch be_watch;
    char watch_token[16];
    uint32_t be_seen;
    struct shadow shadow[MAX_RING_SLOTS];
    uint64_t reads, writes, flushes, discards, errors;
};

/* Slot states. A slot keeps its index (the shell's `disk use N`) across unplug/replug. */
enum { DEV_FREE, DEV_CONNECTING, DEV_CONNECTED, DEV_CLOSING, DEV_CLOSED, DEV_FAILED, DEV_GONE };

static struct blkdev devs[MAX_DEVS];
static unsigned nr_devs;
static struct xb_watch list_watch = { .path = "device/vbd", .token = "vbds" };
static uint32_t list_seen;
static int bus_running;                /* blk_bus_poll is not re-entered from its own waits */

struct moved_arg { struct xb_watch *w; uint32_t seen; };
static int watch_moved_cond(void *p)
{
    struct moved_arg *a = p;
    return a->w->fired != a->seen;
}

static int connected_cond(void *p)
{
    struct blkdev *d = p;
    return d && d->state == DEV_CONNECTED;
}

unsigned blkfront_count(void) { return nr_devs; }
struct blkdev *blkfront_get(unsigned i) { return i < nr_devs ? &devs[i] : 0; }

void blk_get_info(struct blkdev *d, struct blk_info *o)
{
    o->nodename = d->nodename;
    o->devid = d->devid;
    o->sectors = d->sectors;
    o->sector_size = d->sector_size;
    o->info = d->info;
    o->flush = d->flush;
    o->barrier = d->barrier;
    o->discard = d->discard;
    o->max_indirect = d->max_indirect;
    o->ring_pages = 1u << d->ring_order;
    o->ring_size = d->connected ? RING_SIZE(&d->ring) : 0;
    o->connected = d->connected;
    o->reads = d->reads;
    o->writes = d->writes;
    o->flushes = d->flushes;
    o->discards = d->discards;
    o->errors = d->errors;
}

static void blk_event(evtchn_port_t p, void *data)
{
    (void)p;
    (void)data;
}

static void end_grants(struct shadow *s)
{
    int all = 1;
    for (unsigned i = 0; i < s->ngrefs; i++) all &= gnttab_end_access(s->grefs[i]);
    s->ngrefs = 0;
    /* A page the backend still maps (it never unmapped after Closed) is leaked, not reused. */
    if (s->indirect_page && all) free_page(s->indirect_page);
    s->indirect_page = 0;
}

static void process_responses(struct blkdev *d)
{
    if (!d->live) return;
    for (;;) {
        RING_IDX prod = d->ring.sring->rsp_prod;
        rmb();
        if (prod - d->ring.rsp_cons > RING_SIZE(&d->ring)) {
            printk("blkfront %s: backend produced %u responses for a %u-slot ring\n",
                   d->nodename, prod - d->ring.rsp_cons, RING_SIZE(&d->ring));
            d->errors++;
            d->ring.rsp_cons = prod;
            return;
        }
        while (d->ring.rsp_cons != prod) {
            blkif_response_t *r = RING_GET_RESPONSE(&d->ring, d->ring.rsp_cons);
            uint64_t id = r->id;
            int16_t st = r->status;
            d->ring.rsp_cons++;
            if (id >= MAX_RING_SLOTS || !d->shadow[id].in_use || d->shadow[id].done) {
                printk("blkfront %s: response with unknown id %llu\n", d->nodename,
                       (unsigned long long)id);
                d->errors++;
                continue;
            }
            struct shadow *s = &d->shadow[id];
            end_grants(s);
            s->status = st;
            wmb();
            s->done = 1;
        }
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&d->ring, more);
        if (!more) return;
    }
}

/* The I/O poller: responses only, so it keeps running while the bus poller waits. */
static void blk_poll(void)
{
    for (unsigned i = 0; i < nr_devs; i++) process_responses(&devs[i]);
}

static int read_str(const char *dir, const char *key, char *buf, unsigned size)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xb_read(XBT_NIL, path, buf, size);
}

static uint64_t read_num(const char *dir, const char *key, uint64_t dflt)
{
    char path[160];
    uint64_t v;
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xb_read_u64(XBT_NIL, path, &v) == 0 ? v : dflt;
}

static int write_ring_keys(struct blkdev *d)
{
    char path[96];
    for (;;) {
        xenbus_transaction_t t;
        int rc = xb_transaction_start(&t);
        if (rc) return rc;
        if (d->ring_order == 0) {
            snprintf(path, sizeof(path), "%s/%s", d->nodename, XS_KEY_RING_REF);
            rc = xb_printf(t, path, "%u", d->ring_refs[0]);
        } else {
            snprintf(path, sizeof(path), "%s/%s", d->nodename, XS_KEY_RING_PAGE_ORDER);
            rc = xb_printf(t, path, "%u", d->ring_order);
            for (unsigned i = 0; !rc && i < (1u << d->ring_order); i++) {
                snprintf(path, sizeof(path), "%s/%s%u", d->nodename, XS_KEY_RING_REF, i);
                rc = xb_printf(t, path, "%u", d->ring_refs[i]);
            }
        }
        if (!rc) {
            snprintf(path, sizeof(path), "%s/%s", d->nodename, XS_KEY_EVENT_CHANNEL);
            rc = xb_printf(t, path, "%u", d->port);
        }
        if (!rc) {
            snprintf(path, sizeof(path), "%s/%s", d->nodename, XS_KEY_PROTOCOL);
            rc = xb_write(t, path, XEN_IO_PROTO_ABI_NATIVE);
        }
        if (rc) {
            xb_transaction_end(t, 1);
            return rc;
        }
        rc = xb_transaction_end(t, 0);
        if (rc != -XEN_EAGAIN) return rc;
    }
}

/* Give back the ring pages' grants and the port (after the backend let go of them). */
static void release_ring(struct blkdev *d)
{
    d->live = 0;
    for (unsigned r = 0; r < (1u << d->ring_order); r++) {
        if (d->ring_refs[r] == GNTTAB_INVALID_REF) continue;
        if (!gnttab_end_access(d->ring_refs[r]))
            printk("blkfront %s: ring page %u still mapped by the backend; leaving it granted\n",
                   d->nodename, r);
        d->ring_refs[r] = GNTTAB_INVALID_REF;
    }
    if (d->port) evtchn_close_port(d->port);
    d->port = 0;
}

static int connect(struct blkdev *d)
{
    int rc = read_str(d->nodename, XS_KEY_BACKEND, d->backend, sizeof(d->backend));
    if (rc < 0) return rc;
    d->backend_id = (domid_t)read_num(d->nodename, XS_KEY_BACKEND_ID, 0);
    char be_state[sizeof(d->be_state_path)];
    snprintf(be_state, sizeof(be_state), "%s/%s", d->backend, XS_KEY_STATE);
    /* After a restore (or a replug) the backend may be a new one. */
    if (d->be_watch.registered && strcmp(be_state, d->be_state_path)) xb_unwatch(&d->be_watch);
    strcpy_s(d->be_state_path, be_state, sizeof(d->be_state_path));
    snprintf(d->state_path, sizeof(d->state_path), "%s/%s", d->nodename, XS_KEY_STATE);
    if (!d->be_watch.registered) {
        snprintf(d->watch_token, sizeof(d->watch_token), "blk%u", d->devid);
        d->be_watch.path = d->be_state_path;
        d->be_watch.token = d->watch_token;
        rc = xb_watch(&d->be_watch);
        if (rc) return rc;
    }
    rc = xb_wait_state(d->be_state_path, XenbusStateInitWait, XenbusStateConnected, &d->be_watch,
                       STATE_TIMEOUT);
    if (rc < 0) {
        printk("blkfront %s: backend never reached InitWait (%s)\n", d->nodename, xb_strerror(rc));
        return rc;
    }

    /* Ring size: what we allow (blkring=ORDER), bounded by the backend. */
    const char *opt = cmdline_get("blkring");
    uint32_t want = 1;
    if (opt && parse_u32(opt, &want) == 0 && want > MAX_RING_ORDER) want = MAX_RING_ORDER;
    uint64_t be_max = read_num(d->backend, XS_KEY_MAX_RING_PAGE_ORDER, 0);
    d->ring_order = (unsigned)MIN((uint64_t)want, be_max);
    unsigned pages = 1u << d->ring_order;
    if (!d->ring_va) {
        d->ring_va = alloc_pages(1u << MAX_RING_ORDER);
        if (!d->ring_va) return -XEN_ENOMEM;
    }
    memset(d->ring_va, 0, pages * PAGE_SIZE);
    blkif_sring_t *sring = d->ring_va;
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&d->ring, sring, pages * PAGE_SIZE);
    memset(d->shadow, 0, sizeof(d->shadow));
    for (unsigned i = 0; i < (1u << MAX_RING_ORDER); i++) d->ring_refs[i] = GNTTAB_INVALID_REF;
    d->port = 0;
    for (unsigned i = 0; i < pages; i++) {
        d->ring_refs[i] = gnttab_grant_access(d->backend_id,
                                              virt_to_mfn((char *)d->ring_va + i * PAGE_SIZE), 0);
        if (d->ring_refs[i] == GNTTAB_INVALID_REF) goto fail_nospc;
    }
    long port = alloc_unbound_port(d->backend_id, blk_event, d);
    if (port < 0) {
        rc = (int)port;
        goto fail;
    }
    d->port = (evtchn_port_t)port;
    d->live = 1;

    rc = write_ring_keys(d);
    if (!rc) rc = xb_switch_state(d->state_path, XenbusStateInitialised);
    if (rc) goto fail;
    rc = xb_wait_state(d->be_state_path, XenbusStateConnected, XenbusStateConnected, &d->be_watch,
                       STATE_TIMEOUT);
    if (rc < 0) {
        printk("blkfront %s: backend did not connect (%s, state %d)\n", d->nodename,
               xb_strerror(rc), xb_read_state(d->be_state_path));
        goto fail;
    }
    d->sectors = read_num(d->backend, XS_KEY_SECTORS, 0);
    d->sector_size = (unsigned)read_num(d->backend, XS_KEY_SECTOR_SIZE, 512);
    d->info = (unsigned)read_num(d->backend, XS_KEY_INFO, 0);
    d->flush = read_num(d->backend, XS_KEY_FEATURE_FLUSH_CACHE, 0) != 0;
    d->barrier = read_num(d->backend, XS_KEY_FEATURE_BARRIER, 0) != 0;
    d->discard = read_num(d->backend, XS_KEY_FEATURE_DISCARD, 0) != 0;
    uint64_t ind = read_num(d->backend, XS_KEY_FEATURE_MAX_INDIRECT_SEGMENTS, 0);
    opt = cmdline_get("blkindirect");
    uint32_t cap = MAX_INDIRECT_SEGS;
    if (opt && parse_u32(opt, &cap) == 0 && cap > MAX_INDIRECT_SEGS) cap = MAX_INDIRECT_SEGS;
    d->max_indirect = ind > BLKIF_MAX_SEGMENTS_PER_REQUEST ? (unsigned)MIN(ind, (uint64_t)cap) : 0;
    if (d->max_indirect <= BLKIF_MAX_SEGMENTS_PER_REQUEST) d->max_indirect = 0;
    rc = xb_switch_state(d->state_path, XenbusStateConnected);
    if (rc) goto fail;
    d->be_seen = d->be_watch.fired;
    d->connected = 1;
    d->state = DEV_CONNECTED;
    printk("BLK %s: backend %s sectors=%llu sector-size=%u info=%u ring-pages=%u slots=%u "
           "indirect=%u flush=%d barrier=%d discard=%d\n",
           d->nodename, d->backend, (unsigned long long)d->sectors, d->sector_size, d->info,
           pages, RING_SIZE(&d->ring), d->max_indirect, d->flush, d->barrier, d->discard);
    return 0;
fail_nospc:
    rc = -XEN_ENOSPC;
fail:
    /* The backend maps nothing before it goes Connected, so the grants can go now. */
    release_ring(d);
    return rc;
}

/* Every request handed to the backend has its response (its waiter may not have reaped it). */
static int drained_cond(void *p)
{
    struct blkdev *d = p;
    process_responses(d);
    for (unsigned i = 0; i < MAX_RING_SLOTS; i++)
        if (d->shadow[i].in_use && !d->shadow[i].done) return 0;
    return 1;
}

/* The backend reached `lo` or beyond, or its directory is gone. */
static int wait_backend(struct blkdev *d, int lo, uint64_t timeout)
{
    uint64_t deadline = now_ns() + timeout;
    for (;;) {
        uint32_t seen = d->be_watch.fired;
        int st = xb_read_state(d->be_state_path);
        if (st < 0 || st == XenbusStateUnknown || st >= lo) return st;   /* errors: gone */
        uint64_t now = now_ns();
        if (now >= deadline) return -XEN_ETIME;
        struct moved_arg a = { &d->be_watch, seen };
        wait_for(watch_moved_cond, &a, deadline - now);
    }
}

/*
 * Close the device (hot unplug, or our shutdown), as Linux blkfront does: no new I/O,
 * let the requests in flight finish (up to DRAIN_TIMEOUT), Closing, wait for the
 * backend's Closing (it disconnects: unmaps our grants, unbinds the port), Closed, wait
 * for its Closed or for its directory to go, then fail whatever never got a response and
 * give back every grant and the port. `gone`: the backend (or our directory) has already
 * gone (a forced teardown): nothing to wait for and nothing to write.
 */
static void blk_close(struct blkdev *d, const char *why, int gone)
{
    if (d->state != DEV_CONNECTED) return;
    d->state = DEV_CLOSING;              /* its own waits run the bus poller: no second close */
    d->connected = 0;
    unsigned inflight = 0;
    for (unsigned i = 0; i < MAX_RING_SLOTS; i++) inflight += d->shadow[i].in_use && !d->shadow[i].done;
    printk("BLK %s: closing (%s), %u requests in flight\n", d->nodename, why, inflight);
    if (!gone) {
        if (!wait_for(drained_cond, d, DRAIN_TIMEOUT))
            printk("blkfront %s: requests still in flight after the drain time\n", d->nodename);
        xb_switch_state_if_present(d->state_path, XenbusStateClosing);
        int st = wait_backend(d, XenbusStateClosing, CLOSE_TIMEOUT);
        process_responses(d);
        xb_switch_state_if_present(d->state_path, XenbusStateClosed);
        if (st > 0) wait_backend(d, XenbusStateClosed, CLOSE_TIMEOUT);
    }
    process_responses(d);
    unsigned failed = 0;
    for (unsigned i = 0; i < MAX_RING_SLOTS; i++) {
        struct shadow *s = &d->shadow[i];
        if (!s->in_use || s->done) continue;
        end_grants(s);
        s->status = BLKIF_RSP_ERROR;
        wmb();
        s->done = 1;
        failed++;
    }
    release_ring(d);
    if (d->be_watch.registered) xb_unwatch(&d->be_watch);
    d->gen++;
    d->state = DEV_CLOSED;
    int be = xb_read_state(d->be_state_path);
    if (be > 0) printk("BLK %s: closed (backend state %d) failed=%u\n", d->nodename, be, failed);
    else printk("BLK %s: closed (backend gone) failed=%u\n", d->nodename, failed);
}

static void blk_suspend(void)
{
    for (unsigned i = 0; i < nr_devs; i++)
        if (devs[i].state == DEV_CONNECTED && !wait_for(drained_cond, &devs[i], IO_TIMEOUT))
            printk("blkfront %s: I/O still in flight at suspend\n", devs[i].nodename);
}

static void blk_resume(int new_domain)
{
    if (!new_domain) return;
    for (unsigned i = 0; i < nr_devs; i++) {
        struct blkdev *d = &devs[i];
        if (d->state != DEV_CONNECTED) continue;
        /* Old grants and port died with the old domain; the watches were re-registered. */
        d->connected = 0;
        d->live = 0;
        d->gen++;
        d->state = DEV_CONNECTING;
        int rc = connect(d);
        if (rc) {
            printk("blkfront %s: reconnect failed: %s\n", d->nodename, xb_strerror(rc));
            d->state = DEV_FAILED;
        }
    }
}

static void blk_shutdown(void)
{
    for (unsigned i = 0; i < nr_devs; i++) blk_close(&devs[i], "shutdown", 0);
}

static const struct lifecycle_ops blk_lifecycle = {
    .name = "blkfront", .suspend = blk_suspend, .resume = blk_resume, .shutdown = blk_shutdown,
};

static struct blkdev *find_slot(uint32_t devid)
{
    for (unsigned i = 0; i < nr_devs; i++)
        if (devs[i].devid == devid && devs[i].state != DEV_GONE && devs[i].state != DEV_FREE)
            return &devs[i];
    return 0;
}

/* A slot for a new device: the one it had before, else the first unused or gone one. */
static struct blkdev *new_slot(uint32_t devid)
{
    for (unsigned i = 0; i < nr_devs; i++)
        if (devs[i].state == DEV_GONE && devs[i].devid == devid) return &devs[i];
    for (unsigned i = 0; i < nr_devs; i++)
        if (devs[i].state == DEV_GONE) return &devs[i];
    if (nr_devs < MAX_DEVS) return &devs[nr_devs++];
    return 0;
}

static void probe(uint32_t devid)
{
    struct blkdev *d = new_slot(devid);
    if (!d) {
        printk("blkfront: no slot for device/vbd/%u (at most %u devices)\n", devid, MAX_DEVS);
        return;
    }
    d->devid = devid;
    snprintf(d->nodename, sizeof(d->nodename), "device/vbd/%u", devid);
    d->state = DEV_CONNECTING;
    int rc = connect(d);
    if (rc) {
        printk("blkfront %s: connect failed: %s\n", d->nodename, xb_strerror(rc));
        d->state = DEV_FAILED;
    }
}

/*
 * The bus poller: the toolstack's side of the device's life. A backend going Closing (or
 * away) closes the device; a device directory that appears (at boot, or hot plugged: a
 * new one, or a fresh directory at state Initialising where a closed one was) connects;
 * a closed device whose directory is gone frees its slot. It may wait (connect, close)
 * while the I/O poller keeps serving the other devices.
 */
static void blk_bus_poll(void)
{
    if (bus_running || control_suspending) return;
    bus_running = 1;
    for (unsigned i = 0; i < nr_devs; i++) {
        struct blkdev *d = &devs[i];
        if (d->state != DEV_CONNECTED || d->be_watch.fired == d->be_seen) continue;
        d->be_seen = d->be_watch.fired;
        char why[40];
        int gone;
        if (xb_backend_leaving(d->be_state_path, why, sizeof(why), &gone)) blk_close(d, why, gone);
    }
    if (list_watch.fired == list_seen) {
        bus_running = 0;
        return;
    }
    list_seen = list_watch.fired;
    char list[256];
    int n = xb_ls(XBT_NIL, "device/vbd", list, sizeof(list));
    if (n < 0) n = 0;
    for (unsigned i = 0; i < nr_devs; i++) {
        struct blkdev *d = &devs[i];
        if (xb_ls_has_id(list, n, d->devid)) continue;
        if (d->state == DEV_CONNECTED) blk_close(d, "directory removed", 1);
        if (d->state == DEV_CLOSED || d->state == DEV_FAILED) {
            d->state = DEV_GONE;
            printk("BLK %s: removed\n", d->nodename);
        }
    }
    const char *name = list;
    for (int i = 0; i < n; i++, name += strlen(name) + 1) {
        uint32_t devid;
        if (parse_u32(name, &devid)) continue;
        struct blkdev *d = find_slot(devid);
        if (d && d->state == DEV_CLOSED) {
            /* Replugged between two looks: a fresh directory starts at Initialising. */
            if (!xb_device_fresh("device/vbd", devid)) continue;
            d->state = DEV_GONE;
            d = 0;
        }
        if (!d) probe(devid);
    }
    bus_running = 0;
}

void blkfront_init(void)
{
    poller_register("blkfront", blk_poll);
    poller_register("blkfront-bus", blk_bus_poll);
    control_register(&blk_lifecycle);
    int rc = xb_watch(&list_watch);
    if (rc) printk("blkfront: cannot watch device/vbd: %s\n", xb_strerror(rc));
    list_seen = list_watch.fired - 1;      /* look now, not only when the watch fires */
    blk_bus_poll();
    if (!nr_devs) printk("blkfront: no block devices\n");
}

static int closed_cond(void *p)
{
    struct blkdev *d = p;
    return !d || (d->state != DEV_CONNECTED && d->state != DEV_CLOSING);
}

int blkfront_wait(unsigned index, int connected, uint64_t timeout)
{
    struct blkdev *d = index < MAX_DEVS ? &devs[index] : 0;
    return wait_for(connected ? connected_cond : closed_cond, d, timeout) ? 0 : -XEN_ETIME;
}
/* ---- I/O ---- */

static struct shadow *get_shadow(struct blkdev *d, unsigned *id)
{
    for (unsigned i = 0; i < RING_SIZE(&d->ring) && i < MAX_RING_SLOTS; i++) {
        if (!d->shadow[i].in_use) {
            struct shadow *s = &d->shadow[i];
            memset(s, 0, sizeof(*s));
            s->in_use = 1;
            *id = i;
            return s;
        }
    }
    return 0;
}

static int slot_free_cond(void *p)
{
    struct blkdev *d = p;
    if (!d->connected) return 1;
    if (RING_FULL(&d->ring)) return 0;
    for (unsigned i = 0; i < RING_SIZE(&d->ring) && i < MAX_RING_SLOTS; i++)
        if (!d->shadow[i].in_use) return 1;
    return 0;
}

static void push(struct blkdev *d)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->ring, notify);
    if (notify) xen_evtchn_send(d->port);
}

/* Grant the pages of [buf, buf + nsec*512) as segments; returns segments used. */
static unsigned fill_segments(struct shadow *s, struct blkif_request_segment *seg, domid_t be,
                              const char *buf, unsigned nsec, int readonly)
{
    unsigned n = 0;
    while (nsec) {
        unsigned off = (unsigned)((uintptr_t)buf & (PAGE_SIZE - 1));
        unsigned first = off / 512;
        unsigned count = MIN(nsec, 8 - first);
        grant_ref_t ref = gnttab_grant_access(be, virt_to_mfn(buf), readonly);
        if (ref == GNTTAB_INVALID_REF) panic("blkfront: out of grant references");
        s->grefs[s->ngrefs++] = ref;
        seg[n].gref = ref;
        seg[n].first_sect = (uint8_t)first;
        seg[n].last_sect = (uint8_t)(first + count - 1);
        n++;
        buf += count * 512;
        nsec -= count;
    }
    return n;
}

struct done_arg { struct blkdev *d; uint32_t gen; unsigned ids[MAX_RING_SLOTS]; unsigned n; };
static int all_done_cond(void *p)
{
    struct done_arg *a = p;
    if (a->d->gen != a->gen) return 1;       /* closed (and maybe reconnected) meanwhile */
    for (unsigned i = 0; i < a->n; i++)
        if (!a->d->shadow[a->ids[i]].done) return 0;
    return 1;
}

/* Collect the results of the submitted requests; 0 or the first error. */
static int finish(struct blkdev *d, struct done_arg *a)
{
    int rc = 0;
    if (!wait_for(all_done_cond, a, IO_TIMEOUT)) {
        printk("blkfront %s: I/O timed out\n", d->nodename);
        rc = -XEN_ETIME;
    }
    if (d->gen != a->gen) {      /* the close failed or finished our requests; a new ring may be up */
        a->n = 0;
        d->errors++;
        return -XEN_ENODEV;
    }
    for (unsigned i = 0; i < a->n; i++) {
        struct shadow *s = &d->shadow[a->ids[i]];
        if (!s->done) continue;              /* timed out: leave it for a late response */
        if (s->status != BLKIF_RSP_OKAY && !rc) {
            rc = s->status == BLKIF_RSP_EOPNOTSUPP ? -XEN_ENOSYS : -XEN_EIO;
            printk("blkfront %s: op %u failed with status %d\n", d->nodename, s->op, s->status);
        }
        s->in_use = 0;
    }
    a->n = 0;
    if (rc) d->errors++;
    return rc;
}

static int rw(struct blkdev *d, uint8_t op, uint64_t sector, unsigned nsec, const char *buf)
{
    if (!d || !d->connected) return -XEN_ENODEV;
    if ((uintptr_t)buf & 511) return -XEN_EINVAL;
    if (sector + nsec > d->sectors || sector + nsec < sector) return -XEN_EINVAL;
    static struct done_arg a;
    a.d = d;
    a.gen = d->gen;
    a.n = 0;
    int readonly = op != BLKIF_OP_READ;
    unsigned max_segs = d->max_indirect && op != BLKIF_OP_WRITE_BARRIER ? d->max_indirect
                                                                         : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    int rc = 0;
    while (nsec) {
        /* Sectors that fit in max_segs pages from buf. */
        unsigned first = (unsigned)((uintptr_t)buf & (PAGE_SIZE - 1)) / 512;
        unsigned cap = max_segs * 8 - first;
        unsigned n = MIN(nsec, cap);
        if (!slot_free_cond(d) && a.n) {
            rc = finish(d, &a);      /* ring or shadows full: drain what we submitted */
            if (rc) return rc;
        }
        if (!wait_for(slot_free_cond, d, IO_TIMEOUT)) rc = -XEN_ETIME;
        if (!d->connected) rc = -XEN_ENODEV;  /* unplugged: collect what went out, then fail */
        if (rc) {
            finish(d, &a);
            d->errors++;
            return rc;
        }
        unsigned id;
        struct shadow *s = get_shadow(d, &id);
        s->op = op;
        unsigned segs_needed = (first + n + 7) / 8;
        if (segs_needed > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            struct blkif_request_indirect *req =
                (void *)RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);
            struct blkif_request_segment *segs = alloc_page();
            if (!segs) panic("blkfront: no memory for an indirect page");
            memset(segs, 0, PAGE_SIZE);
            s->indirect_page = segs;
            unsigned nseg = fill_segments(s, segs, d->backend_id, buf, n, readonly);
            grant_ref_t iref = gnttab_grant_access(d->backend_id, virt_to_mfn(segs), 1);
            if (iref == GNTTAB_INVALID_REF) panic("blkfront: out of grant references");
            s->grefs[s->ngrefs++] = iref;
            memset(req, 0, sizeof(*req));
            req->operation = BLKIF_OP_INDIRECT;
            req->indirect_op = op;
            req->nr_segments = (uint16_t)nseg;
            req->id = id;
            req->sector_number = sector;
            req->handle = (blkif_vdev_t)d->devid;
            req->indirect_grefs[0] = iref;
        } else {
            blkif_request_t *req = RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);
            req->operation = op;
            req->handle = (blkif_vdev_t)d->devid;
            req->id = id;
            req->sector_number = sector;
            req->nr_segments = (uint8_t)fill_segments(s, req->seg, d->backend_id, buf, n, readonly);
        }
        d->ring.req_prod_pvt++;
        push(d);
        a.ids[a.n++] = id;
        if (op == BLKIF_OP_READ) d->reads++;
        else d->writes++;
        sector += n;
        nsec -= n;
        buf += n * 512;
        if (op == BLKIF_OP_WRITE_BARRIER) {   /* one barrier at a time: keep ordering obvious */
            rc = finish(d, &a);
            if (rc) return rc;
        }
    }
    return finish(d, &a);
}

int blk_read(struct blkdev *d, uint64_t sector, unsigned nsec, void *buf)
{
    return rw(d, BLKIF_OP_READ, sector, nsec, buf);
}

int blk_write(struct blkdev *d, uint64_t sector, unsigned nsec, const void *buf)
{
    return rw(d, BLKIF_OP_WRITE, sector, nsec, buf);
}

int blk_write_barrier(struct blkdev *d, uint64_t sector, unsigned nsec, const void *buf)
{
    if (d && !d->barrier) return -XEN_ENOSYS;
    return rw(d, BLKIF_OP_WRITE_BARRIER, sector, nsec, buf);
}

static int simple_op(struct blkdev *d, uint8_t op, uint64_t sector, uint64_t nsec)
{
    if (!d || !d->connected) return -XEN_ENODEV;
    if (!wait_for(slot_free_cond, d, IO_TIMEOUT)) return -XEN_ETIME;
    if (!d->connected) return -XEN_ENODEV;
    static struct done_arg a;
    a.d = d;
    a.gen = d->gen;
    a.n = 0;
    unsigned id;
    struct shadow *s = get_shadow(d, &id);
    s->op = op;
    if (op == BLKIF_OP_DISCARD) {
        struct blkif_request_discard *req = (void *)RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);
        memset(req, 0, sizeof(*req));
        req->operation = op;
        req->flag = 0;
        req->handle = (blkif_vdev_t)d->devid;
        req->id = id;
        req->sector_number = sector;
        req->nr_sectors = nsec;
        d->discards++;
    } else {
        blkif_request_t *req = RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);
        req->operation = op;
        req->nr_segments = 0;
        req->handle = (blkif_vdev_t)d->devid;
        req->id = id;
        req->sector_number = 0;
        d->flushes++;
    }
    d->ring.req_prod_pvt++;
    push(d);
    a.ids[a.n++] = id;
    return finish(d, &a);
}

int blk_flush(struct blkdev *d)
{
    if (d && !d->flush) return -XEN_ENOSYS;
    return simple_op(d, BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
}

int blk_discard(struct blkdev *d, uint64_t sector, uint64_t nsec)
{
    if (d && !d->discard) return -XEN_ENOSYS;
    if (!d || sector + nsec > d->sectors || sector + nsec < sector) return -XEN_EINVAL;
    return simple_op(d, BLKIF_OP_DISCARD, sector, nsec);
}
