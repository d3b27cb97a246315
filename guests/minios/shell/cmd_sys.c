/*
 * System commands: help, echo, sleep, time, info, xs, shutdown/reboot/crash, spin, smp,
 * wait, selftest.
 */
#include "minios/shell/shell.h"
#include "minios/kernel/sched.h"
#include "minios/kernel/smp.h"
#include "minios/kernel/control.h"
#include "minios/mm/mm.h"
#include "minios/xen/xenbus.h"
#include "minios/xen/gnttab.h"
#include "lib/xen/time.h"
#include <xen/version.h>
#include <xen/features.h>
#include <xen/memory.h>
#include <xen/io/xs_wire.h>

void shell_help(void);

static int do_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printk("commands (a ';'-separated list of them may come from the kernel command line):\n");
    shell_help();
    return CMD_OK;
}

static int do_echo(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) printk("%s%s", argv[i], i + 1 < argc ? " " : "");
    printk("\n");
    return CMD_OK;
}

/* "5" = 5 s, "250ms" = 250 ms, "10us". */
static int parse_duration(const char *s, uint64_t *ns)
{
    char num[24];
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9' && n < sizeof(num) - 1) {
        num[n] = s[n];
        n++;
    }
    num[n] = 0;
    uint64_t v;
    if (!n || parse_u64(num, &v)) return -1;
    const char *unit = s + n;
    if (!*unit || !strcmp(unit, "s")) *ns = v * NSEC_PER_SEC;
    else if (!strcmp(unit, "ms")) *ns = v * NSEC_PER_MSEC;
    else if (!strcmp(unit, "us")) *ns = v * NSEC_PER_USEC;
    else return -1;
    return 0;
}

static int do_sleep(int argc, char **argv)
{
    uint64_t ns;
    if (argc != 2 || parse_duration(argv[1], &ns)) return cmd_fail("sleep", "usage: sleep SECS|Nms");
    uint64_t t0 = now_ns();
    sleep_ns(ns);
    printk("OK sleep slept_us=%llu\n", (unsigned long long)((now_ns() - t0) / 1000));
    return CMD_OK;
}

static int do_time(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t sec;
    uint32_t nsec;
    uint64_t up = now_ns();
    if (!xen_wallclock(shared_info, &sec, &nsec)) return cmd_fail("time", "wall clock never settled");
    uint64_t wall = sec + (nsec + up % NSEC_PER_SEC) / NSEC_PER_SEC + up / NSEC_PER_SEC;
    printk("OK time uptime_ns=%llu wallclock_s=%llu\n", (unsigned long long)up,
           (unsigned long long)wall);
    return CMD_OK;
}

static int do_info(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char caps[XEN_CAPABILITIES_INFO_LEN], extra[XEN_EXTRAVERSION_LEN], name[64], domid[16];
    memset(caps, 0, sizeof(caps));
    memset(extra, 0, sizeof(extra));
    long ver = HYPERVISOR_xen_version(XENVER_version, 0);
    HYPERVISOR_xen_version(XENVER_extraversion, extra);
    HYPERVISOR_xen_version(XENVER_capabilities, caps);
    struct xen_feature_info fi = { .submap_idx = 0 };
    HYPERVISOR_xen_version(XENVER_get_features, &fi);
    if (xb_read(XBT_NIL, "name", name, sizeof(name)) < 0) strcpy_s(name, "?", sizeof(name));
    if (xb_read(XBT_NIL, "domid", domid, sizeof(domid)) < 0) strcpy_s(domid, "?", sizeof(domid));
    printk("OK info xen=%ld.%ld%s caps=\"%s\" features=%08x domid=%s name=%s nr_pages=%lu "
           "vcpus=%u/%u store=%lu/%u console=%lu/%u\n",
           ver >> 16, ver & 0xFFFF, extra, caps, fi.submap, domid, name, nr_pages, nr_cpus,
           nr_vcpus_exist, (unsigned long)start_info->store_mfn, start_info->store_evtchn,
           (unsigned long)start_info->console.domU.mfn, start_info->console.domU.evtchn);
    return CMD_OK;
}

