/*
 * blkfront: the PV block frontend (blkif, pv-devices.md §3).
 *
 * Connection (xenstore.md §10): wait for the backend's InitWait, read its limits
 * (max-ring-page-order, feature-max-indirect-segments), allocate and grant the ring
 * page(s), allocate an unbound port for the backend, write ring-ref (or
 * ring-page-order + ring-refN), event-channel and protocol=x86_32-abi in one
 * transaction (retried on EAGAIN), switch to Initialised, wait for Connected, read
 * sectors/info/sector-size and the features, switch to Connected.
 *
 * Invariants:
 * - Each ring slot in flight has a shadow entry (id = shadow index) holding every grant
 *   it uses; grants are ended when the response arrives, never before.
 * - Data pages are granted writable for reads and read-only for writes; indirect
 *   segment pages read-only.
 * - I/O is synchronous for the caller but several requests are in flight at once; a
 *   response with an unknown id or a response count beyond the ring is a backend bug,
 *   reported and ignored.
 *
 * Hot plug (xenstore.md §10, as Linux blkfront): a watch on device/vbd connects devices
 * that appear while we run; a backend that goes Closing (libxl's unplug: online 0,
 * state 5) or disappears closes the device: no new I/O (-ENODEV), the requests in flight
 * finish (bounded), Closing, Closed, then requests without a response fail, and the ring
 * grants, data grants and port are given back. Each close bumps the device's generation,
 * so a caller still waiting on the old ring returns -ENODEV instead of waiting on a new one.
 */
#ifndef MINIOS_BLKFRONT_H
#define MINIOS_BLKFRONT_H
#include "minios/kernel/kernel.h"

struct blkdev;
#define BLKFRONT_MAX_DEVS 4

void blkfront_init(void);
/* Slots ever used; a slot keeps its index across unplug and replug (a new device takes the
 * slot of a removed one), so `disk use N` keeps meaning the same disk. */
unsigned blkfront_count(void);
struct blkdev *blkfront_get(unsigned index);
/* Wait until slot `index` holds a connected device (connected = 1) or none (0, after an
 * unplug); 0 or -XEN_ETIME. */
int blkfront_wait(unsigned index, int connected, uint64_t timeout_ns);

struct blk_info {
    const char *nodename;
    unsigned devid;
    uint64_t sectors;          /* in 512-byte units */
    unsigned sector_size;
    unsigned info;             /* VDISK_* */
    int flush, barrier, discard;
    unsigned max_indirect;     /* segments per indirect request in use (0: none) */
    unsigned ring_pages, ring_size;
    int connected;
    uint64_t reads, writes, flushes, discards, errors;
};
void blk_get_info(struct blkdev *d, struct blk_info *out);

/* buf must be 512-byte aligned, in our RAM; nsec in 512-byte sectors. */
int blk_read(struct blkdev *d, uint64_t sector, unsigned nsec, void *buf);
int blk_write(struct blkdev *d, uint64_t sector, unsigned nsec, const void *buf);
int blk_write_barrier(struct blkdev *d, uint64_t sector, unsigned nsec, const void *buf);
int blk_flush(struct blkdev *d);
int blk_discard(struct blkdev *d, uint64_t sector, uint64_t nsec);

#endif
