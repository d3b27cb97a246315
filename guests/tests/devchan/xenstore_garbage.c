/*
 * Malformed xenstore traffic from one domain while another keeps working (roles "bad"
 * and "good"). The bad domain writes a message header announcing more than
 * XENSTORE_PAYLOAD_MAX bytes into its ring: xenstored must stop serving it (Xen 4.x: the
 * connection is ignored, and servers with the `error` feature say why in the ring page)
 * and never answer that garbage. If the server offers reconnection, the bad domain
 * reconnects, works, then corrupts its ring indexes and is stopped again. Meanwhile the
 * good domain does 200 writes, reads and watch events that must all succeed, then uses
 * transactions through guests/lib/xen/xenbus: isolation until commit, abort, a conflict
 * (a node the transaction read changed: EAGAIN, nothing applied) and unknown ids (ENOENT).
 */
#include "tests/devchan/lib/devchan.h"

PVTEST("devchan_xenstore_garbage", "SUCCESS", 1, "", "garbage on one domain's xenstore ring; another domain unaffected");

#define OPS 200

/* Read `path` (in transaction tx) and compare with `want`; NULL: must not exist. */
static int tx_is(uint32_t tx, const char *path, const char *want)
{
    char buf[32];
    int rc = xb_read(tx, path, buf, sizeof(buf));
    if (!want) return rc == -XEN_ENOENT;
    return rc >= 0 && devchan_streq(buf, want);
}

static void transactions(void)
{
    uint32_t t1 = 0, t2 = 0, t3 = 0;
    CHECK_EQ(xb_write(XB_NIL, "devchan/tx/a", "1"), 0);
    /* Changes are visible inside, not outside, until the commit. */
    CHECK_EQ(xb_transaction_start(&t1), 0);
    CHECK(t1 != 0);
    CHECK_EQ(xb_write(t1, "devchan/tx/a", "2"), 0);
    CHECK_EQ(xb_write(t1, "devchan/tx/b", "new"), 0);
    CHECK(tx_is(t1, "devchan/tx/a", "2"));
    CHECK(tx_is(XB_NIL, "devchan/tx/a", "1"));
    CHECK(tx_is(XB_NIL, "devchan/tx/b", 0));
    CHECK_EQ(xb_transaction_end(t1, 0), 0);
    CHECK(tx_is(XB_NIL, "devchan/tx/a", "2"));
    CHECK(tx_is(XB_NIL, "devchan/tx/b", "new"));
    /* Abort: nothing happened. */
    CHECK_EQ(xb_transaction_start(&t2), 0);
    CHECK_EQ(xb_write(t2, "devchan/tx/a", "3"), 0);
    CHECK_EQ(xb_rm(t2, "devchan/tx/b"), 0);
    CHECK(tx_is(t2, "devchan/tx/b", 0));
    CHECK_EQ(xb_transaction_end(t2, 1), 0);
    CHECK(tx_is(XB_NIL, "devchan/tx/a", "2"));
    CHECK(tx_is(XB_NIL, "devchan/tx/b", "new"));
    /* Conflict: a node the transaction read changes outside it; the commit fails with
     * EAGAIN and none of the transaction's writes are applied. */
    CHECK_EQ(xb_transaction_start(&t3), 0);
    CHECK(tx_is(t3, "devchan/tx/a", "2"));
    CHECK_EQ(xb_write(XB_NIL, "devchan/tx/a", "4"), 0);
    CHECK_EQ(xb_write(t3, "devchan/tx/c", "lost"), 0);
    CHECK_EQ(xb_transaction_end(t3, 0), -XEN_EAGAIN);
    CHECK(tx_is(XB_NIL, "devchan/tx/c", 0));
    CHECK(tx_is(XB_NIL, "devchan/tx/a", "4"));
    /* A transaction that is over (or never was) is unknown. */
    CHECK_EQ(xb_write(t1, "devchan/tx/d", "x"), -XEN_ENOENT);
    CHECK_EQ(xb_transaction_end(t3, 0), -XEN_ENOENT);
    CHECK(tx_is(XB_NIL, "devchan/tx/d", 0));
}

