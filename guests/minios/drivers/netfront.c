/* The PV network frontend (see netfront.h). */
#include "minios/drivers/netfront.h"
#include "minios/kernel/events.h"
#include "minios/kernel/sched.h"
#include "minios/kernel/control.h"
#include "minios/kernel/cmdline.h"
#include "minios/mm/mm.h"
#include "minios/mm/balloon.h"
#include "minios/xen/gnttab.h"
#include "minios/xen/xenbus.h"
#include <xen/io/netif.h>
#include <xen/io/xs_paths.h>
#include <xen/memory.h>

#define STATE_TIMEOUT (30 * NSEC_PER_SEC)
#define CLOSE_TIMEOUT (5 * NSEC_PER_SEC)     /* each backend state step of a close */

enum { DEV_FREE, DEV_CONNECTING, DEV_CONNECTED, DEV_CLOSING, DEV_CLOSED, DEV_FAILED, DEV_GONE };

struct rx_buf {
    void *page;
    grant_ref_t gref;
    int posted;
};

struct tx_buf {
    void *page;
    grant_ref_t gref;
    int busy;
};

static struct {
    char nodename[32];
    char backend[96];
    char be_state_path[112];
    char state_path[48];
    domid_t backend_id;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    void *tx_ring_page, *rx_ring_page;
    grant_ref_t tx_ring_ref, rx_ring_ref;
    evtchn_port_t port;
    unsigned devid;
    int state;                     /* DEV_* */
    int connected;                 /* tx allowed, rx buffers re-posted */
    int live;                      /* rings granted, port open: responses are processed */
    uint32_t be_seen;
    struct rx_buf rxb[NET_RX_BUFS];
    struct tx_buf txb[NET_TX_BUFS];
    uint16_t rx_slot_buf[256];     /* rx ring index & 255 -> buffer id posted there */
    struct xb_watch be_watch;
    uint8_t pkt[NET_MTU_FRAME + 64];
    unsigned pkt_len;
    int pkt_bad;
} nf;

static struct xb_watch list_watch = { .path = "device/vif", .token = "vifs" };
static uint32_t list_seen;
static int bus_running;                /* net_bus_poll is not re-entered from its own waits */
void (*netfront_link_handler)(int up);

uint8_t netfront_mac[6];
int netfront_flip_mode;
struct net_stats net_stats;
void (*netfront_rx_handler)(const uint8_t *frame, unsigned len, int csum_blank);

int netfront_connected(void) { return nf.connected; }

static void net_event(evtchn_port_t p, void *d)
{
    (void)p;
    (void)d;
}

/* ---- rx buffers ---- */

static int post_rx(unsigned id)
{
    struct rx_buf *b = &nf.rxb[id];
    if (netfront_flip_mode) {
        unsigned long pfn = virt_to_pfn(b->page);
        b->gref = gnttab_grant_transfer(nf.backend_id, pfn);
        if (b->gref == GNTTAB_INVALID_REF) return -XEN_ENOSPC;
        if (p2m[pfn] != INVALID_MFN) {        /* still ours: give the frame to Xen */
            long rc = give_away_page(b->page);
            if (rc) {
                gnttab_end_transfer(b->gref);
                printk("netfront: cannot give rx page away: %ld\n", rc);
                return (int)rc;
            }
            flip_pages_out++;
        }
    }
    RING_IDX i = nf.rx.req_prod_pvt;
    netif_rx_request_t *req = RING_GET_REQUEST(&nf.rx, i);
    req->id = (uint16_t)id;
    req->gref = b->gref;
    nf.rx_slot_buf[i & 255] = (uint16_t)id;
    nf.rx.req_prod_pvt = i + 1;
    b->posted = 1;
    return 0;
}

static void push_rx(void)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf.rx, notify);
    if (notify) xen_evtchn_send(nf.port);
}

