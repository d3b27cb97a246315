/*
 * Hostile: descriptors Xen must not let through. update_descriptor (and GDT/LDT pages) go
 * through Xen's check: DPL 0 code/data is rewritten to DPL 1, a 64-bit (L) code segment,
 * TSS, LDT, interrupt and task gates are refused (-EINVAL), a call gate is accepted only
 * with a guest target selector and no reserved bits (stored with DPL 0 and the original
 * DPL in the selector's RPL, so its use traps to Xen), a flat segment reaching into the
 * hypervisor hole is widened to 4 GiB (compat), not-present descriptors pass unchecked.
 */
#include "lib/pvtest.h"

PVTEST("bad_descriptors", "SUCCESS", 1, "", "DPL 0 segments, system descriptors, call gates");

static uint64_t *page;
static uint64_t page_ma;

static long upd(unsigned idx, uint64_t d)
{
    return HYPERVISOR_update_descriptor(page_ma + idx * 8, d);
}

void test_main(void)
{
    page = pvt_alloc_page();
    page_ma = (uint64_t)pvt_va_to_mfn((unsigned long)page) << 12;
    CHECK_EQ(pvt_set_writable((unsigned long)page, 0), 0);

    /* DPL 0 becomes DPL 1. */
    CHECK_EQ(upd(1, x86_desc(0, 0xfffff, X86_DESC_CODE(0), X86_DESC_FLAGS_32_4K)), 0);
    CHECK_EQ((page[1] >> 45) & 3, 1);
    CHECK_EQ(upd(2, x86_desc(0, 0xfffff, X86_DESC_DATA(0), X86_DESC_FLAGS_32_4K)), 0);
    CHECK_EQ((page[2] >> 45) & 3, 1);
    /* DPL 2 and 3 stay. */
    CHECK_EQ(upd(3, x86_desc(0, 0xfffff, X86_DESC_DATA(3), X86_DESC_FLAGS_32_4K)), 0);
    CHECK_EQ((page[3] >> 45) & 3, 3);

    /* A 64-bit code segment (L=1). */
    CHECK_EQ(upd(4, x86_desc(0, 0xfffff, X86_DESC_CODE(1), 0xa)), -XEN_EINVAL);
    /* System descriptors: 32-bit TSS (9), LDT (2), interrupt gate (0xe), trap gate (0xf),
     * task gate (5). */
    static const uint8_t sys_types[] = { 0x9, 0x2, 0xe, 0xf, 0x5, 0xb };
    for (unsigned i = 0; i < ARRAY_SIZE(sys_types); i++)
        CHECK_EQ(upd(4, x86_desc(0x1000, 0x67, 0x80 | (1 << 5) | sys_types[i], 0)), -XEN_EINVAL);
    CHECK_EQ(page[4], 0);

    /* Not present: anything goes. Type 0 system descriptor (a call gate's upper half). */
    CHECK_EQ(upd(5, 0x00007fffffffffffULL & ~(1ULL << 47)), 0);
    CHECK_EQ(upd(6, 0x0000800000000000ULL), 0);

    /* Call gates. To FLAT_KERNEL_CS with DPL 3: stored with DPL 0, RPL of the target = 3. */
    uint64_t gate = x86_call_gate(FLAT_KERNEL_CS, 0x123456, 3);
    CHECK_EQ(upd(7, gate), 0);
    CHECK_EQ((page[7] >> 45) & 3, 0);
    CHECK_EQ((page[7] >> 16) & 0xffff, (FLAT_KERNEL_CS & ~3) | 3);
    CHECK_EQ((page[7] & 0xffff) | ((page[7] >> 32) & 0xffff0000), 0x123456);
    /* To one of Xen's own selectors (0xe008 ring-0 code): refused. */
    CHECK_EQ(upd(8, x86_call_gate(0xe008, 0x1000, 3)), -XEN_EINVAL);
    /* Reserved bits (byte 4, bits 5-7) set: refused; a parameter count is fine. */
    CHECK_EQ(upd(8, gate | (0xe0ULL << 32)), -XEN_EINVAL);
    CHECK_EQ(upd(8, gate | (0x03ULL << 32)), 0);

    /* Compat: a flat segment limited at 0xf6800000 (old PAE Linux) is widened to 4 GiB. */
    CHECK_EQ(upd(9, x86_desc(0, 0xf67ff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K)), 0);
    CHECK_EQ((page[9] & 0xffff) | ((page[9] >> 32) & 0xf0000), 0xfffff);
    /* A segment not based at 0 keeps its limit. */
    CHECK_EQ(upd(10, x86_desc(0x1000, 0xf67ff, X86_DESC_DATA(1), X86_DESC_FLAGS_32_4K)), 0);
    CHECK_EQ((page[10] & 0xffff) | ((page[10] >> 32) & 0xf0000), 0xf67ff);

    /* A call gate as Xen stored it carries the gate's DPL in its target selector's RPL.
     * Validated again (as part of a GDT page), a target of FLAT_KERNEL_CS with RPL 3 is
     * no longer a selector a gate may name: the page is refused. */
    xen_pfn_t frames[1] = { (xen_pfn_t)(page_ma >> 12) };
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 512), -XEN_EINVAL);
    /* A gate to a guest GDT selector survives revalidation. */
    uint64_t *g = pvt_alloc_page();
    uint64_t g_ma = (uint64_t)pvt_va_to_mfn((unsigned long)g) << 12;
    CHECK_EQ(pvt_set_writable((unsigned long)g, 0), 0);
    CHECK_EQ(HYPERVISOR_update_descriptor(g_ma + 8, x86_desc(0, 0xfffff, X86_DESC_CODE(1), X86_DESC_FLAGS_32_4K)), 0);
    CHECK_EQ(HYPERVISOR_update_descriptor(g_ma + 16, x86_call_gate(X86_SEL(1, 0, 1), 0x1000, 3)), 0);
    CHECK_EQ((g[2] >> 16) & 0xffff, X86_SEL(1, 0, 3));
    frames[0] = (xen_pfn_t)(g_ma >> 12);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 512), 0);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 0), 0);
    /* The same checks guard a whole GDT page: one bad descriptor refuses the page, and a
     * refused page is not held. */
    CHECK_EQ(pvt_set_writable((unsigned long)g, 1), 0);
    g[11] = x86_desc(0x1000, 0x67, 0x89 | (1 << 5), 0);  /* TSS */
    CHECK_EQ(pvt_set_writable((unsigned long)g, 0), 0);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 512), -XEN_EINVAL);
    CHECK_EQ(pvt_set_writable((unsigned long)g, 1), 0);
}
