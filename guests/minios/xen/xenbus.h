/*
 * The xenbus client: requests to xenstored over the domain's ring page, transactions and
 * watches (xenstore.md §1-8).
 *
 * Invariants:
 * - Each request carries req_id = (generation << 4) | slot; a reply whose req_id is not
 *   the one its slot waits for (a late reply to a timed-out request) is dropped.
 * - A whole request (header + payload <= XENSTORE_RING_SIZE) is copied into the ring in
 *   one go once there is room, so requests from nested waits never interleave.
 * - Replies and watch events may be split across ring fills; the parser keeps partial
 *   messages. A payload over XENSTORE_PAYLOAD_MAX or indices that claim more than the
 *   ring size mark the connection broken: every request then fails with -XEN_EIO.
 * - Watches are identified by token; after resume into a new domain they are registered
 *   again (a new domain has a new connection).
 */
#ifndef MINIOS_XENBUS_H
#define MINIOS_XENBUS_H
#include "minios/kernel/kernel.h"
#include <xen/io/xenbus.h>

typedef uint32_t xenbus_transaction_t;
#define XBT_NIL 0

struct xb_watch {
    const char *path;        /* as registered (relative paths are relative to our home) */
    const char *token;
    volatile uint32_t fired; /* events received (the first arrives right after XS_WATCH) */
    char last_path[160];
    int registered;
    struct xb_watch *next;
};

void xenbus_init(void);
void xenbus_prepare_suspend(void);   /* waits until no request is in flight */
void xenbus_resume(int new_domain);
int xenbus_idle(void);

/* All return >= 0 on success, a negative Xen errno on failure. */
int xb_read(xenbus_transaction_t t, const char *path, char *buf, unsigned size);
int xb_write(xenbus_transaction_t t, const char *path, const char *value);
int xb_printf(xenbus_transaction_t t, const char *path, const char *fmt, ...) PRINTF(3, 4);
int xb_read_u64(xenbus_transaction_t t, const char *path, uint64_t *out);
int xb_read_u32(xenbus_transaction_t t, const char *path, uint32_t *out);
/* Children of path as NUL-separated names in buf; returns the number of children. */
int xb_ls(xenbus_transaction_t t, const char *path, char *buf, unsigned size);
int xb_rm(xenbus_transaction_t t, const char *path);
int xb_mkdir(xenbus_transaction_t t, const char *path);
int xb_transaction_start(xenbus_transaction_t *t);
/* Commit (abort = 0) or discard; -XEN_EAGAIN means retry the whole transaction. */
int xb_transaction_end(xenbus_transaction_t t, int abort);
int xb_watch(struct xb_watch *w);
int xb_unwatch(struct xb_watch *w);
const char *xb_strerror(int err);
/* Wait (running the event loop) until path reads as a state in [lo, hi]; returns it,
 * or a negative errno / -XEN_ETIME on timeout. */
int xb_wait_state(const char *path, int lo, int hi, struct xb_watch *w, uint64_t timeout_ns);
int xb_read_state(const char *path);
int xb_switch_state(const char *path, int state);
/* As xb_switch_state, but only while the node exists (a device directory the toolstack
 * removed must not be created again by a late state write); 0 if absent. */
int xb_switch_state_if_present(const char *path, int state);
/* A state read that means the node is gone (removed, or its directory with it). */
static inline int xb_state_gone(int st) { return st == XenbusStateUnknown || st == -XEN_EACCES; }

/* Device-directory helpers shared by the front ends (blkfront, netfront). */
/* Whether the n NUL-separated names of an xb_ls result include the number id. */
int xb_ls_has_id(const char *list, int n, uint32_t id);
/* Reads a backend's state node: when it is Closing or later, or gone, writes why the
 * front end closes ("backend gone" / "backend state N") and *gone, and returns 1; else 0. */
int xb_backend_leaving(const char *state_path, char *why, unsigned size, int *gone);
/* Whether dir/<id> is a fresh device directory (state Initialising): a device replugged
 * between two looks of the bus poller, so its closed slot may connect again. */
int xb_device_fresh(const char *dir, uint32_t id);

extern uint32_t xb_requests, xb_watch_events;

#endif
