/*
 * Event-channel ping-pong between two domUs (roles "server" and "client").
 *
 * The server offers an unbound port to the client (alloc_unbound), the client binds it
 * (bind_interdomain: its new port is pending at once, making up for anything sent while
 * unbound). Then: ROUNDS round trips driven by SCHEDOP_poll with the ports masked, and
 * ROUNDS more driven by event upcalls (the 2-level upcall path, the echo sent from the
 * handler); the client prints the average round-trip time. Then the 2-level rules seen
 * from a guest: three sends to a masked port leave one pending bit and no selector bit;
 * EVTCHNOP_unmask of a pending port sets the selector and evtchn_upcall_pending. Then
 * close/rebind: closing one end returns the other to unbound (sends to it are dropped),
 * a re-bind works again. Hostile binds (a port offered to someone else, a port already
 * bound, a domain that does not exist, acting on the peer's ports) get Xen's errors.
 */
#include "tests/devchan/lib/devchan.h"

PVTEST("devchan_evtchn_pingpong", "SUCCESS", 0, "", "event-channel ping-pong between two domUs, masking, close and rebind");

#define ROUNDS 100

static evtchn_port_t port;
static volatile unsigned upcall_events;

static void echo_handler(evtchn_port_t p)
{
    upcall_events++;
    xen_evtchn_send(p);
}

static void count_handler(evtchn_port_t p)
{
    (void)p;
    upcall_events++;
}

/*
 * Wait (upcalls enabled) until `n` events were counted or the deadline passes. Upcalls are
 * masked around the check and the poll: an event arriving in between stays pending, so
 * SCHEDOP_poll returns at once and the upcall is taken when we unmask.
 */
static int wait_events(unsigned n, uint64_t deadline)
{
    while (upcall_events < n) {
        if (pvt_now() >= deadline) return 0;
        pvt_events_mask();
        if (upcall_events < n) {
            struct sched_poll poll;
            evtchn_port_t ports[1] = { port };
            set_xen_guest_handle(poll.ports, ports);
            poll.nr_ports = 1;
            poll.timeout = deadline;
            HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
        }
        pvt_events_unmask();
    }
    return 1;
}

static void check_status(evtchn_port_t p, uint32_t status, domid_t dom, uint32_t rport)
{
    struct evtchn_status st;
    CHECK_EQ(xen_evtchn_status(DOMID_SELF, p, &st), 0);
    CHECK_EQ(st.status, status);
    if (status == EVTCHNSTAT_unbound) CHECK_EQ(st.u.unbound.dom, dom);
    if (status == EVTCHNSTAT_interdomain) {
        CHECK_EQ(st.u.interdomain.dom, dom);
        CHECK_EQ(st.u.interdomain.port, rport);
    }
}

static void server(void)
{
    CHECK_EQ(xen_evtchn_alloc_unbound(devchan_peer, &port), 0);
    xen_evtchn_mask(pvt_shared, port);
    check_status(port, EVTCHNSTAT_unbound, devchan_peer, 0);
    CHECK_EQ(xen_evtchn_send(port), 0); /* unbound: dropped */
    /* A loopback port the client may not bind. */
    evtchn_port_t mine;
    CHECK_EQ(xen_evtchn_alloc_unbound(DOMID_SELF, &mine), 0);
    devchan_put("port", "%u", port);
    devchan_put("other", "%u", mine);
    devchan_sync("bound");
    uint32_t cport = devchan_get_u32("port");
    check_status(port, EVTCHNSTAT_interdomain, devchan_peer, cport);

    /* Round trips by poll. */
    unsigned echoed = 0;
    for (unsigned i = 0; i < ROUNDS && devchan_wait_port(port, DEVCHAN_TIMEOUT_NS); i++) {
        xen_evtchn_send(port);
        echoed++;
    }
    CHECK_EQ(echoed, ROUNDS);

    /* Round trips by upcall: the handler echoes. */
    pvt_set_event_handler(port, echo_handler);
    devchan_sync("upcalls");
    CHECK_EQ(xen_evtchn_unmask(port), 0);
    pvt_events_unmask();
    CHECK_EQ(wait_events(ROUNDS, pvt_now() + DEVCHAN_TIMEOUT_NS), 1);
    CHECK_EQ(upcall_events, ROUNDS);
    pvt_events_mask();
    xen_evtchn_mask(pvt_shared, port);
    pvt_set_event_handler(port, 0);

    /* Masked: three sends, one pending bit, no selector bit. Every port of the word is
     * masked meanwhile (other channels, e.g. the console's, share its selector bit). */
    unsigned w = port / 32;
    uint32_t saved_mask = pvt_shared->evtchn_mask[w];
    pvt_shared->evtchn_mask[w] = 0xffffffffu;
    xen_evtchn_clear(pvt_shared, port);
    volatile struct vcpu_info *v = pvt_vcpu(0);
    xen_clear_bit(w, &v->evtchn_pending_sel);
    devchan_sync("burst");
    char buf[8];
    devchan_get("sent", buf, sizeof(buf));
    CHECK_EQ(xen_evtchn_pending(pvt_shared, port), 1);
    CHECK_EQ(xen_test_bit(w, &v->evtchn_pending_sel), 0);
    /* Unmask through Xen: a pending port now raises its selector bit and upcall_pending. */
    v->evtchn_upcall_pending = 0;
    CHECK_EQ(xen_evtchn_unmask(port), 0);
    CHECK_EQ(xen_test_bit(w, &v->evtchn_pending_sel), 1);
    CHECK_EQ(v->evtchn_upcall_pending, 1);
    pvt_shared->evtchn_mask[w] = saved_mask | (1u << (port % 32));
    xen_evtchn_clear(pvt_shared, port);

    /* The client closes: our port is unbound again, offered to the client. */
    devchan_get("closed", buf, sizeof(buf));
    check_status(port, EVTCHNSTAT_unbound, devchan_peer, 0);
    CHECK_EQ(xen_evtchn_send(port), 0);
    devchan_put("closed-seen", "1");
    devchan_sync("rebound");
    check_status(port, EVTCHNSTAT_interdomain, devchan_peer, devchan_get_u32("port2"));
    CHECK_EQ(devchan_wait_port(port, DEVCHAN_TIMEOUT_NS), 1);

    /* We close our end now: the client's port falls back to unbound. */
    CHECK_EQ(xen_evtchn_close(port), 0);
    CHECK_EQ(xen_evtchn_close(port), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_close(mine), 0);
    devchan_put("server-closed", "1");
    devchan_get("done", buf, sizeof(buf));
}

