/*
 * Hostile: vcpu_op misuse. vCPUs past the domain's count (-ENOENT), initialising the
 * running vCPU again (-EEXIST), unknown commands, a vcpu_info placement that crosses a
 * page (-ENXIO) or names a frame that is not ours (-EINVAL), physical-CPU queries of an unpinned
 * vCPU, and finally a valid VCPUOP_register_vcpu_info (which Xen allows only once).
 */
#include "lib/pvtest.h"

PVTEST("vcpu_op_hostile", "SUCCESS", 1, "vcpus=1", "vcpu_op ids, contexts, vcpu_info placement");

static vcpu_guest_context_t ctx;

void test_main(void)
{
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, 0), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, 0), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffff, 0), -XEN_ENOENT);
    memset(&ctx, 0, sizeof(ctx));
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 0, &ctx), -XEN_EEXIST);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(99, 0, 0), -XEN_ENOSYS);

    struct vcpu_get_physid pid;
    long rc = HYPERVISOR_vcpu_op(VCPUOP_get_physid, 0, &pid);
    pv_printf("get_physid rc %ld\n", rc);
    CHECK_EQ(rc, -XEN_EINVAL);

    /* vcpu_info placement. */
    void *page = pvt_alloc_page();
    struct vcpu_register_vcpu_info vi;
    memset(&vi, 0, sizeof(vi));
    vi.mfn = pvt_va_to_mfn((unsigned long)page);
    vi.offset = PVT_PAGE_SIZE - 32;  /* a 64-byte vcpu_info would cross the page */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), -XEN_ENXIO);
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);
    vi.mfn = top - 1;
    vi.offset = 0;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 1, &vi), -XEN_ENOENT);

    /* A valid placement: Xen copies the current vcpu_info there and keeps it current;
     * a second registration is refused. */
    vi.mfn = pvt_va_to_mfn((unsigned long)page);
    vi.offset = 128;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), 0);
    volatile struct vcpu_info *moved = (volatile struct vcpu_info *)((char *)page + 128);
    CHECK_EQ(moved->evtchn_upcall_mask, 1);
    CHECK_NE_QUIET(moved->time.system_time, 0);
    vi.offset = 256;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), -XEN_EINVAL);
    /* The copy is live: system time computed from it agrees with the old record's. */
    uint64_t a = xen_system_time(&moved->time), b = pvt_now(), c = xen_system_time(&moved->time);
    CHECK_EQ(a <= b + 1000000ULL && b <= c + 1000000ULL, 1);
    /* Xen holds the page as a writable page: it cannot become a page table. */
    CHECK_EQ(pvt_set_writable((unsigned long)page, 0), 0);
    CHECK_EQ(pvt_pin(1, vi.mfn), -XEN_EINVAL);
}