/* Bring a flipped buffer's new frame into our memory; returns its VA or 0. */
static void *install_flipped(struct rx_buf *b)
{
    unsigned long mfn = gnttab_end_transfer(b->gref);
    b->gref = GNTTAB_INVALID_REF;
    if (!mfn) return 0;                      /* nothing transferred: the pfn stays empty */
    unsigned long pfn = virt_to_pfn(b->page);
    struct mmu_update u = { .ptr = ((uint64_t)mfn << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, .val = pfn };
    long rc = HYPERVISOR_mmu_update(&u, 1, 0, DOMID_SELF);
    if (rc) panic("netfront: MMU_MACHPHYS_UPDATE(%lx -> %lx): %ld", mfn, pfn, rc);
    p2m[pfn] = mfn;
    rc = set_pte((unsigned long)b->page, ((uint64_t)mfn << PAGE_SHIFT) | PTE_KERNEL);
    if (rc) panic("netfront: mapping flipped frame %lx: %ld", mfn, rc);
    flip_pages_out--;
    net_stats.rx_flips++;
    return b->page;
}

static void rx_slot_data(struct rx_buf *b, const netif_rx_response_t *r, int last)
{
    void *page = b->page;
    if (netfront_flip_mode) page = install_flipped(b);
    if (r->status <= 0 || !page) {
        if (r->status < 0) net_stats.rx_errors++;
        nf.pkt_bad = 1;
    } else if (r->offset + (unsigned)r->status > PAGE_SIZE ||
               nf.pkt_len + (unsigned)r->status > sizeof(nf.pkt)) {
        nf.pkt_bad = 1;
        net_stats.rx_errors++;
    } else {
        memcpy(nf.pkt + nf.pkt_len, (char *)page + r->offset, (unsigned)r->status);
        nf.pkt_len += (unsigned)r->status;
    }
    if (last) {
        if (!nf.pkt_bad && nf.pkt_len >= 14) {
            net_stats.rx_packets++;
            net_stats.rx_bytes += nf.pkt_len;
            if (netfront_rx_handler) netfront_rx_handler(nf.pkt, nf.pkt_len, (r->flags & NETRXF_csum_blank) != 0);
        }
        nf.pkt_len = 0;
        nf.pkt_bad = 0;
    }
}

static void rx_poll(void)
{
    for (;;) {
        RING_IDX prod = nf.rx.sring->rsp_prod;
        rmb();
        if (prod - nf.rx.rsp_cons > RING_SIZE(&nf.rx)) {
            printk("netfront: backend produced %u rx responses for a %u-slot ring\n",
                   prod - nf.rx.rsp_cons, RING_SIZE(&nf.rx));
            net_stats.rx_errors++;
            nf.rx.rsp_cons = prod;
            return;
        }
        int extra_follows = 0;
        while (nf.rx.rsp_cons != prod) {
            RING_IDX i = nf.rx.rsp_cons++;
            netif_rx_response_t r = *RING_GET_RESPONSE(&nf.rx, i);
            unsigned id = nf.rx_slot_buf[i & 255];
            struct rx_buf *b = &nf.rxb[id];
            if (!b->posted) {
                printk("netfront: rx response in slot %u for buffer %u not posted\n", i, id);
                net_stats.rx_errors++;
                continue;
            }
            b->posted = 0;
            if (extra_follows) {
                /* An extra-info slot: its buffer carries no data. */
                const netif_extra_info_t *x = (const void *)&r;
                extra_follows = (x->flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
                if (netfront_flip_mode) install_flipped(b);
            } else {
                if (r.flags & NETRXF_extra_info) extra_follows = 1;
                rx_slot_data(b, &r, !(r.flags & NETRXF_more_data));
            }
            if (nf.connected && post_rx(id)) printk("netfront: cannot repost rx buffer %u\n", id);
        }
        if (nf.connected) push_rx();
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&nf.rx, more);
        if (!more) return;
    }
}

/* ---- tx ---- */

static void tx_poll(void)
{
    for (;;) {
        RING_IDX prod = nf.tx.sring->rsp_prod;
        rmb();
        if (prod - nf.tx.rsp_cons > RING_SIZE(&nf.tx)) {
            printk("netfront: backend produced %u tx responses for a %u-slot ring\n",
                   prod - nf.tx.rsp_cons, RING_SIZE(&nf.tx));
            net_stats.tx_errors++;
            nf.tx.rsp_cons = prod;
            return;
        }
        while (nf.tx.rsp_cons != prod) {
            netif_tx_response_t *r = RING_GET_RESPONSE(&nf.tx, nf.tx.rsp_cons);
            nf.tx.rsp_cons++;
            if (r->status == NETIF_RSP_NULL) continue;
            if (r->id >= NET_TX_BUFS || !nf.txb[r->id].busy) {
                printk("netfront: tx response for id %u not in flight\n", r->id);
                net_stats.tx_errors++;
                continue;
            }
            if (r->status != NETIF_RSP_OKAY) net_stats.tx_errors++;
            nf.txb[r->id].busy = 0;
        }
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&nf.tx, more);
        if (!more) return;
    }
}

