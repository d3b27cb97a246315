/* The xenbus client (see xenbus.h). */
#include "minios/xen/xenbus.h"
#include "minios/kernel/events.h"
#include "minios/kernel/sched.h"
#include "minios/mm/mm.h"
#include <xen/io/xs_wire.h>
#include <xen/io/xs_paths.h>

#define NR_SLOTS 8
#define REPLY_TIMEOUT (60 * NSEC_PER_SEC)
#define PROBE_TIMEOUT (20 * NSEC_PER_SEC)   /* the first request, at boot */

struct slot {
    int used;
    volatile int done;
    uint32_t req_id;
    uint32_t type;
    unsigned len;
    char body[XENSTORE_PAYLOAD_MAX + 1];
};

static int request(uint32_t type, xenbus_transaction_t t, const char *a, unsigned alen,
                   const char *b, unsigned blen, char *out, unsigned outsize, uint32_t *out_tx);
static volatile struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static struct slot slots[NR_SLOTS];
static uint32_t generation;
static int broken;
static uint64_t reply_timeout = PROBE_TIMEOUT;
static struct xb_watch *watches;
uint32_t xb_requests, xb_watch_events;

/* Reply parser state. */
static struct xsd_sockmsg in_hdr;
static unsigned in_have;               /* bytes of header + body received */
static char in_body[XENSTORE_PAYLOAD_MAX + 1];

const char *xb_strerror(int err)
{
    for (unsigned i = 0; i < ARRAY_SIZE(xsd_errors); i++)
        if (-err == xsd_errors[i].errnum) return xsd_errors[i].errstring;
    return err == -XEN_ETIME ? "ETIME" : "EINVAL?";
}

static int errno_of(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(xsd_errors); i++)
        if (!strcmp(name, xsd_errors[i].errstring)) return -xsd_errors[i].errnum;
    return -XEN_EINVAL;
}

static void store_event(evtchn_port_t p, void *d)
{
    (void)p;
    (void)d;
}

static void deliver(void)
{
    in_body[in_hdr.len] = 0;
    if (in_hdr.type == XS_WATCH_EVENT) {
        const char *path = in_body;
        unsigned plen = strlen(path);
        const char *token = plen + 1 < in_hdr.len ? in_body + plen + 1 : "";
        xb_watch_events++;
        for (struct xb_watch *w = watches; w; w = w->next) {
            if (strcmp(w->token, token)) continue;
            strcpy_s(w->last_path, path, sizeof(w->last_path));
            w->fired++;
        }
        return;
    }
    struct slot *s = &slots[in_hdr.req_id % NR_SLOTS];
    if (!s->used || s->done || s->req_id != in_hdr.req_id) return;   /* late or stray */
    s->type = in_hdr.type;
    s->len = in_hdr.len;
    memcpy(s->body, in_body, in_hdr.len + 1);
    wmb();
    s->done = 1;
}

static void xenbus_poll(void)
{
    if (!ring || broken) return;
    for (;;) {
        XENSTORE_RING_IDX cons = ring->rsp_cons, prod = ring->rsp_prod;
        rmb();
        if (prod - cons > XENSTORE_RING_SIZE) {
            printk("xenbus: broken response ring (prod %u cons %u)\n", prod, cons);
            broken = 1;
            return;
        }
        if (prod == cons) return;
        while (cons != prod) {
            char ch = ring->rsp[MASK_XENSTORE_IDX(cons)];
            cons++;
            if (in_have < sizeof(in_hdr)) {
                ((char *)&in_hdr)[in_have++] = ch;
                if (in_have == sizeof(in_hdr) && in_hdr.len > XENSTORE_PAYLOAD_MAX) {
                    printk("xenbus: reply of %u bytes exceeds the payload limit\n", in_hdr.len);
                    broken = 1;
                    return;
                }
            } else {
                in_body[in_have++ - sizeof(in_hdr)] = ch;
            }
            if (in_have == sizeof(in_hdr) + in_hdr.len) {
                deliver();
                in_have = 0;
            }
        }
        mb();
        ring->rsp_cons = cons;
        xen_evtchn_send(port);
    }
}

static void attach(void)
{
    unsigned long mfn = start_info->store_mfn;
    unsigned long pfn = mfn_to_pfn(mfn);
    if (pfn >= nr_pages || p2m[pfn] != mfn) panic("xenstore ring mfn %lx is not ours", mfn);
    ring = pfn_to_virt(pfn);
    port = start_info->store_evtchn;
    in_have = 0;
    broken = 0;
    evtchn_bind(port, 0, store_event, 0);
}

