/*
 * Memory commands: mem (state), balloon (status / set / wait), memtest (fill, verify,
 * free: a pattern in allocated pages that must survive save/restore and ballooning).
 *
 * memtest pattern: 32-bit word w of the page at PFN p holds xorshift32 applied once to
 * (seed ^ p * 0x9E3779B1 ^ w * 0x85EBCA6B) | 1 -- PFNs, not MFNs, so a restore (which
 * moves every frame) must preserve it.
 */
#include "minios/shell/shell.h"
#include "minios/kernel/sched.h"
#include "minios/mm/mm.h"
#include "minios/mm/balloon.h"
#include "minios/xen/gnttab.h"
#include <xen/memory.h>

#define MEMTEST_MAX_PAGES 65536

static void **memtest_pages;
static unsigned long memtest_n;
static uint32_t memtest_seed;

static uint32_t pattern(uint32_t seed, unsigned long pfn, unsigned w)
{
    return xorshift32((seed ^ (uint32_t)pfn * 0x9E3779B1U ^ w * 0x85EBCA6BU) | 1);
}

static int do_mem(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    printk("OK mem nr_pages=%lu mapped=%lu free=%lu managed=%lu ballooned=%lu flipped_out=%lu "
           "current_pages=%lu target_pages=%lu xen_current=%ld xen_max=%ld grants_free=%u/%u\n",
           nr_pages, ram_pages, free_page_count(), total_managed_pages(), balloon_pages(),
           flip_pages_out, balloon_current(), balloon_target(), cur, max, gnttab_free_count(),
           gnttab_nr_entries());
    return CMD_OK;
}

static int settled_cond(void *u) { (void)u; return balloon_settled(); }

struct reach_arg { unsigned long pages; };
static int reached_cond(void *p) { return balloon_current() == ((struct reach_arg *)p)->pages; }

static int do_balloon(int argc, char **argv)
{
    domid_t self = DOMID_SELF;
    if (argc == 1 || (argc == 2 && !strcmp(argv[1], "status"))) {
        printk("OK balloon current_pages=%lu target_pages=%lu ballooned=%lu xen_current=%ld\n",
               balloon_current(), balloon_target(), balloon_pages(),
               HYPERVISOR_memory_op(XENMEM_current_reservation, &self));
        return CMD_OK;
    }
    uint64_t kib, secs = 30;
    if (argc >= 3 && !strcmp(argv[1], "set")) {
        if (argc != 3 || arg_u64(argv[2], "KiB", &kib)) return CMD_FAIL;
        balloon_set_target((unsigned long)(kib >> 2));
        wait_for(settled_cond, 0, 30 * NSEC_PER_SEC);
    } else if (argc >= 3 && !strcmp(argv[1], "wait")) {
        if (argc > 4 || arg_u64(argv[2], "KiB", &kib) || (argc == 4 && arg_u64(argv[3], "SECS", &secs)))
            return CMD_FAIL;
        struct reach_arg a = { (unsigned long)(kib >> 2) };
        if (!wait_for(reached_cond, &a, secs * NSEC_PER_SEC))
            return cmd_fail("balloon wait", "at %lu pages, not %lu, after %llu s", balloon_current(),
                            a.pages, (unsigned long long)secs);
    } else {
        return cmd_fail("balloon", "usage: balloon [status | set KIB | wait KIB [SECS]]");
    }
    long xen_cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    unsigned long want = (unsigned long)(kib >> 2);
    if (balloon_current() != want)
        return cmd_fail("balloon", "reached %lu pages of target %lu", balloon_current(), want);
    printk("OK balloon %s current_pages=%lu ballooned=%lu xen_current=%ld free=%lu\n", argv[1],
           balloon_current(), balloon_pages(), xen_cur, free_page_count());
    return CMD_OK;
}

static void memtest_free(void)
{
    for (unsigned long i = 0; i < memtest_n; i++) free_page(memtest_pages[i]);
    memtest_n = 0;
}

static int do_memtest(int argc, char **argv)
{
    if (argc < 2) return cmd_fail("memtest", "usage: memtest fill [MiB] [SEED] | verify | free");
    if (!memtest_pages) {
        memtest_pages = alloc_pages(MEMTEST_MAX_PAGES * sizeof(void *) / PAGE_SIZE);
        if (!memtest_pages) return cmd_fail("memtest", "no memory for the page list");
    }
    if (!strcmp(argv[1], "fill")) {
        uint64_t mib = 0, seed = 1;
        if (argc > 2 && arg_u64(argv[2], "MiB", &mib)) return CMD_FAIL;
        if (argc > 3 && arg_u64(argv[3], "seed", &seed)) return CMD_FAIL;
        memtest_free();
        unsigned long want = mib ? (unsigned long)(mib * 256) : free_page_count() / 2;
        if (want > MEMTEST_MAX_PAGES) want = MEMTEST_MAX_PAGES;
        memtest_seed = (uint32_t)seed;
        while (memtest_n < want) {
            uint32_t *p = alloc_page();
            if (!p) break;
            unsigned long pfn = virt_to_pfn(p);
            for (unsigned w = 0; w < PAGE_SIZE / 4; w++) p[w] = pattern(memtest_seed, pfn, w);
            memtest_pages[memtest_n++] = p;
        }
        if (memtest_n < want)
            return cmd_fail("memtest fill", "only %lu of %lu pages available", memtest_n, want);
        printk("OK memtest fill pages=%lu seed=%u\n", memtest_n, memtest_seed);
        return CMD_OK;
    }
    if (!strcmp(argv[1], "verify")) {
        if (!memtest_n) return cmd_fail("memtest verify", "nothing filled");
        for (unsigned long i = 0; i < memtest_n; i++) {
            const uint32_t *p = memtest_pages[i];
            unsigned long pfn = virt_to_pfn(p);
            for (unsigned w = 0; w < PAGE_SIZE / 4; w++) {
                uint32_t want = pattern(memtest_seed, pfn, w);
                if (p[w] != want)
                    return cmd_fail("memtest verify", "pfn %lx word %u is %08x, want %08x", pfn, w,
                                    p[w], want);
            }
        }
        printk("OK memtest verify pages=%lu\n", memtest_n);
        return CMD_OK;
    }
    if (!strcmp(argv[1], "free")) {
        unsigned long n = memtest_n;
        memtest_free();
        printk("OK memtest free pages=%lu\n", n);
        return CMD_OK;
    }
    return cmd_fail("memtest", "usage: memtest fill [MiB] [SEED] | verify | free");
}

const struct command mem_commands[] = {
    { "mem", "", "memory, balloon and grant state", do_mem },
    { "balloon", "[status|set KIB|wait KIB [SECS]]", "balloon state, local target, or wait", do_balloon },
    { "memtest", "fill [MiB] [SEED]|verify|free", "pattern test of allocated pages", do_memtest },
    { 0, 0, 0, 0 },
};
