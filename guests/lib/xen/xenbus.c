/* The xenstore client (see xenbus.h). */
#include "xenbus.h"
#include "hypercall.h"
#include "evtchn.h"
#include "time.h"
#include <xen/errno.h>

#define XB_DEFAULT_TIMEOUT_NS (20ull * 1000 * 1000 * 1000)

struct xenbus xenbus;

void *memcpy(void *dst, const void *src, __SIZE_TYPE__ n);
__SIZE_TYPE__ strlen(const char *s);

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static void str_copy(char *dst, const char *src, unsigned size)
{
    unsigned i = 0;
    for (; size && i + 1 < size && src[i]; i++) dst[i] = src[i];
    if (size) dst[i] = 0;
}

const char *xb_strerror(int err)
{
    if (err == -XEN_ETIME) return "ETIME";
    for (unsigned i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (-err == xsd_errors[i].errnum) return xsd_errors[i].errstring;
    return "EINVAL";
}

static int errno_of(const char *name)
{
    for (unsigned i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (str_eq(name, xsd_errors[i].errstring)) return -xsd_errors[i].errnum;
    return -XEN_EINVAL;
}

static uint64_t now(void)
{
    return xen_system_time(&xenbus.shared->vcpu_info[0].time);
}

void xb_init(volatile void *ring, evtchn_port_t port, volatile struct shared_info *shared)
{
    xenbus.ring = ring;
    xenbus.port = port;
    xenbus.shared = shared;
    xenbus.next_req = 1;
    xenbus.timeout_ns = XB_DEFAULT_TIMEOUT_NS;
    xenbus.broken = 0;
    xenbus.have = 0;
    xenbus.ev_head = xenbus.ev_count = xenbus.ev_dropped = 0;
}

/* Sleep until the store port fires or `deadline` passes (events may stay masked). */
static void wait_port(uint64_t deadline)
{
    if (xen_evtchn_pending(xenbus.shared, xenbus.port)) return;
    struct sched_poll poll;
    evtchn_port_t ports[1] = { xenbus.port };
    set_xen_guest_handle(poll.ports, ports);
    poll.nr_ports = 1;
    poll.timeout = deadline;
    HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
}

static void queue_event(void)
{
    const char *path = xenbus.body;
    unsigned plen = (unsigned)strlen(path);
    const char *token = plen + 1 < xenbus.hdr.len ? xenbus.body + plen + 1 : "";
    xenbus.watch_events++;
    if (xenbus.ev_count == XB_MAX_EVENTS) {
        xenbus.ev_dropped++;
        return;
    }
    struct xb_event *e = &xenbus.events[(xenbus.ev_head + xenbus.ev_count) % XB_MAX_EVENTS];
    str_copy(e->path, path, sizeof(e->path));
    str_copy(e->token, token, sizeof(e->token));
    xenbus.ev_count++;
}

/*
 * Consume what the server wrote. Returns 1 when a complete non-event message is in
 * hdr/body (the caller takes it and calls again for more), 0 when the ring is drained,
 * -XEN_EIO when the connection is broken.
 */
static int pump(void)
{
    volatile struct xenstore_domain_interface *r = xenbus.ring;
    if (xenbus.broken) return -XEN_EIO;
    if (r->error != XENSTORE_ERROR_NONE) {
        xenbus.broken = 1;
        return -XEN_EIO;
    }
    for (;;) {
        XENSTORE_RING_IDX cons = r->rsp_cons, prod = r->rsp_prod;
        barrier();
        if (prod - cons > XENSTORE_RING_SIZE) {
            xenbus.broken = 1;
            return -XEN_EIO;
        }
        if (prod == cons) return 0;
        int complete = 0;
        while (cons != prod && !complete) {
            char ch = r->rsp[MASK_XENSTORE_IDX(cons)];
            cons++;
            if (xenbus.have < sizeof(xenbus.hdr)) {
                ((char *)&xenbus.hdr)[xenbus.have++] = ch;
                if (xenbus.have == sizeof(xenbus.hdr) && xenbus.hdr.len > XENSTORE_PAYLOAD_MAX) {
                    xenbus.broken = 1;
                    return -XEN_EIO;
                }
            } else {
                xenbus.body[xenbus.have++ - sizeof(xenbus.hdr)] = ch;
            }
            if (xenbus.have == sizeof(xenbus.hdr) + xenbus.hdr.len) {
                xenbus.body[xenbus.hdr.len] = 0;
                xenbus.have = 0;
                if (xenbus.hdr.type == XS_WATCH_EVENT) queue_event();
                else complete = 1;
            }
        }
        barrier();
        r->rsp_cons = cons;
        xen_evtchn_send(xenbus.port);
        if (complete) return 1;
    }
}

/* Wait for room for `len` request bytes; 0, or -XEN_ETIME / -XEN_EIO. */
static int wait_space(unsigned len, uint64_t deadline)
{
    volatile struct xenstore_domain_interface *r = xenbus.ring;
    for (;;) {
        if (xenbus.broken) return -XEN_EIO;
        XENSTORE_RING_IDX used = r->req_prod - r->req_cons;
        if (used > XENSTORE_RING_SIZE) {
            xenbus.broken = 1;
            return -XEN_EIO;
        }
        if (XENSTORE_RING_SIZE - used >= len) return 0;
        if (now() >= deadline) return -XEN_ETIME;
        xen_evtchn_clear(xenbus.shared, xenbus.port);
        /* Replies may be what is holding the server back. */
        while (pump() == 1) xenbus.replies++;
        wait_port(deadline);
    }
}

static void ring_put(XENSTORE_RING_IDX *prod, const void *data, unsigned len)
{
    const char *d = data;
    for (unsigned i = 0; i < len; i++) xenbus.ring->req[MASK_XENSTORE_IDX((*prod)++)] = d[i];
}

static int request2(uint32_t type, uint32_t tx, const void *a, unsigned alen, const void *b, unsigned blen,
                    char *reply, unsigned size)
{
    if (!xenbus.ring) return -XEN_ENODEV;
    if (xenbus.broken) return -XEN_EIO;
    unsigned total = sizeof(struct xsd_sockmsg) + alen + blen;
    if (total > XENSTORE_RING_SIZE) return -XEN_E2BIG;
    uint64_t deadline = now() + xenbus.timeout_ns;
    int rc = wait_space(total, deadline);
    if (rc < 0) return rc;
    struct xsd_sockmsg h = { .type = type, .req_id = xenbus.next_req++, .tx_id = tx, .len = alen + blen };
    XENSTORE_RING_IDX prod = xenbus.ring->req_prod;
    ring_put(&prod, &h, sizeof(h));
    ring_put(&prod, a, alen);
    ring_put(&prod, b, blen);
    barrier();
    xenbus.ring->req_prod = prod;
    xen_evtchn_send(xenbus.port);
    xenbus.requests++;
    for (;;) {
        xen_evtchn_clear(xenbus.shared, xenbus.port);
        int p;
        while ((p = pump()) == 1) {
            xenbus.replies++;
            if (xenbus.hdr.req_id != h.req_id) continue; /* a late reply to an old request */
            if (xenbus.hdr.type == XS_ERROR) return errno_of(xenbus.body);
            if (xenbus.hdr.type != type) return -XEN_EIO;
            if (reply && size) {
                unsigned n = xenbus.hdr.len < size - 1 ? xenbus.hdr.len : size - 1;
                memcpy(reply, xenbus.body, n);
                reply[n] = 0;
            }
            return (int)xenbus.hdr.len;
        }
        if (p < 0) return p;
        if (now() >= deadline) return -XEN_ETIME;
        wait_port(deadline);
    }
}

int xb_request(uint32_t type, uint32_t tx, const void *payload, unsigned len, char *reply, unsigned size)
{
    return request2(type, tx, payload, len, 0, 0, reply, size);
}

static int path_req(uint32_t type, uint32_t tx, const char *path, char *reply, unsigned size)
{
    return request2(type, tx, path, (unsigned)strlen(path) + 1, 0, 0, reply, size);
}

int xb_read(uint32_t tx, const char *path, char *buf, unsigned size)
{
    return path_req(XS_READ, tx, path, buf, size);
}

int xb_write(uint32_t tx, const char *path, const char *value)
{
    int rc = request2(XS_WRITE, tx, path, (unsigned)strlen(path) + 1, value, (unsigned)strlen(value), 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_mkdir(uint32_t tx, const char *path)
{
    int rc = path_req(XS_MKDIR, tx, path, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_rm(uint32_t tx, const char *path)
{
    int rc = path_req(XS_RM, tx, path, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_ls(uint32_t tx, const char *path, char *buf, unsigned size)
{
    int rc = path_req(XS_DIRECTORY, tx, path, buf, size);
    if (rc < 0) return rc;
    int n = 0;
    for (int i = 0; i < rc && (unsigned)i < size; i++) if (buf[i] == 0) n++;
    return n;
}

int xb_get_perms(uint32_t tx, const char *path, char *buf, unsigned size)
{
    return path_req(XS_GET_PERMS, tx, path, buf, size);
}

int xb_set_perms(uint32_t tx, const char *path, const char *perms, unsigned len)
{
    int rc = request2(XS_SET_PERMS, tx, path, (unsigned)strlen(path) + 1, perms, len, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_watch(const char *path, const char *token)
{
    int rc = request2(XS_WATCH, XB_NIL, path, (unsigned)strlen(path) + 1, token, (unsigned)strlen(token) + 1, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_unwatch(const char *path, const char *token)
{
    int rc = request2(XS_UNWATCH, XB_NIL, path, (unsigned)strlen(path) + 1, token, (unsigned)strlen(token) + 1, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_transaction_start(uint32_t *tx)
{
    char buf[16];
    int rc = request2(XS_TRANSACTION_START, XB_NIL, "", 1, 0, 0, buf, sizeof(buf));
    if (rc < 0) return rc;
    uint32_t v = 0;
    for (const char *p = buf; *p >= '0' && *p <= '9'; p++) v = v * 10 + (uint32_t)(*p - '0');
    *tx = v;
    return 0;
}

int xb_transaction_end(uint32_t tx, int abort)
{
    int rc = request2(XS_TRANSACTION_END, tx, abort ? "F" : "T", 2, 0, 0, 0, 0);
    return rc < 0 ? rc : 0;
}

int xb_read_u32(uint32_t tx, const char *path, uint32_t *out)
{
    char buf[16];
    int rc = xb_read(tx, path, buf, sizeof(buf));
    if (rc < 0) return rc;
    if (buf[0] < '0' || buf[0] > '9') return -XEN_EINVAL;
    uint32_t v = 0;
    for (const char *p = buf; *p; p++) {
        if (*p < '0' || *p > '9') return -XEN_EINVAL;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    *out = v;
    return 0;
}

static int take_event(const char *token, char *path, unsigned size)
{
    for (unsigned i = 0; i < xenbus.ev_count; i++) {
        struct xb_event *e = &xenbus.events[(xenbus.ev_head + i) % XB_MAX_EVENTS];
        if (!str_eq(e->token, token)) continue;
        if (path) str_copy(path, e->path, size);
        /* Remove entry i, keeping the order of the others. */
        for (unsigned j = i; j + 1 < xenbus.ev_count; j++)
            xenbus.events[(xenbus.ev_head + j) % XB_MAX_EVENTS] = xenbus.events[(xenbus.ev_head + j + 1) % XB_MAX_EVENTS];
        xenbus.ev_count--;
        return 1;
    }
    return 0;
}

int xb_wait_event(const char *token, char *path, unsigned size, uint64_t timeout_ns)
{
    uint64_t deadline = now() + timeout_ns;
    for (;;) {
        if (take_event(token, path, size)) return 1;
        xen_evtchn_clear(xenbus.shared, xenbus.port);
        int p;
        while ((p = pump()) == 1) xenbus.replies++; /* stray replies: dropped */
        if (take_event(token, path, size)) return 1;
        if (p < 0) return p;
        if (now() >= deadline) return 0;
        wait_port(deadline);
    }
}

void xb_drop_events(void)
{
    xenbus.ev_count = 0;
}

unsigned xb_ring_write_raw(const void *bytes, unsigned len)
{
    volatile struct xenstore_domain_interface *r = xenbus.ring;
    XENSTORE_RING_IDX prod = r->req_prod;
    XENSTORE_RING_IDX used = prod - r->req_cons;
    unsigned room = used > XENSTORE_RING_SIZE ? 0 : XENSTORE_RING_SIZE - used;
    if (len > room) len = room;
    ring_put(&prod, bytes, len);
    barrier();
    r->req_prod = prod;
    xen_evtchn_send(xenbus.port);
    return len;
}

int xb_reconnect(uint64_t timeout_ns)
{
    volatile struct xenstore_domain_interface *r = xenbus.ring;
    if (!(r->server_features & XENSTORE_SERVER_FEATURE_RECONNECTION)) return -XEN_ENOSYS;
    r->connection = XENSTORE_RECONNECT;
    barrier();
    xen_evtchn_send(xenbus.port);
    uint64_t deadline = now() + timeout_ns;
    while (r->connection != XENSTORE_CONNECTED) {
        if (now() >= deadline) return -XEN_ETIME;
        xen_evtchn_clear(xenbus.shared, xenbus.port);
        if (r->connection == XENSTORE_CONNECTED) break;
        wait_port(deadline);
    }
    xenbus.broken = 0;
    xenbus.have = 0;
    xenbus.ev_count = 0;
    return 0;
}
