/*
 * Hostile: pointers into the hypervisor's part of the address space (at and above
 * HYPERVISOR_VIRT_START, 0xf5800000 for a PAE guest). The guest itself may read the
 * read-only M2P there and nothing else: writes fault (#PF, present|write), reads past the
 * M2P fault (not present). Hypercall arguments: for a 32-bit guest of a 64-bit Xen the
 * whole 4 GiB is guest address space, so Xen reads arguments in the M2P like any other
 * readable memory (not tested: their meaning would be the M2P's contents); outputs there
 * fail on the write (-EFAULT), and anything unmapped in the hole is -EFAULT. VAs in the
 * hole cannot be (re)mapped (-EINVAL); Xen's own L2 slots cannot be written (-EPERM).
 */
#include "lib/pvtest.h"

PVTEST("hypervisor_pointers", "SUCCESS", 1, "", "guest and hypercall access to the hypervisor hole");

#define T pvt_last_trap
#define HV HYPERVISOR_VIRT_START

void test_main(void)
{
    /* Direct access from ring 1. */
    volatile uint32_t *m2p = (volatile uint32_t *)HV;
    pvt_trap_reset();
    uint32_t v = m2p[pvt_p2m[0]];
    CHECK_EQ(T.count, 0);
    CHECK_EQ(v, 0);  /* PFN 0's frame maps back to PFN 0 */
    PVT_TRY("movl %%eax, (%0)", : : "r"(HV), "a"(0));
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.error_code, X86_PFEC_PRESENT | X86_PFEC_WRITE);
    CHECK_EQ(T.cr2, HV);
    pvt_trap_reset();
    PVT_TRY("movl (%0), %%eax", : : "r"(0xffe00000u) : "eax");
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.error_code & X86_PFEC_WRITE, 0);
    CHECK_EQ(T.cr2, 0xffe00000u);
    pvt_trap_reset();
    PVT_TRY("movl (%0), %%eax", : : "r"(0xfffff000u) : "eax");
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.cr2, 0xfffff000u);

    /* Hypercall arguments. */
    char buf[64];
    (void)buf;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, (void *)HV), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, (void *)0xfffff000u), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_capabilities, (void *)0xfffffc00u), -XEN_EFAULT);
    domid_t self = DOMID_SELF;
    (void)self;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, (void *)0xfffff000u), -XEN_EFAULT);
    unsigned done = 3;
#define UNMAPPED 0xfffff000u
    CHECK_EQ(HYPERVISOR_mmu_update((struct mmu_update *)UNMAPPED, 1, &done, DOMID_SELF), -XEN_EFAULT);
    CHECK_EQ(done, 0);
    CHECK_EQ(HYPERVISOR_mmuext_op((struct mmuext_op *)UNMAPPED, 1, 0, DOMID_SELF), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_multicall((multicall_entry_t *)UNMAPPED, 1), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_set_gdt((xen_pfn_t *)UNMAPPED, 1), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_set_trap_table((struct trap_info *)UNMAPPED), -XEN_EFAULT);
    struct sched_poll poll;
    set_xen_guest_handle(poll.ports, (evtchn_port_t *)UNMAPPED);
    poll.nr_ports = 1;
    poll.timeout = 0;
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), -XEN_EFAULT);
    /* Outputs into the read-only M2P. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)HV), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_guest_handle, (void *)(HV + 0x100)), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, (void *)0xfffff000u), -XEN_EFAULT);

    /* Mapping over the hole. */
    uint64_t pte = ((uint64_t)pvt_p2m[0] << 12) | _PAGE_PRESENT;
    CHECK_EQ(HYPERVISOR_update_va_mapping(HV, pte, UVMF_INVLPG), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping(0xfffff000u, pte, UVMF_INVLPG), -XEN_EINVAL);
    /* Xen's slots of the slot-3 L2 (first = HV >> 21 & 511). */
    uint64_t l2x = pvt_l3e(0xc0000000) & PVT_PTE_ADDR_MASK;
    uint64_t slot_ptr = l2x + ((HV >> 21) & 511) * 8;
    CHECK_EQ(pvt_mmu_update1(slot_ptr | MMU_NORMAL_PT_UPDATE, 0, &done, DOMID_SELF), -XEN_EPERM);
    CHECK_EQ(done, 0);
    CHECK_EQ(pvt_mmu_update1((l2x + 511 * 8) | MMU_NORMAL_PT_UPDATE, 0, 0, DOMID_SELF), -XEN_EPERM);
    /* The last guest slot below the hole is still ours to change. */
    uint64_t last = l2x + (((HV >> 21) & 511) - 1) * 8;
    CHECK_EQ(pvt_mmu_update1(last | MMU_NORMAL_PT_UPDATE, 0, 0, DOMID_SELF), 0);
    CHECK_EQ(m2p[pvt_p2m[1]], 1);
}