static void net_poll(void)
{
    if (!nf.live) return;
    tx_poll();
    rx_poll();
}

/* Also reaps completions itself: it may be waited on from inside the netfront poller
 * (a reply sent while receiving), where the poller cannot run again. */
static int tx_free_cond(void *u)
{
    (void)u;
    if (!nf.connected) return 1;
    tx_poll();
    if (RING_FULL(&nf.tx)) return 0;
    for (unsigned i = 0; i < NET_TX_BUFS; i++)
        if (!nf.txb[i].busy) return 1;
    return 0;
}

int netfront_xmit(const void *frame, unsigned len)
{
    if (!nf.connected) return -XEN_ENODEV;
    if (len < NETIF_TX_MIN_FIRST_FRAGMENT || len > PAGE_SIZE) return -XEN_EINVAL;
    tx_poll();
    if (!tx_free_cond(0) && !wait_for(tx_free_cond, 0, NSEC_PER_SEC)) {
        net_stats.tx_errors++;
        return -XEN_EBUSY;
    }
    if (!nf.connected) return -XEN_ENODEV;
    unsigned id = 0;
    while (nf.txb[id].busy) id++;
    struct tx_buf *b = &nf.txb[id];
    memcpy(b->page, frame, len);
    b->busy = 1;
    netif_tx_request_t *req = RING_GET_REQUEST(&nf.tx, nf.tx.req_prod_pvt);
    req->gref = b->gref;
    req->offset = 0;
    req->flags = 0;
    req->id = (uint16_t)id;
    req->size = (uint16_t)len;
    nf.tx.req_prod_pvt++;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf.tx, notify);
    if (notify) xen_evtchn_send(nf.port);
    net_stats.tx_packets++;
    net_stats.tx_bytes += len;
    return 0;
}

/* ---- connection ---- */

static uint64_t read_num(const char *dir, const char *key, uint64_t dflt)
{
    char path[160];
    uint64_t v;
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xb_read_u64(XBT_NIL, path, &v) == 0 ? v : dflt;
}

static int parse_mac(const char *s, uint8_t *mac)
{
    for (int i = 0; i < 6; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++, s++) {
            char c = *s;
            unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                       : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                       : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
            if (d > 15) return -XEN_EINVAL;
            v = v * 16 + d;
        }
        mac[i] = (uint8_t)v;
        if (i < 5 && *s++ != ':') return -XEN_EINVAL;
    }
    return *s ? -XEN_EINVAL : 0;
}

static int write_keys(void)
{
    char path[96];
    static const char *const flag_keys[] = { XS_KEY_FEATURE_RX_NOTIFY, XS_KEY_FEATURE_NO_CSUM_OFFLOAD };
    for (;;) {
        xenbus_transaction_t t;
        int rc = xb_transaction_start(&t);
        if (rc) return rc;
        snprintf(path, sizeof(path), "%s/%s", nf.nodename, XS_KEY_TX_RING_REF);
        rc = xb_printf(t, path, "%u", nf.tx_ring_ref);
        if (!rc) {
            snprintf(path, sizeof(path), "%s/%s", nf.nodename, XS_KEY_RX_RING_REF);
            rc = xb_printf(t, path, "%u", nf.rx_ring_ref);
        }
        if (!rc) {
            snprintf(path, sizeof(path), "%s/%s", nf.nodename, XS_KEY_EVENT_CHANNEL);
            rc = xb_printf(t, path, "%u", nf.port);
        }
        if (!rc) {
            snprintf(path, sizeof(path), "%s/%s", nf.nodename, XS_KEY_REQUEST_RX_COPY);
            rc = xb_write(t, path, netfront_flip_mode ? "0" : "1");
        }
        for (unsigned k = 0; !rc && k < ARRAY_SIZE(flag_keys); k++) {
            snprintf(path, sizeof(path), "%s/%s", nf.nodename, flag_keys[k]);
            rc = xb_write(t, path, "1");
        }
        if (rc) {
            xb_transaction_end(t, 1);
            return rc;
        }
        rc = xb_transaction_end(t, 0);
        if (rc != -XEN_EAGAIN) return rc;
    }
}