static void good(void)
{
    devchan_sync("start");
    CHECK_EQ(xb_watch("devchan/watched", "w"), 0);
    CHECK_EQ(xb_wait_event("w", 0, 0, DEVCHAN_TIMEOUT_NS), 1); /* the initial event */
    unsigned ok = 0, events = 0;
    for (unsigned i = 0; i < OPS; i++) {
        char v[16], back[16];
        pv_snprintf(v, sizeof(v), "%u", i * 7);
        if (xb_write(XB_NIL, "devchan/count", v) < 0) continue;
        if (xb_read(XB_NIL, "devchan/count", back, sizeof(back)) < 0 || !devchan_streq(v, back)) continue;
        ok++;
        if (i % 20 == 0) {
            xb_write(XB_NIL, "devchan/watched", v);
            events += xb_wait_event("w", 0, 0, DEVCHAN_TIMEOUT_NS) == 1;
        }
    }
    CHECK_EQ(ok, OPS);
    CHECK_EQ(events, OPS / 20);
    transactions();
    devchan_put("finished", "%u", ok);
}

/* After garbage: the server must not answer; 1 if the connection was stopped. */
static int stopped(const char *what)
{
    volatile struct xenstore_domain_interface *r = xenbus.ring;
    uint64_t deadline = pvt_now() + 10000000000ull;
    while (r->error == XENSTORE_ERROR_NONE && pvt_now() < deadline) devchan_wait_port(pvt_si->store_evtchn, 100000000ull);
    uint32_t err = r->error;
    pv_printf("%s: ring error field %u (%s)\n", what, err,
              err == XENSTORE_ERROR_PROTO ? "PROTO" : err == XENSTORE_ERROR_RINGIDX ? "RINGIDX" : err ? "other" : "none");
    /* Whatever the server says, a request now gets no answer. */
    xenbus.broken = 0;
    xenbus.have = 0;
    uint64_t saved = xenbus.timeout_ns;
    xenbus.timeout_ns = 5000000000ull;
    char buf[16];
    int rc = xb_read(XB_NIL, "domid", buf, sizeof(buf));
    xenbus.timeout_ns = saved;
    pv_printf("%s: a request afterwards: %s\n", what, rc >= 0 ? "answered" : xb_strerror(rc));
    return rc < 0;
}

static void bad(void)
{
    devchan_sync("start");
    struct xsd_sockmsg h = { .type = XS_READ, .req_id = 77, .tx_id = 0, .len = XENSTORE_PAYLOAD_MAX + 904 };
    CHECK_EQ(xb_ring_write_raw(&h, sizeof(h)), sizeof(h));
    static const char junk[64] = "this is not a xenstore message payload at all..................";
    xb_ring_write_raw(junk, sizeof(junk));
    CHECK_EQ(stopped("oversized payload"), 1);

    volatile struct xenstore_domain_interface *r = xenbus.ring;
    pv_printf("server features 0x%x\n", r->server_features);
    if (!(r->server_features & XENSTORE_SERVER_FEATURE_RECONNECTION)) return;
    CHECK_EQ(xb_reconnect(DEVCHAN_TIMEOUT_NS), 0);
    CHECK_EQ(r->error, XENSTORE_ERROR_NONE);
    char buf[16];
    CHECK_GE(xb_read(XB_NIL, "domid", buf, sizeof(buf)), 1);
    /* Corrupt the indexes: req_prod far ahead of req_cons. */
    r->req_prod = r->req_cons + 5000;
    xen_evtchn_send(pvt_si->store_evtchn);
    CHECK_EQ(stopped("bad ring indexes"), 1);
    CHECK_EQ(xb_reconnect(DEVCHAN_TIMEOUT_NS), 0);
    CHECK_GE(xb_read(XB_NIL, "domid", buf, sizeof(buf)), 1);
    /* The good domain was never disturbed. */
    devchan_get("finished", buf, sizeof(buf));
    CHECK_EQ(devchan_atou(buf), OPS);
}

void test_main(void)
{
    devchan_init(0);
    if (devchan_peer == DOMID_INVALID) pvtest_skip("needs a peer domain (scenario xenstore-garbage)");
    if (devchan_role_is("good")) good();
    else if (devchan_role_is("bad")) bad();
    else pvtest_error("unknown role '%s'", devchan_role);
}
