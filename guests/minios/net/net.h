/*
 * A small IPv4 stack over netfront: Ethernet, ARP (RFC 826), IPv4 without fragments
 * (RFC 791), ICMP echo (RFC 792) and UDP (RFC 768), enough to answer ping, ping others,
 * run a UDP echo service (port 7) and send UDP datagrams.
 *
 * Invariants:
 * - Addresses are host-order u32 inside the stack, network order on the wire.
 * - Every received header is length-checked before it is read; bad checksums, foreign
 *   destinations, fragments and IP options we do not understand are dropped (counted).
 * - Received frames are handled in the netfront poller (event-loop context); replies are
 *   sent from there without blocking: a reply to an address not in the ARP cache
 *   triggers an ARP request and is dropped (the peer retries).
 * - Blocking calls (arp_resolve, net_ping, udp_request) are for the shell only.
 */
#ifndef MINIOS_NET_H
#define MINIOS_NET_H
#include "minios/kernel/kernel.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define IP_HLEN 20
#define IPPROTO_ICMP 1
#define IPPROTO_UDP 17
#define UDP_HLEN 8
#define UDP_ECHO_PORT 7
#define NET_MAX_PAYLOAD (1500 - IP_HLEN)

struct ip_stats {
    uint32_t arp_rx, arp_replies_sent, ip_rx, ip_dropped, icmp_echo_answered, icmp_echo_replies,
        udp_rx, udp_echoed, udp_dropped, csum_errors;
};

static inline uint16_t htons(uint16_t v) { return (uint16_t)((v << 8) | (v >> 8)); }
static inline uint16_t ntohs(uint16_t v) { return htons(v); }
static inline uint32_t htonl(uint32_t v) { return __builtin_bswap32(v); }
static inline uint32_t ntohl(uint32_t v) { return __builtin_bswap32(v); }
/* Unaligned big-endian field access into frames. */
static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get_be32(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put_be32(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

extern uint32_t net_ip, net_mask, net_gw;
extern struct ip_stats ip_stats;

void net_init(void);
int net_configured(void);
void ip_to_str(uint32_t ip, char *buf);   /* buf >= 16 bytes */

/* Internet checksum over len bytes, continued from sum (start with 0). */
uint32_t csum_partial(const void *buf, unsigned len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);

/* arp.c */
void arp_input(const uint8_t *frame, unsigned len);
int arp_lookup(uint32_t ip, uint8_t *mac);          /* 1 if cached */
int arp_resolve(uint32_t ip, uint8_t *mac, uint64_t timeout_ns);
void arp_request(uint32_t ip);
uint32_t net_next_hop(uint32_t dst);

/* ipv4.c: send one IP datagram (payload copied); blocking resolves the next hop. */
int ip_send(uint32_t dst, uint8_t proto, const void *payload, unsigned len, int may_block);
void ip_input(const uint8_t *frame, unsigned len, int csum_blank);
/* Ping: one echo request, waits for its reply; 0 and the RTT, or a negative errno. */
int net_ping(uint32_t dst, uint16_t id, uint16_t seq, unsigned size, uint64_t timeout_ns,
             uint64_t *rtt_ns);

/* udp.c */
void udp_input(uint32_t src, uint32_t dst, const uint8_t *seg, unsigned len, int csum_blank);
int udp_send(uint32_t dst, uint16_t sport, uint16_t dport, const void *data, unsigned len,
             int may_block);
/* Send data to dst:dport from an ephemeral port and wait for one datagram back. */
int udp_request(uint32_t dst, uint16_t dport, const void *data, unsigned len, void *reply,
                unsigned reply_size, uint64_t timeout_ns, uint64_t *rtt_ns);

#endif
