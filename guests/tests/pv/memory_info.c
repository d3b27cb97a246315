/*
 * memory_op queries: the guest memory map the toolstack set, the M2P window
 * (machphys_mapping) and its backing frames (machphys_mfn_list), and the ops a domU may
 * not use (machine_memory_map) or that do not apply to PV (add_to_physmap).
 */
#include "lib/pvtest.h"

PVTEST("memory_info", "SUCCESS", 0, "memory=32", "XENMEM memory_map, machphys_mapping/mfn_list, refused ops");

void test_main(void)
{
    static struct xen_memory_map_entry { uint64_t addr, size; uint32_t type; } __attribute__((packed)) e820[16];
    struct xen_memory_map map;
    map.nr_entries = ARRAY_SIZE(e820);
    set_xen_guest_handle(map.buffer, e820);
    long rc = HYPERVISOR_memory_op(XENMEM_memory_map, &map);
    pv_printf("memory_map rc %ld entries %u\n", rc, map.nr_entries);
    for (unsigned i = 0; rc == 0 && i < map.nr_entries && i < ARRAY_SIZE(e820); i++)
        pv_printf("  e820[%u] %llx +%llx type %u\n", i, e820[i].addr, e820[i].size, e820[i].type);
    CHECK_EQ(rc, 0);
    CHECK_EQ(map.nr_entries, 1);
    CHECK_EQ(e820[0].addr, 0);
    CHECK_EQ(e820[0].type, 1);
    CHECK_EQ(e820[0].size, (uint64_t)pvt_si->nr_pages << 12);

    struct xen_machphys_mapping mm;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mapping, &mm), 0);
    CHECK_EQ(mm.v_start, HYPERVISOR_VIRT_START);
    CHECK_EQ(mm.v_end, 0xffe00000u);
    CHECK_EQ(mm.max_mfn, (mm.v_end - mm.v_start) / 4 - 1);

    static xen_pfn_t mfns[64];
    struct xen_machphys_mfn_list ml;
    ml.max_extents = ARRAY_SIZE(mfns);
    set_xen_guest_handle(ml.extent_start, mfns);
    ml.nr_extents = 0;
    rc = HYPERVISOR_memory_op(XENMEM_machphys_mfn_list, &ml);
    pv_printf("machphys_mfn_list rc %ld nr_extents %u\n", rc, ml.nr_extents);
    CHECK_EQ(rc, 0);
    CHECK_GT(ml.nr_extents, 0);

    domid_t self = DOMID_SELF;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machine_memory_map, &map), -XEN_EPERM);
    struct xen_add_to_physmap xatp = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = 0x300 };
    rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    CHECK_EQ(rc, -XEN_EACCES);  /* PV guests are not translated */
    CHECK_EQ(HYPERVISOR_memory_op(99, &self), -XEN_ENOSYS);
}
