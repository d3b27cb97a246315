/*
 * Hostile: pinning and base-pointer requests that conflict with a frame's current use.
 * Pinning a frame already typed otherwise (an L2 as L1, a writable page), pinning twice,
 * an L4 for a PAE guest (ignored), frames that do not exist, an L1 mapping itself
 * writable, unknown mmuext commands, NEW_BASEPTR to
 * something that is not a valid L3, NEW_USER_BASEPTR (64-bit only), and a batch that stops
 * at its first failure with the done count.
 */
#include "lib/pvtest.h"

PVTEST("pin_conflicts", "SUCCESS", 1, "", "pin/baseptr type conflicts and bad mmuext commands");

void test_main(void)
{
    unsigned long l2 = (unsigned long)((pvt_l3e(0) & PVT_PTE_ADDR_MASK) >> 12);
    unsigned long l1 = (unsigned long)(pvt_pte_maddr((unsigned long)pvt_si) >> 12);
    void *data = pvt_alloc_page();
    unsigned long data_mfn = pvt_va_to_mfn((unsigned long)data);
    unsigned long top = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, 0);

    CHECK_EQ(pvt_pin(1, l2), -XEN_EINVAL);       /* an L2 as L1 */
    CHECK_EQ(pvt_pin(3, l2), -XEN_EINVAL);       /* an L2 as L3 */
    CHECK_EQ(pvt_pin(2, l1), -XEN_EINVAL);       /* an L1 as L2 */
    CHECK_EQ(pvt_pin(1, data_mfn), -XEN_EINVAL); /* mapped writable */
    /* An L4 pin from a PAE guest is ignored: success, and nothing happens to the frame. */
    CHECK_EQ(pvt_mmuext1(MMUEXT_PIN_L4_TABLE, data_mfn, 0, 0), 0);
    ((volatile uint32_t *)data)[0] = 1;
    CHECK_EQ(pvt_unpin(data_mfn), -XEN_EINVAL);
    CHECK_EQ(pvt_pin(1, top + 10), -XEN_EINVAL);

    /* A live L1 (typed, never pinned) may be pinned as L1; a second pin is refused. */
    CHECK_EQ(pvt_pin(1, l1), 0);
    CHECK_EQ(pvt_pin(1, l1), -XEN_EINVAL);
    CHECK_EQ(pvt_unpin(l1), 0);

    /* An L1 holding a writable mapping of itself cannot validate: its entry needs the
     * frame writable while it is becoming an L1 (-EBUSY, as for any writable mapping of
     * a table). */
    uint64_t *t = pvt_alloc_page();
    unsigned long tm = pvt_va_to_mfn((unsigned long)t);
    t[0] = ((uint64_t)tm << 12) | _PAGE_PRESENT | _PAGE_RW;
    CHECK_EQ(pvt_set_writable((unsigned long)t, 0), 0);
    CHECK_EQ(pvt_pin(1, tm), -XEN_EBUSY);
    /* Read-only self-mapping is fine. */
    CHECK_EQ(pvt_set_writable((unsigned long)t, 1), 0);
    t[0] = ((uint64_t)tm << 12) | _PAGE_PRESENT;
    CHECK_EQ(pvt_set_writable((unsigned long)t, 0), 0);
    CHECK_EQ(pvt_pin(1, tm), 0);
    CHECK_EQ(pvt_unpin(tm), 0);

    /* Unknown commands. */
    CHECK_EQ(pvt_mmuext1(99, 0, 0, 0), -XEN_ENOSYS);
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_USER_BASEPTR, pvt_l3_mfn(), 0, 0), -XEN_EINVAL);

    /* NEW_BASEPTR to an L1, an L2, a writable page, a frame not ours. */
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, l1, 0, 0), -XEN_EINVAL);
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, l2, 0, 0), -XEN_EINVAL);
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, data_mfn, 0, 0), -XEN_EINVAL);
    CHECK_EQ(pvt_mmuext1(MMUEXT_NEW_BASEPTR, top - 1, 0, 0), -XEN_EINVAL);
    pv_printf("still on our own L3\n");

    /* A batch: flush, bad pin, flush -> stops at the pin, done = 1. */
    struct mmuext_op ops[3];
    memset(ops, 0, sizeof(ops));
    ops[0].cmd = MMUEXT_TLB_FLUSH_LOCAL;
    ops[1].cmd = MMUEXT_PIN_L1_TABLE;
    ops[1].arg1.mfn = l2;
    ops[2].cmd = MMUEXT_TLB_FLUSH_LOCAL;
    unsigned done = 0;
    CHECK_EQ(HYPERVISOR_mmuext_op(ops, 3, &done, DOMID_SELF), -XEN_EINVAL);
    CHECK_EQ(done, 1);
}
