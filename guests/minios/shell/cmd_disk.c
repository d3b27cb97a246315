/*
 * Disk commands over blkfront: info, read, write, verify, flush, barrier, discard, bench,
 * use, wait (for a hot-plugged disk in the current slot).
 *
 * Test pattern (docs/minios.md, reproduced by the tests in Python/TypeScript): the
 * little-endian 32-bit word w (0..127) of sector s holds
 *   xorshift32((seed ^ (s mod 2^32) * 0x9E3779B1 ^ w * 0x85EBCA6B) | 1)
 * and crc= is the CRC-32 (zlib) of all bytes read or written, in disk order.
 */
#include "minios/shell/shell.h"
#include "minios/kernel/sched.h"
#include "minios/drivers/blkfront.h"
#include "minios/mm/mm.h"
#include "minios/xen/xenbus.h"

#define CHUNK_SECTORS 256          /* 128 KiB per I/O call */

static unsigned current;

static uint32_t disk_pattern(uint32_t seed, uint64_t s, unsigned w)
{
    return xorshift32((seed ^ (uint32_t)s * 0x9E3779B1U ^ w * 0x85EBCA6BU) | 1);
}

static void fill(uint32_t *buf, uint32_t seed, uint64_t sector, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned w = 0; w < 128; w++) buf[i * 128 + w] = disk_pattern(seed, sector + i, w);
}

static struct blkdev *dev(void)
{
    struct blkdev *d = blkfront_get(current);
    if (!d) printk("FAIL disk: no block device %u\n", current);
    return d;
}

static const char *err(int rc)
{
    if (rc == -XEN_ENOSYS) return "not supported by the backend";
    if (rc == -XEN_ENODEV) return "device not connected (unplugged)";
    return xb_strerror(rc);
}

static int do_info(struct blkdev *d)
{
    struct blk_info i;
    blk_get_info(d, &i);
    printk("OK disk info dev=%u node=%s connected=%d sectors=%llu sector_size=%u info=%u "
           "ring_pages=%u slots=%u indirect=%u flush=%d barrier=%d discard=%d reads=%llu "
           "writes=%llu errors=%llu\n",
           current, i.nodename, i.connected, (unsigned long long)i.sectors, i.sector_size, i.info,
           i.ring_pages, i.ring_size, i.max_indirect, i.flush, i.barrier, i.discard,
           (unsigned long long)i.reads, (unsigned long long)i.writes, (unsigned long long)i.errors);
    return CMD_OK;
}

/* read / write / verify / barrier over [start, start + count). */
static int transfer(struct blkdev *d, const char *what, uint64_t start, uint64_t count, uint32_t seed)
{
    uint32_t *buf = alloc_pages(CHUNK_SECTORS * 512 / PAGE_SIZE);
    uint32_t *want = 0;
    if (!buf) return cmd_fail(what, "out of memory");
    int verify = !strcmp(what, "disk verify");
    int write = !strcmp(what, "disk write") || !strcmp(what, "disk barrier");
    if (verify && !(want = alloc_pages(CHUNK_SECTORS * 512 / PAGE_SIZE))) {
        free_pages(buf, CHUNK_SECTORS * 512 / PAGE_SIZE);
        return cmd_fail(what, "out of memory");
    }
    uint32_t crc = 0;
    int rc = CMD_OK;
    uint64_t t0 = now_ns();
    for (uint64_t done = 0; done < count && rc == CMD_OK;) {
        unsigned n = (unsigned)MIN(count - done, (uint64_t)CHUNK_SECTORS);
        uint64_t s = start + done;
        int r;
        if (write) {
            fill(buf, seed, s, n);
            r = strcmp(what, "disk barrier") ? blk_write(d, s, n, buf) : blk_write_barrier(d, s, n, buf);
        } else {
            r = blk_read(d, s, n, buf);
        }
        if (r) {
            rc = r == -XEN_ENOSYS ? CMD_SKIP : CMD_FAIL;
            printk("%s %s: sectors %llu+%u: %s\n", rc == CMD_SKIP ? "SKIP" : "FAIL", what,
                   (unsigned long long)s, n, err(r));
            break;
        }
        if (verify) {
            fill(want, seed, s, n);
            for (unsigned i = 0; i < n * 128; i++) {
                if (buf[i] != want[i]) {
                    rc = cmd_fail(what, "sector %llu word %u is %08x, want %08x",
                                  (unsigned long long)(s + i / 128), i % 128, buf[i], want[i]);
                    break;
                }
            }
        }
        crc = crc32(crc, buf, n * 512);
        done += n;
    }
    uint64_t us = (now_ns() - t0) / 1000;
    if (rc == CMD_OK)
        printk("OK %s start=%llu count=%llu crc=%08x us=%llu\n", what, (unsigned long long)start,
               (unsigned long long)count, crc, (unsigned long long)us);
    free_pages(buf, CHUNK_SECTORS * 512 / PAGE_SIZE);
    if (want) free_pages(want, CHUNK_SECTORS * 512 / PAGE_SIZE);
    return rc;
}