static int alloc_buffers(void)
{
    if (nf.tx_ring_page) return 0;
    nf.tx_ring_page = alloc_page();
    nf.rx_ring_page = alloc_page();
    if (!nf.tx_ring_page || !nf.rx_ring_page) return -XEN_ENOMEM;
    for (unsigned i = 0; i < NET_TX_BUFS; i++)
        if (!(nf.txb[i].page = alloc_page())) return -XEN_ENOMEM;
    for (unsigned i = 0; i < NET_RX_BUFS; i++)
        if (!(nf.rxb[i].page = alloc_page())) return -XEN_ENOMEM;
    return 0;
}

static void end_grant(grant_ref_t *ref, const char *what)
{
    if (*ref == GNTTAB_INVALID_REF) return;
    if (!gnttab_end_access(*ref)) printk("netfront: %s still mapped by the backend; leaving it granted\n", what);
    *ref = GNTTAB_INVALID_REF;
}

/*
 * Give back everything a connection holds (the backend has let go of it, or never had
 * it): rx buffers (copy: end the grants; flip: end the accept-transfer grants, install a
 * frame that arrived, take a frame back from Xen for a PFN left empty), tx and ring grants,
 * the port.
 */
static void release(void)
{
    nf.live = 0;
    for (unsigned i = 0; i < NET_RX_BUFS; i++) {
        struct rx_buf *b = &nf.rxb[i];
        if (netfront_flip_mode) {
            if (b->posted && b->gref != GNTTAB_INVALID_REF) install_flipped(b);
            unsigned long pfn = virt_to_pfn(b->page);
            if (b->page && p2m[pfn] == INVALID_MFN) {
                if (reclaim_pfn(pfn)) panic("netfront: cannot reclaim rx pfn %lx", pfn);
                flip_pages_out--;
            }
        } else {
            end_grant(&b->gref, "an rx buffer");
        }
        b->gref = GNTTAB_INVALID_REF;
        b->posted = 0;
    }
    for (unsigned i = 0; i < NET_TX_BUFS; i++) {
        end_grant(&nf.txb[i].gref, "a tx buffer");
        nf.txb[i].busy = 0;
    }
    end_grant(&nf.tx_ring_ref, "the tx ring");
    end_grant(&nf.rx_ring_ref, "the rx ring");
    if (nf.port) evtchn_close_port(nf.port);
    nf.port = 0;
}