static void client(void)
{
    uint32_t sport = devchan_get_u32("port");
    uint32_t other = devchan_get_u32("other");
    evtchn_port_t p;
    /* Hostile binds first. */
    CHECK_EQ(xen_evtchn_bind_interdomain(devchan_peer, other, &p), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_bind_interdomain(devchan_peer, 5000, &p), -XEN_EINVAL);
    CHECK_EQ(xen_evtchn_bind_interdomain(31000, sport, &p), -XEN_ESRCH);
    CHECK_EQ(xen_evtchn_alloc_unbound_in(devchan_peer, devchan_self, &p), -XEN_EPERM);
    struct evtchn_status st;
    CHECK_EQ(xen_evtchn_status(devchan_peer, sport, &st), -XEN_EPERM);

    CHECK_EQ(xen_evtchn_bind_interdomain(devchan_peer, sport, &port), 0);
    xen_evtchn_mask(pvt_shared, port);
    /* bind_interdomain leaves the new port pending. */
    CHECK_EQ(xen_evtchn_pending(pvt_shared, port), 1);
    xen_evtchn_clear(pvt_shared, port);
    CHECK_EQ(xen_evtchn_bind_interdomain(devchan_peer, sport, &p), -XEN_EINVAL); /* already bound */
    check_status(port, EVTCHNSTAT_interdomain, devchan_peer, sport);
    /* The same query through the 3.0-era compat hypercall. */
    struct evtchn_op op;
    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_status;
    op.u.status.dom = DOMID_SELF;
    op.u.status.port = port;
    CHECK_EQ(xen_evtchn_op_compat(&op), 0);
    CHECK_EQ(op.u.status.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(op.u.status.u.interdomain.port, sport);
    devchan_put("port", "%u", port);
    devchan_sync("bound");

    unsigned replies = 0;
    uint64_t total = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t t0 = pvt_now();
        xen_evtchn_send(port);
        if (!devchan_wait_port(port, DEVCHAN_TIMEOUT_NS)) break;
        total += pvt_now() - t0;
        replies++;
    }
    CHECK_EQ(replies, ROUNDS);
    if (replies) pv_printf("evtchn round trip (poll): %llu ns average over %u\n", total / replies, replies);

    pvt_set_event_handler(port, count_handler);
    devchan_sync("upcalls");
    CHECK_EQ(xen_evtchn_unmask(port), 0);
    pvt_events_unmask();
    uint64_t t0 = pvt_now();
    unsigned i = 0;
    for (; i < ROUNDS; i++) {
        xen_evtchn_send(port);
        if (!wait_events(i + 1, pvt_now() + DEVCHAN_TIMEOUT_NS)) break;
    }
    CHECK_EQ(i, ROUNDS);
    if (i) pv_printf("evtchn round trip (upcall): %llu ns average over %u\n", (pvt_now() - t0) / i, i);
    pvt_events_mask();
    xen_evtchn_mask(pvt_shared, port);
    pvt_set_event_handler(port, 0);

    devchan_sync("burst");
    for (unsigned k = 0; k < 3; k++) CHECK_EQ(xen_evtchn_send(port), 0);
    devchan_put("sent", "1");

    /* Close our end; then bind the server's port again. */
    CHECK_EQ(xen_evtchn_close(port), 0);
    CHECK_EQ(xen_evtchn_send(port), -XEN_EINVAL);
    devchan_put("closed", "1");
    char seen[8];
    devchan_get("closed-seen", seen, sizeof(seen));
    evtchn_port_t p2;
    CHECK_EQ(xen_evtchn_bind_interdomain(devchan_peer, sport, &p2), 0);
    xen_evtchn_mask(pvt_shared, p2);
    CHECK_EQ(xen_evtchn_pending(pvt_shared, p2), 1);
    xen_evtchn_clear(pvt_shared, p2);
    devchan_put("port2", "%u", p2);
    devchan_sync("rebound");
    CHECK_EQ(xen_evtchn_send(p2), 0);

    char buf[8];
    devchan_get("server-closed", buf, sizeof(buf));
    check_status(p2, EVTCHNSTAT_unbound, devchan_peer, 0);
    CHECK_EQ(xen_evtchn_send(p2), 0); /* unbound again: dropped */
    CHECK_EQ(xen_evtchn_close(p2), 0);
    devchan_put("done", "1");
}

void test_main(void)
{
    devchan_init(0);
    if (devchan_peer == DOMID_INVALID) pvtest_skip("needs a peer domain (scenario evtchn-pingpong)");
    if (devchan_role_is("server")) server();
    else if (devchan_role_is("client")) client();
    else pvtest_error("unknown role '%s'", devchan_role);
}
