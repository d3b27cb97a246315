/*
 * Hostile: grant-table operations a domU gets wrong on purpose. Per-op status codes, not
 * the call's return value, carry the refusals: a grant reference past the table
 * (GNTST_bad_gntref), a domain that does not exist (GNTST_bad_domain), a reference dom0
 * never granted us (GNTST_general_error), an unmap of a handle we never got
 * (GNTST_bad_handle), copies between unset references, a table larger than allowed; an
 * unknown command is -ENOSYS and an unreadable argument -EFAULT. The legitimate calls
 * (query_size, setup_table of our own table, a local copy) work.
 */
#include "lib/pvtest.h"

PVTEST("grant_table_hostile", "SUCCESS", 1, "", "bad grant refs, domains, handles; local grant ops");

void test_main(void)
{
    struct gnttab_query_size qs = { .dom = DOMID_SELF };
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 1), 0);
    CHECK_EQ(qs.status, GNTST_okay);
    pv_printf("grant table: %u of at most %u frames\n", qs.nr_frames, qs.max_nr_frames);
    CHECK_GE(qs.max_nr_frames, qs.nr_frames);
    CHECK_GT(qs.nr_frames, 0);

    xen_pfn_t frames[64];
    struct gnttab_setup_table st;
    memset(&st, 0, sizeof(st));
    st.dom = DOMID_SELF;
    st.nr_frames = 1;
    set_xen_guest_handle(st.frame_list, frames);
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    CHECK_EQ(st.status, GNTST_okay);
    st.nr_frames = qs.max_nr_frames + 1;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    CHECK_EQ(st.status, GNTST_general_error);
    st.dom = 31000;
    st.nr_frames = 1;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    CHECK_EQ(st.status, GNTST_bad_domain);

    /* Map grants nobody gave us. */
    void *slot = pvt_alloc_page();
    struct gnttab_map_grant_ref m;
    memset(&m, 0, sizeof(m));
    m.host_addr = (unsigned long)slot;
    m.flags = GNTMAP_host_map;
    m.ref = 100000;
    m.dom = 0;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1), 0);
    CHECK_EQ(m.status, GNTST_bad_gntref);
    m.ref = 8;
    m.dom = 0;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1), 0);
    CHECK_EQ(m.status, GNTST_general_error);  /* a ref dom0 has not granted to us */
    m.dom = 31000;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1), 0);
    CHECK_EQ(m.status, GNTST_bad_domain);

    struct gnttab_unmap_grant_ref u;
    memset(&u, 0, sizeof(u));
    u.host_addr = (unsigned long)slot;
    u.handle = 77;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1), 0);
    CHECK_EQ(u.status, GNTST_bad_handle);

    /* Copies: local frame to local frame works; grant refs nobody set do not. */
    uint8_t *src = pvt_alloc_page(), *dst = pvt_alloc_page();
    memcpy(src, "grant copy", 11);
    struct gnttab_copy c;
    memset(&c, 0, sizeof(c));
    c.source.u.gmfn = pvt_va_to_mfn((unsigned long)src);
    c.source.domid = DOMID_SELF;
    c.dest.u.gmfn = pvt_va_to_mfn((unsigned long)dst);
    c.dest.domid = DOMID_SELF;
    c.dest.offset = 100;
    c.len = 11;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_okay);
    CHECK_EQ(memcmp(dst + 100, "grant copy", 11), 0);
    c.dest.offset = 4090;  /* runs past the page */
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_bad_copy_arg);
    c.dest.offset = 0;
    c.flags = GNTCOPY_source_gref;
    c.source.u.ref = 9;
    c.source.domid = 0;
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_general_error);
    c.flags = 0;
    c.source.domid = 0;  /* a frame of another domain without a grant */
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1), 0);
    pv_printf("copy from a dom0 frame without a grant: status %d\n", c.status);
    CHECK_LT(c.status, 0);

    CHECK_EQ(HYPERVISOR_grant_table_op(99, &c, 1), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_grant_table_op(GNTTABOP_query_size, (void *)0x100, 1), -XEN_EFAULT);
}