static int connect(void)
{
    char buf[96];
    snprintf(buf, sizeof(buf), "%s/%s", nf.nodename, XS_KEY_BACKEND);
    int rc = xb_read(XBT_NIL, buf, nf.backend, sizeof(nf.backend));
    if (rc < 0) return rc;
    nf.backend_id = (domid_t)read_num(nf.nodename, XS_KEY_BACKEND_ID, 0);
    char be_state[sizeof(nf.be_state_path)];
    snprintf(be_state, sizeof(be_state), "%s/%s", nf.backend, XS_KEY_STATE);
    /* After a restore (or a replug) the backend may be a new one. */
    if (nf.be_watch.registered && strcmp(be_state, nf.be_state_path)) xb_unwatch(&nf.be_watch);
    strcpy_s(nf.be_state_path, be_state, sizeof(nf.be_state_path));
    snprintf(nf.state_path, sizeof(nf.state_path), "%s/%s", nf.nodename, XS_KEY_STATE);
    if (!nf.be_watch.registered) {
        nf.be_watch.path = nf.be_state_path;
        nf.be_watch.token = "net0";
        rc = xb_watch(&nf.be_watch);
        if (rc) return rc;
    }
    rc = xb_wait_state(nf.be_state_path, XenbusStateInitWait, XenbusStateConnected, &nf.be_watch,
                       STATE_TIMEOUT);
    if (rc < 0) {
        printk("netfront: backend never reached InitWait (%s)\n", xb_strerror(rc));
        return rc;
    }
    snprintf(buf, sizeof(buf), "%s/%s", nf.nodename, XS_KEY_MAC);
    char mac[32];
    rc = xb_read(XBT_NIL, buf, mac, sizeof(mac));
    if (rc < 0 || parse_mac(mac, netfront_mac)) {
        printk("netfront: no usable mac (%s)\n", rc < 0 ? xb_strerror(rc) : mac);
        return -XEN_EINVAL;
    }
    int can_copy = read_num(nf.backend, XS_KEY_FEATURE_RX_COPY, 0) != 0;
    int can_flip = read_num(nf.backend, XS_KEY_FEATURE_RX_FLIP, 1) != 0;
    const char *mode = cmdline_get("net");
    if (mode && !strcmp(mode, "flip")) netfront_flip_mode = 1;
    else if (mode && !strcmp(mode, "copy")) netfront_flip_mode = 0;
    else netfront_flip_mode = !can_copy;
    if (netfront_flip_mode && !can_flip) {
        printk("netfront: rx-flip requested but the backend has feature-rx-flip=0\n");
        return -XEN_ENOSYS;
    }
    if (!netfront_flip_mode && !can_copy) {
        printk("netfront: rx-copy requested but the backend lacks feature-rx-copy\n");
        return -XEN_ENOSYS;
    }

    rc = alloc_buffers();
    if (rc) return rc;
    memset(nf.tx_ring_page, 0, PAGE_SIZE);
    memset(nf.rx_ring_page, 0, PAGE_SIZE);
    netif_tx_sring_t *txs = nf.tx_ring_page;
    netif_rx_sring_t *rxs = nf.rx_ring_page;
    SHARED_RING_INIT(txs);
    SHARED_RING_INIT(rxs);
    FRONT_RING_INIT(&nf.tx, txs, PAGE_SIZE);
    FRONT_RING_INIT(&nf.rx, rxs, PAGE_SIZE);
    for (unsigned i = 0; i < NET_TX_BUFS; i++) nf.txb[i].gref = GNTTAB_INVALID_REF;
    for (unsigned i = 0; i < NET_RX_BUFS; i++) {
        nf.rxb[i].gref = GNTTAB_INVALID_REF;
        nf.rxb[i].posted = 0;
    }
    nf.port = 0;
    nf.live = 1;
    rc = -XEN_ENOSPC;
    nf.tx_ring_ref = gnttab_grant_access(nf.backend_id, virt_to_mfn(txs), 0);
    nf.rx_ring_ref = gnttab_grant_access(nf.backend_id, virt_to_mfn(rxs), 0);
    if (nf.tx_ring_ref == GNTTAB_INVALID_REF || nf.rx_ring_ref == GNTTAB_INVALID_REF) goto fail;
    for (unsigned i = 0; i < NET_TX_BUFS; i++) {
        nf.txb[i].busy = 0;
        nf.txb[i].gref = gnttab_grant_access(nf.backend_id, virt_to_mfn(nf.txb[i].page), 1);
        if (nf.txb[i].gref == GNTTAB_INVALID_REF) goto fail;
    }
    long port = alloc_unbound_port(nf.backend_id, net_event, 0);
    if (port < 0) {
        rc = (int)port;
        goto fail;
    }
    nf.port = (evtchn_port_t)port;
    rc = write_keys();
    if (rc) goto fail;

    for (unsigned i = 0; i < NET_RX_BUFS; i++) {
        struct rx_buf *b = &nf.rxb[i];
        if (!netfront_flip_mode) {
            b->gref = gnttab_grant_access(nf.backend_id, virt_to_mfn(b->page), 0);
            if (b->gref == GNTTAB_INVALID_REF) {
                rc = -XEN_ENOSPC;
                goto fail;
            }
        }
        rc = post_rx(i);
        if (rc) goto fail;
    }
    push_rx();
    nf.pkt_len = 0;
    nf.pkt_bad = 0;
    rc = xb_switch_state(nf.state_path, XenbusStateConnected);
    if (rc) goto fail;
    rc = xb_wait_state(nf.be_state_path, XenbusStateConnected, XenbusStateConnected, &nf.be_watch,
                       STATE_TIMEOUT);
    if (rc < 0) {
        printk("netfront: backend did not connect (%s, state %d)\n", xb_strerror(rc),
               xb_read_state(nf.be_state_path));
        goto fail;
    }
    nf.be_seen = nf.be_watch.fired;
    nf.connected = 1;
    nf.state = DEV_CONNECTED;
    printk("NET %s: backend %s mac=%02x:%02x:%02x:%02x:%02x:%02x mode=%s (backend rx-copy=%d rx-flip=%d)\n",
           nf.nodename, nf.backend, netfront_mac[0], netfront_mac[1], netfront_mac[2],
           netfront_mac[3], netfront_mac[4], netfront_mac[5], netfront_flip_mode ? "flip" : "copy",
           can_copy, can_flip);
    return 0;
fail:
    /* A backend that never connected maps nothing: everything can go back now. */
    release();
    return rc;
}