static int do_xs(int argc, char **argv)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 1];
    if (argc < 3) return cmd_fail("xs", "usage: xs read|write|ls|rm PATH [VALUE]");
    int rc;
    if (!strcmp(argv[1], "read") && argc == 3) {
        rc = xb_read(XBT_NIL, argv[2], buf, sizeof(buf));
        if (rc < 0) return cmd_fail("xs read", "%s: %s", argv[2], xb_strerror(rc));
        printk("OK xs read %s = \"%s\"\n", argv[2], buf);
    } else if (!strcmp(argv[1], "write") && argc == 4) {
        rc = xb_write(XBT_NIL, argv[2], argv[3]);
        if (rc < 0) return cmd_fail("xs write", "%s: %s", argv[2], xb_strerror(rc));
        printk("OK xs write %s\n", argv[2]);
    } else if (!strcmp(argv[1], "ls") && argc == 3) {
        rc = xb_ls(XBT_NIL, argv[2], buf, sizeof(buf));
        if (rc < 0) return cmd_fail("xs ls", "%s: %s", argv[2], xb_strerror(rc));
        printk("OK xs ls %s:", argv[2]);
        const char *p = buf;
        for (int i = 0; i < rc; i++, p += strlen(p) + 1) printk(" %s", p);
        printk("\n");
    } else if (!strcmp(argv[1], "rm") && argc == 3) {
        rc = xb_rm(XBT_NIL, argv[2]);
        if (rc < 0) return cmd_fail("xs rm", "%s: %s", argv[2], xb_strerror(rc));
        printk("OK xs rm %s\n", argv[2]);
    } else {
        return cmd_fail("xs", "usage: xs read|write|ls|rm PATH [VALUE]");
    }
    return CMD_OK;
}

static int do_shutdown(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "poweroff";
    if (!strcmp(argv[0], "reboot")) how = "reboot";
    if (!strcmp(argv[0], "poweroff") || !strcmp(argv[0], "halt")) how = "poweroff";
    if (!strcmp(how, "poweroff")) kernel_shutdown(SHUTDOWN_poweroff, "shutdown command");
    if (!strcmp(how, "reboot")) kernel_shutdown(SHUTDOWN_reboot, "reboot command");
    if (!strcmp(how, "crash")) kernel_shutdown(SHUTDOWN_crash, "crash command");
    return cmd_fail("shutdown", "usage: shutdown [poweroff|reboot|crash]");
}

static int secondaries_done(void *u)
{
    (void)u;
    for (unsigned i = 1; i < MAX_CPUS; i++)
        if (cpus[i].online && cpus[i].spinning) return 0;
    return 1;
}

static int do_spin(int argc, char **argv)
{
    uint64_t ns = 0;
    if (argc > 2 || (argc == 2 && parse_duration(argv[1], &ns)))
        return cmd_fail("spin", "usage: spin [SECS|Nms]");
    uint64_t t0 = now_ns();
    uint64_t stop = ns ? t0 + ns : 0;
    printk("SPIN start cpus=%u ms=%llu%s\n", nr_cpus, (unsigned long long)(ns / NSEC_PER_MSEC),
           ns ? "" : " (until shutdown)");
    spin_stop_ns = stop;
    for (unsigned i = 1; i < MAX_CPUS; i++) {
        if (!cpus[i].online) continue;
        cpus[i].spinning = 1;
        smp_send_ipi(i, IPI_SPIN);
    }
    spin_workload(stop);
    if (!wait_for(secondaries_done, 0, 5 * NSEC_PER_SEC))
        return cmd_fail("spin", "a secondary vCPU did not finish");
    uint64_t elapsed = now_ns() - t0;
    printk("OK spin ms=%llu elapsed_ms=%llu", (unsigned long long)(ns / NSEC_PER_MSEC),
           (unsigned long long)(elapsed / NSEC_PER_MSEC));
    for (unsigned i = 0; i < MAX_CPUS; i++)
        if (cpus[i].online) printk(" cpu%u=%llu", i, (unsigned long long)cpus[i].spin_iters);
    printk("\n");
    return CMD_OK;
}

static int do_smp(int argc, char **argv)
{
    uint32_t rounds = 100;
    if (argc > 2 || (argc == 2 && arg_u32(argv[1], "rounds", &rounds))) return CMD_FAIL;
    printk("OK smp vcpus=%u online=%u\n", nr_vcpus_exist, nr_cpus);
    int rc = CMD_OK;
    for (unsigned i = 1; i < MAX_CPUS; i++) {
        if (!cpus[i].online) continue;
        uint64_t ns;
        int r = smp_ipi_pingpong(i, rounds, &ns);
        if (r) rc = cmd_fail("smp ipi", "cpu %u: %s", i, xb_strerror(r));
        else
            printk("OK smp ipi cpu=%u rounds=%u avg_rtt_us=%llu\n", i, rounds,
                   (unsigned long long)(ns / rounds / 1000));
    }
    return rc;
}

