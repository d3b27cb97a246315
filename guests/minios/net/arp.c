/*
 * ARP for IPv4 over Ethernet (RFC 826): a small cache, answers for our address, and
 * resolution with retries. Following the RFC's merge rule, a request addressed to us
 * also teaches us the sender's address, so a peer that pings us is answered at once.
 */
#include "minios/net/net.h"
#include "minios/drivers/netfront.h"
#include "minios/kernel/sched.h"

#define ARP_ENTRIES 16
#define ARP_LEN 28

struct arp_entry { uint32_t ip; uint8_t mac[6]; uint64_t stamp; };
static struct arp_entry cache[ARP_ENTRIES];

static void cache_put(uint32_t ip, const uint8_t *mac)
{
    struct arp_entry *victim = &cache[0];
    for (unsigned i = 0; i < ARP_ENTRIES; i++) {
        if (cache[i].ip == ip) {
            victim = &cache[i];
            break;
        }
        if (cache[i].stamp < victim->stamp) victim = &cache[i];
    }
    victim->ip = ip;
    memcpy(victim->mac, mac, 6);
    victim->stamp = now_ns() | 1;
}

int arp_lookup(uint32_t ip, uint8_t *mac)
{
    for (unsigned i = 0; i < ARP_ENTRIES; i++) {
        if (cache[i].stamp && cache[i].ip == ip) {
            memcpy(mac, cache[i].mac, 6);
            return 1;
        }
    }
    return 0;
}

static void arp_send(uint16_t oper, const uint8_t *dst_mac, const uint8_t *tha, uint32_t tpa)
{
    uint8_t f[ETH_HLEN + ARP_LEN];
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, netfront_mac, 6);
    put_be16(f + 12, ETH_P_ARP);
    uint8_t *a = f + ETH_HLEN;
    put_be16(a, 1);
    put_be16(a + 2, ETH_P_IP);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, oper);
    memcpy(a + 8, netfront_mac, 6);
    put_be32(a + 14, net_ip);
    memcpy(a + 18, tha, 6);
    put_be32(a + 24, tpa);
    netfront_xmit(f, sizeof(f));
}

void arp_request(uint32_t ip)
{
    static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    static const uint8_t zero[6];
    arp_send(1, bcast, zero, ip);
}

void arp_input(const uint8_t *frame, unsigned len)
{
    if (!net_ip || len < ETH_HLEN + ARP_LEN) return;
    const uint8_t *a = frame + ETH_HLEN;
    if (get_be16(a) != 1 || get_be16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4) return;
    ip_stats.arp_rx++;
    uint16_t oper = get_be16(a + 6);
    uint32_t spa = get_be32(a + 14), tpa = get_be32(a + 24);
    const uint8_t *sha = a + 8;
    int known = 0;
    uint8_t tmp[6];
    if (spa && arp_lookup(spa, tmp)) {
        cache_put(spa, sha);
        known = 1;
    }
    if (tpa != net_ip) return;
    if (!known && spa) cache_put(spa, sha);
    if (oper == 1 && spa != net_ip) {
        arp_send(2, sha, sha, spa);
        ip_stats.arp_replies_sent++;
    }
}

uint32_t net_next_hop(uint32_t dst)
{
    if ((dst & net_mask) == (net_ip & net_mask) || !net_gw) return dst;
    return net_gw;
}

struct resolve_arg { uint32_t ip; uint8_t *mac; };
static int resolved_cond(void *p)
{
    struct resolve_arg *r = p;
    return arp_lookup(r->ip, r->mac);
}

int arp_resolve(uint32_t ip, uint8_t *mac, uint64_t timeout)
{
    if (arp_lookup(ip, mac)) return 0;
    struct resolve_arg r = { ip, mac };
    for (unsigned tries = 0; tries < 3; tries++) {
        arp_request(ip);
        if (wait_for(resolved_cond, &r, timeout / 3 ? timeout / 3 : 1)) return 0;
    }
    return -XEN_ETIME;
}