static int tx_drained_cond(void *u)
{
    (void)u;
    if (nf.live) tx_poll();
    for (unsigned i = 0; i < NET_TX_BUFS; i++)
        if (nf.txb[i].busy) return 0;
    return 1;
}

struct moved_arg { struct xb_watch *w; uint32_t seen; };
static int watch_moved_cond(void *p)
{
    struct moved_arg *a = p;
    return a->w->fired != a->seen;
}

/* The backend reached `lo` or beyond, or its directory is gone. */
static int wait_backend(int lo, uint64_t timeout)
{
    uint64_t deadline = now_ns() + timeout;
    for (;;) {
        struct moved_arg a = { &nf.be_watch, nf.be_watch.fired };
        int st = xb_read_state(nf.be_state_path);
        if (st < 0 || st == XenbusStateUnknown || st >= lo) return st;
        uint64_t now = now_ns();
        if (now >= deadline) return -XEN_ETIME;
        wait_for(watch_moved_cond, &a, deadline - now);
    }
}

/*
 * Close the vif (hot unplug, or our shutdown), as Linux netfront does: no new tx (the IP
 * stack sees the link down), let tx in flight complete (bounded), Closing, wait for the
 * backend's Closing (it disconnects: unmaps, unbinds), Closed, wait for its Closed or for
 * its directory to go, then give back every buffer grant, the ring grants and the port.
 * `gone`: the backend (or our directory) has already gone: nothing to wait for or write.
 */
static void net_close(const char *why, int gone)
{
    if (nf.state != DEV_CONNECTED) return;
    nf.state = DEV_CLOSING;              /* its own waits run the bus poller: no second close */
    nf.connected = 0;
    printk("NET %s: closing (%s)\n", nf.nodename, why);
    if (!gone) {
        if (!wait_for(tx_drained_cond, 0, 2 * NSEC_PER_SEC)) printk("netfront: tx still in flight at close\n");
        xb_switch_state_if_present(nf.state_path, XenbusStateClosing);
        int st = wait_backend(XenbusStateClosing, CLOSE_TIMEOUT);
        xb_switch_state_if_present(nf.state_path, XenbusStateClosed);
        if (st > 0) wait_backend(XenbusStateClosed, CLOSE_TIMEOUT);
    }
    tx_drained_cond(0);
    release();
    if (nf.be_watch.registered) xb_unwatch(&nf.be_watch);
    nf.state = DEV_CLOSED;
    int be = xb_read_state(nf.be_state_path);
    if (be > 0) printk("NET %s: closed (backend state %d)\n", nf.nodename, be);
    else printk("NET %s: closed (backend gone)\n", nf.nodename);
}

static void net_suspend(void)
{
    if (nf.connected) wait_for(tx_drained_cond, 0, 2 * NSEC_PER_SEC);
}

