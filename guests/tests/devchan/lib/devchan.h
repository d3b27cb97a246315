/*
 * The devchan test framework: device-channel test kernels are PV test kernels (the pvtest
 * framework: console, checks, verdict) that find each other through xenstore.
 *
 * The toolstack side (tests/devchan on tsxen, refxen/dom0-devchan.sh on the real Xen)
 * creates every domain of a scenario paused, then writes for each domain X:
 *     /local/domain/X/devchan        perms "nX rY": X owns it, its peer Y may read it
 *     /local/domain/X/devchan/role   the role X plays (a word the kernel interprets)
 *     /local/domain/X/devchan/peer   Y's domid (absent in single-domain scenarios)
 * and unpauses them. A kernel publishes values under its own devchan/ (they inherit the
 * perms, so the peer can read them) and reads the peer's with a watch-backed wait.
 *
 * Invariants: every wait is bounded (DEVCHAN_TIMEOUT_NS) and ends the test with ERROR
 * naming what did not arrive; the grant table is set up once (devchan_init) and mapped
 * in pool pages; nothing here masks or unmasks event upcalls (tests decide).
 */
#ifndef DEVCHAN_H
#define DEVCHAN_H

#include "tests/pv/lib/pvtest.h"
#include "lib/xen/gnttab.h"
#include "lib/xen/xenbus.h"
#include <xen/grant_table.h>
#include <xen/io/xs_wire.h>

/* 120 s of Xen system time: QEMU-TCG runs of the real Xen are slow. */
#define DEVCHAN_TIMEOUT_NS (120ull * 1000 * 1000 * 1000)

extern domid_t devchan_self;       /* our domid (from the "domid" node) */
extern domid_t devchan_peer;       /* the peer's domid, DOMID_INVALID when alone */
extern char devchan_role[32];      /* devchan/role, "" when absent */

/* xenstore, role and peer, grant table (nr_frames frames). Returns 0 or ends the test. */
void devchan_init(unsigned grant_frames);
int devchan_role_is(const char *role);

/* Write devchan/<key> = value (formatted). */
void devchan_put(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wait for the peer's devchan/<key> and copy it into buf; ERROR verdict on timeout. */
void devchan_get(const char *key, char *buf, unsigned size);
uint32_t devchan_get_u32(const char *key);
/* A rendezvous: publish <name>, wait for the peer's <name>. */
void devchan_sync(const char *name);

/* The VA of a frame of ours mapped by the builder (the xenstore/console rings), or 0. */
void *devchan_boot_va(unsigned long mfn);
/* A pool page (zeroed, writable) and its MFN. */
void *devchan_page(unsigned long *mfn);

/* SCHEDOP_poll for `port` (then clear it); 1 if it fired within timeout_ns, else 0. */
int devchan_wait_port(evtchn_port_t port, uint64_t timeout_ns);

/* String helpers the freestanding kernels need. */
int devchan_streq(const char *a, const char *b);
uint32_t devchan_atou(const char *s);

#endif