static int resumed_cond(void *p) { return resume_count != *(uint32_t *)p; }

static int do_wait(int argc, char **argv)
{
    uint64_t secs = 60;
    if (argc < 2 || argc > 3 || (argc == 3 && arg_u64(argv[2], "seconds", &secs)))
        return cmd_fail("wait", "usage: wait resume|shutdown [SECS]");
    if (!strcmp(argv[1], "resume")) {
        uint32_t seen = resume_count;
        printk("WAIT resume (up to %llu s)\n", (unsigned long long)secs);
        if (!wait_for(resumed_cond, &seen, secs * NSEC_PER_SEC))
            return cmd_fail("wait resume", "no suspend/resume within %llu s", (unsigned long long)secs);
        printk("OK wait resume count=%u new_domain=%u\n", resume_count, resume_new_domain);
        return CMD_OK;
    }
    if (!strcmp(argv[1], "shutdown")) {
        printk("WAIT shutdown (up to %llu s)\n", (unsigned long long)secs);
        wait_for(0, 0, secs * NSEC_PER_SEC);   /* the control poller shuts us down */
        return cmd_fail("wait shutdown", "no shutdown request within %llu s", (unsigned long long)secs);
    }
    return cmd_fail("wait", "usage: wait resume|shutdown [SECS]");
}

