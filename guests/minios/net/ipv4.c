/*
 * IPv4 input and output (no fragmentation, options skipped) and ICMP echo.
 * Frames are built on the stack: sending may happen from the netfront poller while the
 * shell is itself in the middle of sending (nested in its wait), so no static buffers.
 */
#include "minios/net/net.h"
#include "minios/drivers/netfront.h"
#include "minios/kernel/sched.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

static uint16_t ip_id;
static struct {
    int active;
    uint16_t id, seq;
    uint32_t from;
    volatile int answered;
    uint64_t received_at;
} ping;

int ip_send(uint32_t dst, uint8_t proto, const void *payload, unsigned len, int may_block)
{
    if (!net_ip) return -XEN_ENODEV;
    if (len > NET_MAX_PAYLOAD) return -XEN_E2BIG;
    uint8_t f[ETH_HLEN + IP_HLEN + NET_MAX_PAYLOAD];
    uint32_t hop = net_next_hop(dst);
    int bcast = dst == 0xFFFFFFFFU || dst == (net_ip | ~net_mask);
    if (bcast) {
        memset(f, 0xFF, 6);
    } else if (!arp_lookup(hop, f)) {
        if (!may_block) {
            arp_request(hop);
            return -XEN_EAGAIN;
        }
        int rc = arp_resolve(hop, f, 3 * NSEC_PER_SEC);
        if (rc) return rc;
    }
    memcpy(f + 6, netfront_mac, 6);
    put_be16(f + 12, ETH_P_IP);
    uint8_t *ip = f + ETH_HLEN;
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, (uint16_t)(IP_HLEN + len));
    put_be16(ip + 4, ip_id++);
    put_be16(ip + 6, 0x4000);          /* DF */
    ip[8] = 64;
    ip[9] = proto;
    put_be16(ip + 10, 0);
    put_be32(ip + 12, net_ip);
    put_be32(ip + 16, dst);
    put_be16(ip + 10, csum_fold(csum_partial(ip, IP_HLEN, 0)));
    memcpy(ip + IP_HLEN, payload, len);
    return netfront_xmit(f, ETH_HLEN + IP_HLEN + len);
}

static void icmp_input(uint32_t src, const uint8_t *icmp, unsigned len, int csum_blank)
{
    if (len < 8) return;
    if (!csum_blank && csum_fold(csum_partial(icmp, len, 0)) != 0) {
        ip_stats.csum_errors++;
        return;
    }
    if (icmp[0] == ICMP_ECHO_REQUEST && icmp[1] == 0) {
        uint8_t reply[NET_MAX_PAYLOAD];
        if (len > sizeof(reply)) return;
        memcpy(reply, icmp, len);
        reply[0] = ICMP_ECHO_REPLY;
        put_be16(reply + 2, 0);
        put_be16(reply + 2, csum_fold(csum_partial(reply, len, 0)));
        if (ip_send(src, IPPROTO_ICMP, reply, len, 0) == 0) ip_stats.icmp_echo_answered++;
    } else if (icmp[0] == ICMP_ECHO_REPLY) {
        ip_stats.icmp_echo_replies++;
        if (ping.active && !ping.answered && get_be16(icmp + 4) == ping.id &&
            get_be16(icmp + 6) == ping.seq) {
            ping.from = src;
            ping.received_at = now_ns();
            ping.answered = 1;
        }
    }
}

void ip_input(const uint8_t *frame, unsigned len, int csum_blank)
{
    if (!net_ip) return;
    const uint8_t *ip = frame + ETH_HLEN;
    unsigned avail = len - ETH_HLEN;
    ip_stats.ip_rx++;
    if (avail < IP_HLEN || (ip[0] >> 4) != 4) goto drop;
    unsigned hlen = (ip[0] & 15) * 4u;
    unsigned total = get_be16(ip + 2);
    if (hlen < IP_HLEN || total < hlen || total > avail) goto drop;
    if (csum_fold(csum_partial(ip, hlen, 0)) != 0) {
        ip_stats.csum_errors++;
        goto drop;
    }
    if (get_be16(ip + 6) & 0x3FFF) goto drop;     /* MF or a fragment offset */
    uint32_t src = get_be32(ip + 12), dst = get_be32(ip + 16);
    if (dst != net_ip && dst != 0xFFFFFFFFU && dst != (net_ip | ~net_mask)) goto drop;
    if (ip[9] == IPPROTO_ICMP) icmp_input(src, ip + hlen, total - hlen, csum_blank);
    else if (ip[9] == IPPROTO_UDP) udp_input(src, dst, ip + hlen, total - hlen, csum_blank);
    else goto drop;
    return;
drop:
    ip_stats.ip_dropped++;
}

static int pong_cond(void *u)
{
    (void)u;
    return ping.answered;
}

int net_ping(uint32_t dst, uint16_t id, uint16_t seq, unsigned size, uint64_t timeout,
             uint64_t *rtt)
{
    uint8_t msg[NET_MAX_PAYLOAD];
    if (size + 8 > sizeof(msg)) return -XEN_E2BIG;
    msg[0] = ICMP_ECHO_REQUEST;
    msg[1] = 0;
    put_be16(msg + 2, 0);
    put_be16(msg + 4, id);
    put_be16(msg + 6, seq);
    for (unsigned i = 0; i < size; i++) msg[8 + i] = (uint8_t)(i + seq);
    put_be16(msg + 2, csum_fold(csum_partial(msg, size + 8, 0)));
    /* Resolve first, so the RTT measures the echo only. */
    uint8_t mac[6];
    int rc = arp_resolve(net_next_hop(dst), mac, timeout);
    if (rc) return rc;
    ping.id = id;
    ping.seq = seq;
    ping.answered = 0;
    ping.active = 1;
    uint64_t t0 = now_ns();
    rc = ip_send(dst, IPPROTO_ICMP, msg, size + 8, 1);
    if (rc == 0 && !wait_for(pong_cond, 0, timeout)) rc = -XEN_ETIME;
    ping.active = 0;
    if (rc == 0) *rtt = ping.received_at - t0;
    return rc;
}
