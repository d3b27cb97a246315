/*
 * netfront: the PV network frontend (netif, pv-devices.md §4), in rx-copy or rx-flip
 * mode.
 *
 * Connection: wait for the backend's InitWait, read mac and the backend's
 * feature-rx-copy / feature-rx-flip (absent means 1), choose the mode (`net=copy|flip`
 * on the command line, else copy when offered), grant both ring pages, allocate one
 * unbound port, write tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy,
 * feature-rx-notify and feature-no-csum-offload in one transaction, post rx buffers,
 * switch straight to Connected (netfront style), wait for the backend's Connected.
 *
 * Invariants:
 * - tx: NET_TX_BUFS pages granted read-only once; a slot's page is reused only after
 *   its response. A packet is one slot (<= one page); no scatter-gather, no GSO.
 * - rx copy: NET_RX_BUFS pages granted writable once and re-posted after each response.
 * - rx flip: a posted buffer's page has been given to Xen (p2m INVALID, unmapped,
 *   decrease_reservation) and its ref is an accept-transfer grant; a response brings a
 *   new MFN which is installed (M2P, p2m, mapping) before the data is read.
 * - Responses for ids not in flight, or counts beyond the ring, are reported and skipped.
 *
 * Hot plug (as Linux netfront): a watch on device/vif connects a vif that appears while we
 * run (one vif at a time: the first listed); a backend that goes Closing or disappears
 * closes it: tx stops (-ENODEV), tx in flight completes (bounded), Closing, Closed, then
 * every rx/tx buffer grant, both ring grants and the port go back, and flipped-out rx
 * pages are taken back from Xen.
 */
#ifndef MINIOS_NETFRONT_H
#define MINIOS_NETFRONT_H
#include "minios/kernel/kernel.h"

#define NET_TX_BUFS 32
#define NET_RX_BUFS 64
#define NET_MTU_FRAME 1514

struct net_stats {
    uint64_t tx_packets, tx_bytes, tx_errors, rx_packets, rx_bytes, rx_errors, rx_flips;
};

void netfront_init(void);
int netfront_connected(void);
/* Wait until a vif is connected (connected = 1, hot plug) or none is (0, unplug); 0 or
 * -XEN_ETIME. */
int netfront_wait(int connected, uint64_t timeout_ns);
/* Called after a hot-plugged vif connected (1) or the vif closed (0); the IP stack sets it. */
extern void (*netfront_link_handler)(int up);
/* Queue one Ethernet frame (copied); 0 or a negative Xen errno. */
int netfront_xmit(const void *frame, unsigned len);
extern uint8_t netfront_mac[6];
extern int netfront_flip_mode;
extern struct net_stats net_stats;
/* Called for every received frame (the IP stack sets it). */
extern void (*netfront_rx_handler)(const uint8_t *frame, unsigned len, int csum_blank);

#endif