void xenbus_init(void)
{
    attach();
    poller_register("xenbus", xenbus_poll);
    /* A host without xenstored must not stall every later request for a minute each. */
    char dom[16];
    uint64_t t0 = now_ns();
    int rc = request(XS_READ, XBT_NIL, "domid", 6, 0, 0, dom, sizeof(dom), 0);
    if (rc == -XEN_ETIME) {
        printk("xenbus: xenstored did not answer; running without xenstore (no devices, no control)\n");
        broken = 1;
    } else if (rc < 0) {
        reply_timeout = REPLY_TIMEOUT;
        printk("xenbus: reading domid: %s\n", xb_strerror(rc));
    } else {
        reply_timeout = REPLY_TIMEOUT;
        printk("xenbus: connected, domid %s, first reply after %llu us\n", dom,
               (unsigned long long)((now_ns() - t0) / 1000));
    }
}

int xenbus_idle(void)
{
    for (unsigned i = 0; i < NR_SLOTS; i++)
        if (slots[i].used) return 0;
    return in_have == 0;
}

static int idle_cond(void *u) { (void)u; return xenbus_idle(); }

void xenbus_prepare_suspend(void)
{
    if (!wait_for(idle_cond, 0, 10 * NSEC_PER_SEC)) printk("xenbus: requests still in flight at suspend\n");
}

void xenbus_resume(int new_domain)
{
    for (unsigned i = 0; i < NR_SLOTS; i++) slots[i].used = 0;
    attach();
    if (!new_domain) return;
    for (struct xb_watch *w = watches; w; w = w->next) {
        int rc = request(XS_WATCH, XBT_NIL, w->path, strlen(w->path) + 1, w->token,
                         strlen(w->token) + 1, 0, 0, 0);
        if (rc < 0) printk("xenbus: re-registering watch %s: %s\n", w->path, xb_strerror(rc));
    }
}

struct space_arg { unsigned need; };
static int space_cond(void *p)
{
    struct space_arg *a = p;
    if (broken) return 1;
    return XENSTORE_RING_SIZE - (ring->req_prod - ring->req_cons) >= a->need;
}

static int done_cond(void *p) { return ((struct slot *)p)->done || broken; }

static void ring_put(XENSTORE_RING_IDX *prod, const void *data, unsigned len)
{
    const char *d = data;
    for (unsigned i = 0; i < len; i++) ring->req[MASK_XENSTORE_IDX((*prod)++)] = d[i];
}

/* One request/reply. The payload is a (alen bytes) followed by b (blen bytes). Returns
 * the reply length (reply copied NUL-terminated into out when given) or -errno. */
static int request(uint32_t type, xenbus_transaction_t t, const char *a, unsigned alen,
                   const char *b, unsigned blen, char *out, unsigned outsize, uint32_t *out_tx)
{
    if (!ring) return -XEN_ENODEV;
    if (broken) return -XEN_EIO;
    unsigned total = sizeof(struct xsd_sockmsg) + alen + blen;
    if (total > XENSTORE_RING_SIZE) return -XEN_E2BIG;
    struct slot *s = 0;
    for (unsigned i = 0; i < NR_SLOTS; i++) {
        if (!slots[i].used) {
            s = &slots[i];
            s->req_id = (++generation << 4) | i;
            break;
        }
    }
    if (!s) return -XEN_EBUSY;
    s->used = 1;
    s->done = 0;
    struct space_arg sa = { total };
    if (!wait_for(space_cond, &sa, REPLY_TIMEOUT) || broken) {
        s->used = 0;
        return broken ? -XEN_EIO : -XEN_ETIME;
    }
    struct xsd_sockmsg hdr = { .type = type, .req_id = s->req_id, .tx_id = t, .len = alen + blen };
    XENSTORE_RING_IDX prod = ring->req_prod;
    mb();
    ring_put(&prod, &hdr, sizeof(hdr));
    ring_put(&prod, a, alen);
    ring_put(&prod, b, blen);
    wmb();
    ring->req_prod = prod;
    xen_evtchn_send(port);
    xb_requests++;
    if (!wait_for(done_cond, s, reply_timeout)) {
        printk("xenbus: no reply to request type %u (%s)\n", type, a);
        s->used = 0;
        return -XEN_ETIME;
    }
    s->used = 0;
    if (broken && !s->done) return -XEN_EIO;
    if (s->type == XS_ERROR) return errno_of(s->body);
    if (s->type != type) {
        printk("xenbus: reply type %u to request type %u\n", s->type, type);
        return -XEN_EIO;
    }
    if (out_tx) {
        uint32_t id;
        if (parse_u32(s->body, &id)) return -XEN_EIO;
        *out_tx = id;
    }
    if (out && outsize) {
        unsigned n = MIN(s->len, outsize - 1);
        memcpy(out, s->body, n);
        out[n] = 0;
    }
    return (int)s->len;
}

static int path_req(uint32_t type, xenbus_transaction_t t, const char *path, char *out,
                    unsigned outsize)
{
    return request(type, t, path, strlen(path) + 1, 0, 0, out, outsize, 0);
}

