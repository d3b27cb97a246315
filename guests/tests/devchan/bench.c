/*
 * Device-channel benchmark workloads (bench/evtchn.ts, bench/gnttab.ts drive them):
 *   evtchn-server   offers a port to its peer, then echoes `devchan/rounds` events
 *   evtchn-client   binds the server's port, publishes "go", does `rounds` round trips
 *                   (send, SCHEDOP_poll for the echo), publishes "done"
 *   evtchn-loopback the same round trips on an IPI to itself (no second domain)
 *   granter         grants `devchan/pages` pages (pattern-filled, writable) to its peer,
 *                   publishes "refs", waits for the peer's "done"
 *   xs-ops          `devchan/rounds` xenstore write+read pairs over its ring
 * Each prints its own view of the time (Xen system time) and ends with a verdict, so a
 * broken channel fails the benchmark instead of skewing it.
 */
#include "tests/devchan/lib/devchan.h"

PVTEST("devchan_bench", "SUCCESS", 0, "", "device-channel benchmark workloads");

static uint32_t own_u32(const char *key, uint32_t dflt)
{
    char path[64];
    uint32_t v;
    pv_snprintf(path, sizeof(path), "devchan/%s", key);
    return xb_read_u32(XB_NIL, path, &v) == 0 ? v : dflt;
}

static void echo_server(void)
{
    uint32_t rounds = own_u32("rounds", 1000);
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_alloc_unbound(devchan_peer, &port), 0);
    xen_evtchn_mask(pvt_shared, port);
    devchan_put("port", "%u", port);
    uint32_t n = 0;
    while (n < rounds && devchan_wait_port(port, DEVCHAN_TIMEOUT_NS)) {
        xen_evtchn_send(port);
        n++;
    }
    CHECK_EQ(n, rounds);
    devchan_put("done", "%u", n);
}

static void round_trips(evtchn_port_t port, uint32_t rounds, const char *what)
{
    devchan_put("go", "1");
    uint64_t t0 = pvt_now();
    uint32_t n = 0;
    for (; n < rounds; n++) {
        xen_evtchn_send(port);
        if (!devchan_wait_port(port, DEVCHAN_TIMEOUT_NS)) break;
    }
    uint64_t dt = pvt_now() - t0;
    CHECK_EQ(n, rounds);
    pv_printf("%s: %u round trips, %llu ns each (Xen system time)\n", what, n, n ? dt / n : 0);
    devchan_put("done", "%u", n);
}

static void client(void)
{
    uint32_t rounds = own_u32("rounds", 1000);
    uint32_t sport = devchan_get_u32("port");
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_interdomain(devchan_peer, sport, &port), 0);
    xen_evtchn_mask(pvt_shared, port);
    xen_evtchn_clear(pvt_shared, port);
    round_trips(port, rounds, "evtchn interdomain");
}

static void loopback(void)
{
    uint32_t rounds = own_u32("rounds", 1000);
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_ipi(0, &port), 0);
    xen_evtchn_mask(pvt_shared, port);
    round_trips(port, rounds, "evtchn loopback");
}

static void granter(void)
{
    uint32_t pages = own_u32("pages", 64);
    if (pages > 256) pages = 256;
    char refs[256 * 6 + 8];
    unsigned len = 0;
    for (uint32_t i = 0; i < pages; i++) {
        unsigned long mfn;
        uint8_t *p = devchan_page(&mfn);
        for (unsigned k = 0; k < PVT_PAGE_SIZE; k++) p[k] = (uint8_t)(i * 13 + k);
        grant_ref_t r = xen_gnttab_grant_access(devchan_peer, mfn, 0);
        CHECK_NE(r, XEN_GNTTAB_INVALID_REF);
        len += (unsigned)pv_snprintf(refs + len, sizeof(refs) - len, "%s%u", i ? " " : "", r);
    }
    CHECK_EQ(xb_write(XB_NIL, "devchan/refs", refs), 0);
    char buf[8];
    devchan_get("done", buf, sizeof(buf));
}

static void xs_ops(void)
{
    uint32_t rounds = own_u32("rounds", 1000);
    devchan_put("go", "1");
    uint64_t t0 = pvt_now();
    uint32_t ok = 0;
    char v[16], back[16];
    for (uint32_t i = 0; i < rounds; i++) {
        pv_snprintf(v, sizeof(v), "%u", i);
        if (xb_write(XB_NIL, "devchan/k", v) == 0 && xb_read(XB_NIL, "devchan/k", back, sizeof(back)) > 0 &&
            devchan_streq(v, back)) ok++;
    }
    uint64_t dt = pvt_now() - t0;
    CHECK_EQ(ok, rounds);
    pv_printf("xenstore: %u write+read pairs, %llu ns each (Xen system time)\n", ok, ok ? dt / ok : 0);
    devchan_put("done", "%u", ok);
}

void test_main(void)
{
    devchan_init(1);
    if (devchan_role_is("evtchn-server")) echo_server();
    else if (devchan_role_is("evtchn-client")) client();
    else if (devchan_role_is("evtchn-loopback")) loopback();
    else if (devchan_role_is("granter")) granter();
    else if (devchan_role_is("xs-ops")) xs_ops();
    else pvtest_error("unknown role '%s'", devchan_role);
}