static int bench(struct blkdev *d, int write, uint64_t secs, unsigned kib)
{
    unsigned nsec = kib * 2;
    if (!nsec || nsec > CHUNK_SECTORS) return cmd_fail("disk bench", "KiB per I/O must be 1..128");
    struct blk_info info;
    blk_get_info(d, &info);
    if (info.sectors < nsec) return cmd_fail("disk bench", "disk too small");
    void *buf = alloc_pages(CHUNK_SECTORS * 512 / PAGE_SIZE);
    if (!buf) return cmd_fail("disk bench", "out of memory");
    memset(buf, 0xA5, CHUNK_SECTORS * 512);
    uint64_t t0 = now_ns(), end = t0 + secs * NSEC_PER_SEC, ios = 0, s = 0;
    int rc = CMD_OK;
    while (now_ns() < end) {
        if (s + nsec > info.sectors) s = 0;
        int r = write ? blk_write(d, s, nsec, buf) : blk_read(d, s, nsec, buf);
        if (r) {
            rc = cmd_fail("disk bench", "%s", err(r));
            break;
        }
        s += nsec;
        ios++;
    }
    uint64_t ns = now_ns() - t0;
    if (rc == CMD_OK && ns)
        printk("OK disk bench %s io_kib=%u ios=%llu iops=%llu kib_per_s=%llu\n", write ? "write" : "read",
               kib, (unsigned long long)ios, (unsigned long long)(ios * NSEC_PER_SEC / ns),
               (unsigned long long)(ios * kib * NSEC_PER_SEC / ns));
    free_pages(buf, CHUNK_SECTORS * 512 / PAGE_SIZE);
    return rc;
}

static int do_disk(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "info";
    if (!strcmp(sub, "use")) {
        uint32_t n;
        if (argc != 3 || arg_u32(argv[2], "device", &n)) return CMD_FAIL;
        if (n >= BLKFRONT_MAX_DEVS) return cmd_fail("disk use", "at most %u devices", BLKFRONT_MAX_DEVS);
        current = n;
        printk("OK disk use %u\n", n);
        return CMD_OK;
    }
    if (!strcmp(sub, "wait")) {           /* for a hot-plugged (or replugged) disk, or its unplug */
        int gone = argc > 2 && !strcmp(argv[2], "gone");
        uint64_t secs = 30;
        if (argc > 3 + gone || (argc == 3 + gone && arg_u64(argv[2 + gone], "SECS", &secs)))
            return cmd_fail("disk wait", "usage: disk wait [gone] [SECS]");
        uint64_t t0 = now_ns();
        if (blkfront_wait(current, !gone, secs * NSEC_PER_SEC))
            return cmd_fail(gone ? "disk wait gone" : "disk wait", "device %u still %s after %llu s", current,
                            gone ? "connected" : "not connected", (unsigned long long)secs);
        uint64_t ms = (now_ns() - t0) / 1000000;
        if (gone) {
            printk("OK disk wait gone dev=%u waited_ms=%llu\n", current, (unsigned long long)ms);
            return CMD_OK;
        }
        struct blk_info i;
        blk_get_info(blkfront_get(current), &i);
        printk("OK disk wait dev=%u node=%s sectors=%llu waited_ms=%llu\n", current, i.nodename,
               (unsigned long long)i.sectors, (unsigned long long)ms);
        return CMD_OK;
    }
    struct blkdev *d = dev();
    if (!d) return CMD_FAIL;
    if (!strcmp(sub, "info")) return do_info(d);
    if (!strcmp(sub, "flush")) {
        int r = blk_flush(d);
        if (r == -XEN_ENOSYS) {
            printk("SKIP disk flush: %s\n", err(r));
            return CMD_SKIP;
        }
        if (r) return cmd_fail("disk flush", "%s", err(r));
        printk("OK disk flush\n");
        return CMD_OK;
    }
    if (!strcmp(sub, "bench")) {
        uint64_t secs = 5, kib = 4;
        if (argc < 3 || (strcmp(argv[2], "read") && strcmp(argv[2], "write")) ||
            (argc > 3 && arg_u64(argv[3], "SECS", &secs)) || (argc > 4 && arg_u64(argv[4], "KiB", &kib)))
            return cmd_fail("disk bench", "usage: disk bench read|write [SECS] [KiB]");
        return bench(d, !strcmp(argv[2], "write"), secs, (unsigned)kib);
    }
    uint64_t start, count, seed = 1;
    if (argc < 4 || arg_u64(argv[2], "start", &start) || arg_u64(argv[3], "count", &count) ||
        (argc > 4 && arg_u64(argv[4], "seed", &seed)))
        return cmd_fail("disk", "usage: disk read|write|verify|barrier|discard START COUNT [SEED]");
    struct blk_info info;
    blk_get_info(d, &info);
    if (start + count > info.sectors || start + count < start)
        return cmd_fail("disk", "sectors %llu+%llu beyond the disk (%llu)", (unsigned long long)start,
                        (unsigned long long)count, (unsigned long long)info.sectors);
    if (!strcmp(sub, "discard")) {
        int r = blk_discard(d, start, count);
        if (r == -XEN_ENOSYS) {
            printk("SKIP disk discard: %s\n", err(r));
            return CMD_SKIP;
        }
        if (r) return cmd_fail("disk discard", "%s", err(r));
        printk("OK disk discard start=%llu count=%llu\n", (unsigned long long)start,
               (unsigned long long)count);
        return CMD_OK;
    }
    char what[24];
    snprintf(what, sizeof(what), "disk %s", sub);
    if (strcmp(sub, "read") && strcmp(sub, "write") && strcmp(sub, "verify") && strcmp(sub, "barrier"))
        return cmd_fail("disk", "unknown subcommand \"%s\"", sub);
    return transfer(d, what, start, count, (uint32_t)seed);
}

const struct command disk_commands[] = {
    { "disk", "info|read|write|verify|barrier|discard|flush|bench|use|wait ...",
      "block device I/O (see docs/minios.md)", do_disk },
    { 0, 0, 0, 0 },
};