static void net_resume(int new_domain)
{
    if (!new_domain || nf.state != DEV_CONNECTED) return;
    nf.connected = 0;
    nf.live = 0;
    nf.port = 0;
    /* Flipped-out buffers were empty PFNs in the old domain: take frames back. */
    for (unsigned i = 0; i < NET_RX_BUFS; i++) {
        unsigned long pfn = virt_to_pfn(nf.rxb[i].page);
        if (p2m[pfn] == INVALID_MFN) {
            if (reclaim_pfn(pfn)) panic("netfront: cannot reclaim rx pfn %lx", pfn);
            flip_pages_out--;
        }
        nf.rxb[i].posted = 0;
    }
    nf.state = DEV_CONNECTING;
    int rc = connect();
    if (rc) {
        printk("netfront: reconnect failed: %s\n", xb_strerror(rc));
        nf.state = DEV_FAILED;
    }
}

static void net_shutdown(void)
{
    net_close("shutdown", 0);
}

static const struct lifecycle_ops net_lifecycle = {
    .name = "netfront", .suspend = net_suspend, .resume = net_resume, .shutdown = net_shutdown,
};

/*
 * The bus poller (see blkfront's): a backend going Closing or away closes the vif; with
 * no vif connected, the first listed one connects (at boot, or hot plugged; a closed
 * vif's own directory only once it is fresh, at Initialising).
 */
static void net_bus_poll(void)
{
    if (bus_running || control_suspending) return;
    bus_running = 1;
    if (nf.state == DEV_CONNECTED && nf.be_watch.fired != nf.be_seen) {
        nf.be_seen = nf.be_watch.fired;
        char why[40];
        int gone;
        if (xb_backend_leaving(nf.be_state_path, why, sizeof(why), &gone)) {
            net_close(why, gone);
            if (netfront_link_handler) netfront_link_handler(0);
        }
    }
    if (list_watch.fired != list_seen) {
        list_seen = list_watch.fired;
        char list[64];
        int n = xb_ls(XBT_NIL, "device/vif", list, sizeof(list));
        if (n < 0) n = 0;
        if (nf.state != DEV_FREE && nf.state != DEV_GONE && !xb_ls_has_id(list, n, nf.devid)) {
            if (nf.state == DEV_CONNECTED) {
                net_close("directory removed", 1);
                if (netfront_link_handler) netfront_link_handler(0);
            }
            if (nf.state == DEV_CLOSED || nf.state == DEV_FAILED) {
                nf.state = DEV_GONE;
                printk("NET %s: removed\n", nf.nodename);
            }
        }
        const char *name = list;
        for (int i = 0; i < n && (nf.state == DEV_FREE || nf.state == DEV_GONE || nf.state == DEV_CLOSED ||
                                  nf.state == DEV_FAILED); i++, name += strlen(name) + 1) {
            uint32_t devid;
            if (parse_u32(name, &devid)) continue;
            if ((nf.state == DEV_CLOSED || nf.state == DEV_FAILED) && devid == nf.devid) {
                /* Replugged between two looks: a fresh directory starts at Initialising. */
                if (!xb_device_fresh("device/vif", devid)) continue;
            }
            nf.devid = devid;
            snprintf(nf.nodename, sizeof(nf.nodename), "device/vif/%u", devid);
            nf.state = DEV_CONNECTING;
            int rc = connect();
            if (rc) {
                printk("netfront %s: connect failed: %s\n", nf.nodename, xb_strerror(rc));
                nf.state = DEV_FAILED;
            } else if (netfront_link_handler) {
                netfront_link_handler(1);
            }
        }
    }
    bus_running = 0;
}

void netfront_init(void)
{
    poller_register("netfront", net_poll);
    poller_register("netfront-bus", net_bus_poll);
    control_register(&net_lifecycle);
    int rc = xb_watch(&list_watch);
    if (rc) printk("netfront: cannot watch device/vif: %s\n", xb_strerror(rc));
    list_seen = list_watch.fired - 1;      /* look now, not only when the watch fires */
    net_bus_poll();
    if (nf.state == DEV_FREE) printk("netfront: no network devices\n");
}

static int net_connected_cond(void *u)
{
    (void)u;
    return nf.connected;
}

static int net_closed_cond(void *u)
{
    (void)u;
    return nf.state != DEV_CONNECTED && nf.state != DEV_CLOSING;
}

int netfront_wait(int connected, uint64_t timeout)
{
    return wait_for(connected ? net_connected_cond : net_closed_cond, 0, timeout) ? 0 : -XEN_ETIME;
}
