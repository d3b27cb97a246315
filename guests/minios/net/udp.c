/*
 * UDP: the echo service on port 7 (always on once the stack has an address) and one
 * outstanding request/response exchange for the shell (`udp send`).
 * Checksums are always sent; a received datagram with checksum 0 (none) is accepted.
 */
#include "minios/net/net.h"
#include "minios/kernel/sched.h"

static struct {
    int active;
    uint16_t port;
    uint32_t peer;
    uint16_t peer_port;
    volatile int got;
    uint8_t *buf;
    unsigned size, len;
    uint64_t at;
} req;
static uint16_t next_port = 49152;

static uint16_t udp_csum(uint32_t src, uint32_t dst, const uint8_t *seg, unsigned len)
{
    uint8_t pseudo[12];
    put_be32(pseudo, src);
    put_be32(pseudo + 4, dst);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_UDP;
    put_be16(pseudo + 10, (uint16_t)len);
    return csum_fold(csum_partial(seg, len, csum_partial(pseudo, 12, 0)));
}

int udp_send(uint32_t dst, uint16_t sport, uint16_t dport, const void *data, unsigned len,
             int may_block)
{
    uint8_t seg[NET_MAX_PAYLOAD];
    if (len + UDP_HLEN > sizeof(seg)) return -XEN_E2BIG;
    put_be16(seg, sport);
    put_be16(seg + 2, dport);
    put_be16(seg + 4, (uint16_t)(len + UDP_HLEN));
    put_be16(seg + 6, 0);
    memcpy(seg + UDP_HLEN, data, len);
    uint16_t c = udp_csum(net_ip, dst, seg, len + UDP_HLEN);
    put_be16(seg + 6, c ? c : 0xFFFF);
    return ip_send(dst, IPPROTO_UDP, seg, len + UDP_HLEN, may_block);
}

void udp_input(uint32_t src, uint32_t dst, const uint8_t *seg, unsigned len, int csum_blank)
{
    ip_stats.udp_rx++;
    if (len < UDP_HLEN) goto drop;
    unsigned ulen = get_be16(seg + 4);
    if (ulen < UDP_HLEN || ulen > len) goto drop;
    if (!csum_blank && get_be16(seg + 6) && udp_csum(src, dst, seg, ulen) != 0) {
        ip_stats.csum_errors++;
        goto drop;
    }
    uint16_t sport = get_be16(seg), dport = get_be16(seg + 2);
    const uint8_t *data = seg + UDP_HLEN;
    unsigned dlen = ulen - UDP_HLEN;
    if (dport == UDP_ECHO_PORT) {
        if (udp_send(src, UDP_ECHO_PORT, sport, data, dlen, 0) == 0) ip_stats.udp_echoed++;
        return;
    }
    if (req.active && !req.got && dport == req.port && src == req.peer && sport == req.peer_port) {
        req.len = MIN(dlen, req.size);
        memcpy(req.buf, data, req.len);
        req.at = now_ns();
        req.got = 1;
        return;
    }
drop:
    ip_stats.udp_dropped++;
}

static int got_cond(void *u)
{
    (void)u;
    return req.got;
}

int udp_request(uint32_t dst, uint16_t dport, const void *data, unsigned len, void *reply,
                unsigned reply_size, uint64_t timeout, uint64_t *rtt)
{
    uint8_t mac[6];
    int rc = arp_resolve(net_next_hop(dst), mac, timeout);
    if (rc) return rc;
    req.port = next_port++;
    if (next_port < 49152) next_port = 49152;
    req.peer = dst;
    req.peer_port = dport;
    req.buf = reply;
    req.size = reply_size;
    req.got = 0;
    req.active = 1;
    uint64_t t0 = now_ns();
    rc = udp_send(dst, req.port, dport, data, len, 1);
    if (rc == 0 && !wait_for(got_cond, 0, timeout)) rc = -XEN_ETIME;
    req.active = 0;
    if (rc) return rc;
    *rtt = req.at - t0;
    return (int)req.len;
}
