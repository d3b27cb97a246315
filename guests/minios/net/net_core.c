/*
 * Stack configuration (ip=, netmask=, gw= on the command line), Ethernet dispatch and
 * the Internet checksum (RFC 1071).
 */
#include "minios/net/net.h"
#include "minios/drivers/netfront.h"
#include "minios/kernel/cmdline.h"

uint32_t net_ip, net_mask, net_gw;
struct ip_stats ip_stats;

uint32_t csum_partial(const void *buf, unsigned len, uint32_t sum)
{
    const uint8_t *p = buf;
    while (len > 1) {
        sum += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        len -= 2;
    }
    if (len) sum += (uint32_t)(p[0] << 8);
    return sum;
}

uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

void ip_to_str(uint32_t ip, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int net_configured(void)
{
    return net_ip != 0 && netfront_connected();
}

static void eth_input(const uint8_t *frame, unsigned len, int csum_blank)
{
    if (len < ETH_HLEN) return;
    const uint8_t *dst = frame;
    int for_us = !memcmp(dst, netfront_mac, 6);
    int bcast = dst[0] == 0xFF && dst[1] == 0xFF && dst[2] == 0xFF && dst[3] == 0xFF &&
                dst[4] == 0xFF && dst[5] == 0xFF;
    if (!for_us && !bcast) return;
    uint16_t type = get_be16(frame + 12);
    if (type == ETH_P_ARP) arp_input(frame, len);
    else if (type == ETH_P_IP) ip_input(frame, len, csum_blank);
}

static uint32_t opt_ip(const char *key, uint32_t dflt)
{
    const char *v = cmdline_get(key);
    uint32_t ip;
    if (!v) return dflt;
    if (parse_ipv4(v, &ip)) {
        printk("net: bad %s=\"%s\"\n", key, v);
        return dflt;
    }
    return ip;
}

/* A hot-plugged vif came up (or the vif went): announce ourselves on the new link. */
static void link_changed(int up)
{
    if (!up || !net_ip) return;
    char a[16];
    ip_to_str(net_ip, a);
    printk("NET link up ip=%s\n", a);
    arp_request(net_ip);
}

void net_init(void)
{
    net_ip = opt_ip("ip", 0);
    net_mask = opt_ip("netmask", 0xFFFFFF00U);
    net_gw = opt_ip("gw", 0);
    netfront_rx_handler = eth_input;
    netfront_link_handler = link_changed;
    if (!netfront_connected()) return;
    if (!net_ip) {
        printk("net: no ip= on the command line; the IP stack is off\n");
        return;
    }
    char a[16], m[16], g[16];
    ip_to_str(net_ip, a);
    ip_to_str(net_mask, m);
    ip_to_str(net_gw, g);
    printk("NET ip=%s netmask=%s gw=%s udp-echo=%u\n", a, m, g, UDP_ECHO_PORT);
    /* Announce ourselves (gratuitous ARP), so peers' caches are current after a restore. */
    arp_request(net_ip);
}
