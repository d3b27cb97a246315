/*
 * A xenstore client for PV guests: requests over the domain's xenstore ring page
 * (start_info store_mfn / store_evtchn), with transactions, permissions and watches
 * (xenstore.md §1-8). Synchronous: each call sends one request and waits for its reply,
 * queueing the watch events that arrive meanwhile; waiting is SCHEDOP_poll on the store
 * port with a deadline, so it works with event upcalls masked and never hangs.
 *
 * Invariants:
 * - A request (header + payload <= XENSTORE_RING_SIZE) is copied into the ring in one go
 *   once there is room, then req_prod moves, then the port is notified.
 * - Replies and events may arrive split across ring fills; the parser keeps the partial
 *   message. A reply whose req_id is not the one awaited (a late reply to a request that
 *   timed out) is dropped.
 * - Indexes that claim more than the ring holds, a payload over XENSTORE_PAYLOAD_MAX, or
 *   the server's `error` field set mark the connection broken: calls fail with -XEN_EIO
 *   until xb_reconnect() succeeds.
 * - Relative paths are relative to the domain's home, /local/domain/<domid>.
 */
#ifndef XEN_LIB_XENBUS_H
#define XEN_LIB_XENBUS_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/io/xs_wire.h>

#define XB_NIL 0u
#define XB_MAX_EVENTS 16
#define XB_EVENT_PATH 256
#define XB_EVENT_TOKEN 64

struct xb_event {
    char path[XB_EVENT_PATH];
    char token[XB_EVENT_TOKEN];
};

struct xenbus {
    volatile struct xenstore_domain_interface *ring;
    evtchn_port_t port;
    volatile struct shared_info *shared;
    uint32_t next_req;
    uint64_t timeout_ns;
    int broken;
    /* reply parser */
    struct xsd_sockmsg hdr;
    unsigned have;
    char body[XENSTORE_PAYLOAD_MAX + 1];
    /* queued watch events */
    struct xb_event events[XB_MAX_EVENTS];
    unsigned ev_head, ev_count, ev_dropped;
    /* counters */
    uint32_t requests, replies, watch_events;
};

extern struct xenbus xenbus;

/* Attach to the ring and port; `shared` gives Xen time and the pending bits. */
void xb_init(volatile void *ring, evtchn_port_t port, volatile struct shared_info *shared);

/* One request. `payload` is len bytes. On a reply of its own type the body is copied
 * (NUL-terminated, truncated to size) into reply and its length returned; XS_ERROR
 * becomes -XEN_E<name>; -XEN_ETIME when no reply came in time; -XEN_EIO when broken. */
int xb_request(uint32_t type, uint32_t tx, const void *payload, unsigned len, char *reply,
               unsigned size);

int xb_read(uint32_t tx, const char *path, char *buf, unsigned size);
int xb_write(uint32_t tx, const char *path, const char *value);
int xb_mkdir(uint32_t tx, const char *path);
int xb_rm(uint32_t tx, const char *path);
/* Children as NUL-separated names in buf; returns their number. */
int xb_ls(uint32_t tx, const char *path, char *buf, unsigned size);
/* Permissions as NUL-separated entries ("n0", "r5"); returns the bytes in buf. */
int xb_get_perms(uint32_t tx, const char *path, char *buf, unsigned size);
/* Set permissions: perms is `len` bytes of NUL-terminated entries ("n3\0r7\0"). */
int xb_set_perms(uint32_t tx, const char *path, const char *perms, unsigned len);
int xb_watch(const char *path, const char *token);
int xb_unwatch(const char *path, const char *token);
int xb_transaction_start(uint32_t *tx);
/* Commit (abort = 0) or discard; -XEN_EAGAIN means the whole transaction must be retried. */
int xb_transaction_end(uint32_t tx, int abort);
/* Our domain id, from the "domid" node. */
int xb_read_u32(uint32_t tx, const char *path, uint32_t *out);

/* Wait until a watch event with `token` is queued (or timeout_ns passes); 1 with its path
 * copied to path (if given), 0 on timeout, -XEN_EIO if the connection broke. */
int xb_wait_event(const char *token, char *path, unsigned size, uint64_t timeout_ns);
/* Discard queued events. */
void xb_drop_events(void);

/* Write raw bytes into the request ring and notify (hostile tests). Returns bytes written. */
unsigned xb_ring_write_raw(const void *bytes, unsigned len);
/* The reconnection protocol (server feature): ask the server to reset the ring. */
int xb_reconnect(uint64_t timeout_ns);

const char *xb_strerror(int err);

#endif