int xb_read(xenbus_transaction_t t, const char *path, char *buf, unsigned size)
{
    return path_req(XS_READ, t, path, buf, size);
}

int xb_write(xenbus_transaction_t t, const char *path, const char *value)
{
    int rc = request(XS_WRITE, t, path, strlen(path) + 1, value, strlen(value), 0, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_printf(xenbus_transaction_t t, const char *path, const char *fmt, ...)
{
    char val[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(val)) return -XEN_E2BIG;
    return xb_write(t, path, val);
}

int xb_read_u64(xenbus_transaction_t t, const char *path, uint64_t *out)
{
    char buf[32];
    int rc = xb_read(t, path, buf, sizeof(buf));
    if (rc < 0) return rc;
    return parse_u64(buf, out);
}

int xb_read_u32(xenbus_transaction_t t, const char *path, uint32_t *out)
{
    char buf[32];
    int rc = xb_read(t, path, buf, sizeof(buf));
    if (rc < 0) return rc;
    return parse_u32(buf, out);
}

int xb_ls(xenbus_transaction_t t, const char *path, char *buf, unsigned size)
{
    int len = path_req(XS_DIRECTORY, t, path, buf, size);
    if (len < 0) return len;
    if ((unsigned)len >= size) return -XEN_E2BIG;
    int n = 0;
    for (int i = 0; i < len; i++)
        if (!buf[i]) n++;
    return n;
}

int xb_rm(xenbus_transaction_t t, const char *path)
{
    int rc = path_req(XS_RM, t, path, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_mkdir(xenbus_transaction_t t, const char *path)
{
    int rc = path_req(XS_MKDIR, t, path, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_transaction_start(xenbus_transaction_t *t)
{
    uint32_t id = 0;
    int rc = request(XS_TRANSACTION_START, XBT_NIL, "", 1, 0, 0, 0, 0, &id);
    if (rc < 0) return rc;
    *t = id;
    return 0;
}

int xb_transaction_end(xenbus_transaction_t t, int abort)
{
    int rc = request(XS_TRANSACTION_END, t, abort ? "F" : "T", 2, 0, 0, 0, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_watch(struct xb_watch *w)
{
    if (!w->registered) {
        w->next = watches;
        watches = w;
        w->registered = 1;
    }
    int rc = request(XS_WATCH, XBT_NIL, w->path, strlen(w->path) + 1, w->token,
                     strlen(w->token) + 1, 0, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_unwatch(struct xb_watch *w)
{
    for (struct xb_watch **pp = &watches; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    w->registered = 0;
    int rc = request(XS_UNWATCH, XBT_NIL, w->path, strlen(w->path) + 1, w->token,
                     strlen(w->token) + 1, 0, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_read_state(const char *path)
{
    uint32_t v;
    int rc = xb_read_u32(XBT_NIL, path, &v);
    if (rc == -XEN_ENOENT) return XenbusStateUnknown;
    if (rc < 0) return rc;
    return (int)v;
}

int xb_ls_has_id(const char *list, int n, uint32_t id)
{
    const char *name = list;
    for (int i = 0; i < n; i++, name += strlen(name) + 1) {
        uint32_t v;
        if (!parse_u32(name, &v) && v == id) return 1;
    }
    return 0;
}

int xb_backend_leaving(const char *state_path, char *why, unsigned size, int *gone)
{
    int st = xb_read_state(state_path);
    *gone = xb_state_gone(st);
    if (st < XenbusStateClosing && !*gone) return 0;
    if (*gone) snprintf(why, size, "backend gone");
    else snprintf(why, size, "backend state %d", st);
    return 1;
}

int xb_device_fresh(const char *dir, uint32_t id)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/%u/%s", dir, id, XS_KEY_STATE);
    return xb_read_state(path) == XenbusStateInitialising;
}

struct fired_arg { struct xb_watch *w; uint32_t seen; };
static int fired_cond(void *p)
{
    struct fired_arg *a = p;
    return a->w->fired != a->seen;
}

int xb_wait_state(const char *path, int lo, int hi, struct xb_watch *w, uint64_t timeout)
{
    uint64_t deadline = now_ns() + timeout;
    for (;;) {
        struct fired_arg a = { w, w->fired };
        int st = xb_read_state(path);
        if (st < 0) return st;
        if (st >= lo && st <= hi) return st;
        uint64_t now = now_ns();
        if (now >= deadline) return -XEN_ETIME;
        wait_for(fired_cond, &a, deadline - now);
    }
}

int xb_switch_state(const char *path, int state)
{
    return xb_printf(XBT_NIL, path, "%d", state);
}

int xb_switch_state_if_present(const char *path, int state)
{
    int st = xb_read_state(path);
    if (xb_state_gone(st)) return 0;
    return xb_switch_state(path, state);
}
