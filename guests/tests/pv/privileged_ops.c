/*
 * Hostile: control operations from an unprivileged domain. domctl, sysctl and
 * platform_op first check the caller's interface version (-EACCES for any other) and then
 * privilege (-EPERM); an unreadable argument is -EFAULT. Everything that acts on another
 * domain is refused: remote shutdown, event channels and memory of dom0, kexec, pirq
 * mapping, grant-table setup for dom0 (per-op status).
 */
#include "lib/pvtest.h"

PVTEST("privileged_ops", "SUCCESS", 1, "", "domctl/sysctl/platform_op and cross-domain ops from a domU");

/* The fixed head of struct xen_domctl, xen_sysctl and xen_platform_op: cmd (u32 at 0),
 * interface_version (u32 at 4). A C header for them is requested from src/abi
 * (docs/pv-tests.md); until then these two word offsets are spelled here. */
#define CTL_CMD_WORD 0
#define CTL_VERSION_WORD 1

/* Try interface versions 0..255 and 0x03000000..0x030000ff (platform_op numbers its
 * versions major << 24 | minor) with an otherwise zero request; count the -EACCES (wrong
 * version) and -EPERM (right version, not privileged) answers. */
static void scan(const char *what, unsigned nr, unsigned *eacces, unsigned *eperm, unsigned *other)
{
    static uint32_t buf[256];
    *eacces = *eperm = *other = 0;
    for (unsigned i = 0; i < 512; i++) {
        unsigned v = i < 256 ? i : 0x03000000u + (i - 256);
        memset(buf, 0, sizeof(buf));
        buf[CTL_VERSION_WORD] = v;
        long rc = xen_hypercall(nr, (long)buf, 0, 0, 0, 0);
        if (rc == -XEN_EACCES) (*eacces)++;
        else if (rc == -XEN_EPERM) (*eperm)++;
        else {
            if (!*other) pv_printf("%s version %u: rc %ld\n", what, v, rc);
            (*other)++;
        }
    }
}

void test_main(void)
{
    unsigned acc, perm, other;
    static const struct { const char *name; unsigned nr; } ctl[] = {
        { "domctl", __HYPERVISOR_domctl },
        { "sysctl", __HYPERVISOR_sysctl },
        { "platform_op", __HYPERVISOR_platform_op },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(ctl); i++) {
        pv_printf("%s:\n", ctl[i].name);
        CHECK_EQ(xen_hypercall(ctl[i].nr, 0x100, 0, 0, 0, 0), -XEN_EFAULT);
        scan(ctl[i].name, ctl[i].nr, &acc, &perm, &other);
        CHECK_EQ(perm, 1);
        CHECK_EQ(acc, 511);
        CHECK_EQ(other, 0);
    }

    /* Remote shutdown of dom0, and of a domain that does not exist. */
    struct sched_remote_shutdown rs = { .domain_id = 0, .reason = SHUTDOWN_poweroff };
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -XEN_EPERM);
    rs.domain_id = 31000;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -XEN_ESRCH);

    /* Event channels of dom0. */
    struct evtchn_alloc_unbound au = { .dom = 0, .remote_dom = DOMID_SELF };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), -XEN_EPERM);
    struct evtchn_status st = { .dom = 0, .port = 1 };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), -XEN_EPERM);
    struct evtchn_reset er = { .dom = 0 };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &er), -XEN_EPERM);

    /* Memory of dom0: queries are -EPERM, reservation changes report 0 extents done. */
    domid_t dom0 = 0, nobody = 31000;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &dom0), -XEN_EPERM);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_maximum_reservation, &dom0), -XEN_EPERM);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &nobody), -XEN_ESRCH);
    xen_pfn_t ext[1] = { 0 };
    struct xen_memory_reservation r;
    memset(&r, 0, sizeof(r));
    set_xen_guest_handle(r.extent_start, ext);
    r.nr_extents = 1;
    r.domid = 0;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_increase_reservation, &r), 0);
    ext[0] = pvt_p2m[pvt_si->nr_pages - 1];
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 0);

    /* kexec: refused before its arguments are looked at. */
    CHECK_EQ(xen_hypercall(__HYPERVISOR_kexec_op, 0, 0, 0, 0, 0), -XEN_EPERM);

    /* A pirq for dom0. */
    struct physdev_map_pirq mp;
    memset(&mp, 0, sizeof(mp));
    mp.domid = 0;
    mp.type = MAP_PIRQ_TYPE_GSI;
    mp.index = 9;
    mp.pirq = -1;
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_map_pirq, &mp), -XEN_EPERM);

    /* Grant-table setup for dom0: the call succeeds, the op's status says no. */
    struct gnttab_setup_table gs;
    xen_pfn_t frames[1];
    memset(&gs, 0, sizeof(gs));
    gs.dom = 0;
    gs.nr_frames = 1;
    set_xen_guest_handle(gs.frame_list, frames);
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &gs, 1), 0);
    CHECK_EQ(gs.status, GNTST_permission_denied);
}
