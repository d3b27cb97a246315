/*
 * xen_version as a 32-bit PV domU sees it on Xen 4.x: version 4.x, the capability string,
 * platform parameters (the compat hypervisor hole), the feature submap of a PV guest with
 * extended CR3, pagesize (argument must be NULL), the domain handle, and the sub-ops an
 * unprivileged guest is denied (build_id -EPERM, commandline "<denied>").
 */
#include "lib/pvtest.h"

PVTEST("xen_version", "SUCCESS", 0, "", "XENVER_* queries, features, denied sub-ops");

void test_main(void)
{
    long v = HYPERVISOR_xen_version(XENVER_version, 0);
    pv_printf("Xen %ld.%ld\n", v >> 16, v & 0xffff);
    CHECK_EQ(v >> 16, 4);
    CHECK_GE(v & 0xffff, 0);

    char extra[XEN_EXTRAVERSION_LEN];
    memset(extra, 0x55, sizeof(extra));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, extra), 0);
    CHECK_EQ(extra[sizeof(extra) - 1], 0);
    pv_printf("extraversion \"%s\"\n", extra);

    static char caps[XEN_CAPABILITIES_INFO_LEN];
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_capabilities, caps), 0);
    pv_printf("capabilities \"%s\"\n", caps);
    CHECK(pv_strstr(caps, XEN_CAP_PV_X86_32P) != 0);

    xen_platform_parameters_t pp = { 0 };
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_platform_parameters, &pp), 0);
    CHECK_EQ(pp.virt_start, HYPERVISOR_VIRT_START);

    xen_feature_info_t fi = { .submap_idx = 0 };
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
    pv_printf("features submap 0 = %08x\n", fi.submap);
    CHECK_EQ(fi.submap & (1u << XENFEAT_writable_page_tables), 0);
    CHECK_EQ(fi.submap & (1u << XENFEAT_auto_translated_physmap), 0);
    CHECK_EQ(fi.submap & (1u << XENFEAT_dom0), 0);
    CHECK_NE(fi.submap & (1u << XENFEAT_pae_pgdir_above_4gb), 0);
    CHECK_NE(fi.submap & (1u << XENFEAT_mmu_pt_update_preserve_ad), 0);
    CHECK_NE(fi.submap & (1u << XENFEAT_highmem_assist), 0);
    CHECK_NE(fi.submap & (1u << XENFEAT_gnttab_map_avail_bits), 0);
    CHECK_EQ(fi.submap, (1u << XENFEAT_pae_pgdir_above_4gb) |
                            (1u << XENFEAT_mmu_pt_update_preserve_ad) |
                            (1u << XENFEAT_highmem_assist) | (1u << XENFEAT_gnttab_map_avail_bits) |
                            (1u << XENFEAT_memory_op_vnode_supported) |
                            (1u << XENFEAT_direct_mapped));
    fi.submap_idx = 1;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL);

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, 0), 4096);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, &fi), -XEN_EINVAL);

    xen_domain_handle_t h;
    memset(h, 0, sizeof(h));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_guest_handle, h), 0);
    unsigned nonzero = 0;
    for (unsigned i = 0; i < sizeof(h); i++) nonzero |= h[i];
    CHECK_NE(nonzero, 0);  /* xl gives every domain a UUID */

    xen_changeset_info_t cs;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_changeset, cs), 0);
    xen_compile_info_t ci;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_compile_info, &ci), 0);

    /* Privileged sub-ops: denied to a domU. */
    static char cmdline[XEN_COMMANDLINE_INFO_LEN];
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, cmdline), 0);
    pv_printf("commandline \"%s\"\n", cmdline);
    CHECK_EQ(pv_strncmp(cmdline, "<denied>", 9), 0);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_build_id, 0), -XEN_EPERM);

    /* Unknown sub-op; bad buffer. */
    CHECK_EQ(HYPERVISOR_xen_version(99, 0), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, (void *)HYPERVISOR_VIRT_START), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, 0), -XEN_EFAULT);
}