/* Grant a page to ourselves and check map, copy and transfer against it. */
static int selftest_gnttab(void)
{
    char dom[16];
    uint32_t self;
    if (xb_read(XBT_NIL, "domid", dom, sizeof(dom)) < 0 || parse_u32(dom, &self))
        return cmd_fail("selftest gnttab", "cannot read our domid");
    uint8_t *src = alloc_page(), *dst = alloc_page(), *xfer = alloc_page();
    if (!src || !dst || !xfer) return cmd_fail("selftest gnttab", "out of memory");
    for (unsigned i = 0; i < PAGE_SIZE; i++) src[i] = (uint8_t)(i * 7 + 3);
    memset(dst, 0, PAGE_SIZE);
    int rc = CMD_OK;

    /* map: our own grant at a map-area VA, read-only */
    grant_ref_t ref = gnttab_grant_access((domid_t)self, virt_to_mfn(src), 1);
    uint8_t *va = map_area_alloc();
    if (!va) return cmd_fail("selftest gnttab", "map area full");
    struct gnttab_map_grant_ref map = {
        .host_addr = (uintptr_t)va, .flags = GNTMAP_host_map | GNTMAP_readonly, .ref = ref,
        .dom = (domid_t)self,
    };
    long hc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &map, 1);
    if (hc || map.status != GNTST_okay) {
        rc = cmd_fail("selftest gnttab", "map: rc=%ld status=%d (%s)", hc, map.status,
                      gnttab_status_str(map.status));
    } else {
        if (memcmp(va, src, PAGE_SIZE)) rc = cmd_fail("selftest gnttab", "mapped page differs");
        if (gnttab_end_access(ref)) rc = cmd_fail("selftest gnttab", "revoked a mapped grant");
        struct gnttab_unmap_grant_ref un = { .host_addr = (uintptr_t)va, .handle = map.handle };
        hc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &un, 1);
        if (hc || un.status != GNTST_okay)
            rc = cmd_fail("selftest gnttab", "unmap: rc=%ld status=%d", hc, un.status);
        else
            printk("OK selftest gnttab map ref=%u handle=%u\n", ref, map.handle);
    }
    map_area_free(va);
    if (!gnttab_end_access(ref)) rc = cmd_fail("selftest gnttab", "cannot revoke after unmap");

    /* copy: from our grant (source gref) into a local frame */
    ref = gnttab_grant_access((domid_t)self, virt_to_mfn(src), 1);
    struct gnttab_copy cp = {
        .source = { .u = { .ref = ref }, .domid = (domid_t)self, .offset = 100 },
        .dest = { .u = { .gmfn = virt_to_mfn(dst) }, .domid = DOMID_SELF, .offset = 200 },
        .len = 1000, .flags = GNTCOPY_source_gref,
    };
    hc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &cp, 1);
    if (hc || cp.status != GNTST_okay)
        rc = cmd_fail("selftest gnttab", "copy: rc=%ld status=%d (%s)", hc, cp.status,
                      gnttab_status_str(cp.status));
    else if (memcmp(dst + 200, src + 100, 1000))
        rc = cmd_fail("selftest gnttab", "copied bytes differ");
    else
        printk("OK selftest gnttab copy len=1000\n");
    gnttab_end_access(ref);

    /* transfer: give xfer's frame to ourselves through an accept-transfer grant on a
     * vacant pfn (the rx-flip receive path). */
    memset(xfer, 0x5A, PAGE_SIZE);
    unsigned long vacant_pfn = virt_to_pfn(dst);
    unsigned long old_dst_mfn = virt_to_mfn(dst);
    if (set_pte((unsigned long)dst, 0)) return cmd_fail("selftest gnttab", "cannot unmap");
    p2m[vacant_pfn] = INVALID_MFN;
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
    xen_pfn_t give = old_dst_mfn;
    set_xen_guest_handle(r.extent_start, &give);
    if (HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r) != 1)
        return cmd_fail("selftest gnttab", "decrease_reservation failed");
    ref = gnttab_grant_transfer((domid_t)self, vacant_pfn);
    unsigned long xfer_mfn = virt_to_mfn(xfer);
    if (set_pte((unsigned long)xfer, 0)) return cmd_fail("selftest gnttab", "cannot unmap");
    p2m[virt_to_pfn(xfer)] = INVALID_MFN;
    struct gnttab_transfer t = { .mfn = xfer_mfn, .domid = (domid_t)self, .ref = ref };
    hc = HYPERVISOR_grant_table_op(GNTTABOP_transfer, &t, 1);
    unsigned long got = gnttab_end_transfer(ref);
    if (hc || t.status != GNTST_okay || !got) {
        rc = cmd_fail("selftest gnttab", "transfer: rc=%ld status=%d (%s) mfn=%lx", hc, t.status,
                      gnttab_status_str(t.status), got);
    } else {
        struct mmu_update u = { .ptr = ((uint64_t)got << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE,
                                .val = vacant_pfn };
        HYPERVISOR_mmu_update(&u, 1, 0, DOMID_SELF);
        p2m[vacant_pfn] = got;
        set_pte((unsigned long)dst, ((uint64_t)got << PAGE_SHIFT) | PTE_KERNEL);
        if (dst[0] != 0x5A || dst[PAGE_SIZE - 1] != 0x5A)
            rc = cmd_fail("selftest gnttab", "transferred page has the wrong contents");
        else
            printk("OK selftest gnttab transfer mfn=%lx\n", got);
    }
    /* xfer's pfn is vacant now (its frame moved): take a fresh frame for it. */
    xen_pfn_t pf = virt_to_pfn(xfer);
    struct xen_memory_reservation pop = { .nr_extents = 1, .domid = DOMID_SELF };
    set_xen_guest_handle(pop.extent_start, &pf);
    if (HYPERVISOR_memory_op(XENMEM_populate_physmap, &pop) == 1) {
        p2m[virt_to_pfn(xfer)] = pf;
        set_pte((unsigned long)xfer, ((uint64_t)pf << PAGE_SHIFT) | PTE_KERNEL);
        free_page(xfer);
    }
    if (p2m[vacant_pfn] != INVALID_MFN) free_page(dst);
    free_page(src);
    return rc;
}

static int do_selftest(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "gnttab")) return selftest_gnttab();
    return cmd_fail("selftest", "usage: selftest gnttab");
}

const struct command sys_commands[] = {
    { "help", "", "list the commands", do_help },
    { "echo", "TEXT...", "print the text", do_echo },
    { "sleep", "SECS|Nms", "run the event loop for a while", do_sleep },
    { "time", "", "uptime and wall clock", do_time },
    { "info", "", "Xen version, features, domain", do_info },
    { "xs", "read|write|ls|rm PATH [VAL]", "xenstore access", do_xs },
    { "shutdown", "[poweroff|reboot|crash]", "print the verdict and shut down", do_shutdown },
    { "poweroff", "", "shutdown poweroff", do_shutdown },
    { "halt", "", "shutdown poweroff", do_shutdown },
    { "reboot", "", "shutdown reboot", do_shutdown },
    { "spin", "[SECS|Nms]", "CPU-bound loop on every vCPU (forever without a duration)", do_spin },
    { "smp", "[ROUNDS]", "vCPUs and IPI round trips to each", do_smp },
    { "wait", "resume|shutdown [SECS]", "wait for a suspend/resume or a shutdown request", do_wait },
    { "selftest", "gnttab", "grant map/copy/transfer to ourselves", do_selftest },
    { 0, 0, 0, 0 },
};
