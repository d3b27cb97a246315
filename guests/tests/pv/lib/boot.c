/*
 * Start of day for a PV test kernel: from the builder's state to test_main().
 *
 * Order matters: the hypercall page must be checked before any hypercall; the M2P must be
 * found (XENMEM_machphys_mapping) before the console ring's VA can be derived from its
 * MFN; the console must work before anything is reported. Until then a failure can only
 * be signalled by crashing the domain (ud2 with no trap table installed).
 */
#include "pvtest.h"

extern char __user_start[], __user_end[];
void pvtest_start(start_info_t *si);
void pvt_mm_init(void);

start_info_t *pvt_si;
volatile shared_info_t *pvt_shared;
const xen_pfn_t *pvt_p2m;
const volatile uint32_t *pvt_m2p;
unsigned long pvt_m2p_end;
unsigned long pvt_max_mfn;
uint32_t pvt_boot_esp;

/* The VA where shared_info is mapped: a page of our own image whose frame we give up. */
static uint8_t shared_info_page[PVT_PAGE_SIZE] __attribute__((aligned(4096), section(".bss.pages")));

__attribute__((noreturn)) static void die_silently(void)
{
    for (;;) __asm__ volatile("ud2");
}

static void setup_console(void)
{
    unsigned long mfn = pvt_si->console.domU.mfn;
    void *ring = 0;
    if (mfn <= pvt_max_mfn) {
        unsigned long pfn = pvt_m2p[mfn];
        if (pfn < pvt_si->nr_pages && pvt_p2m[pfn] == mfn) ring = (void *)(pfn << 12);
    }
    if (!ring) die_silently();
    xen_console_init(ring, pvt_si->console.domU.evtchn);
}

void pvt_install_traps(void)
{
    static struct trap_info table[34];
    unsigned n = 0;
    for (unsigned v = 0; v < 32; v++) {
        if (v == X86_EXC_NMI) continue;
        table[n].vector = (uint8_t)v;
        /* int3 and into may be raised from any ring, like on bare metal. */
        table[n].flags = (v == X86_EXC_BP || v == X86_EXC_OF) ? 3 : 0;
        table[n].cs = FLAT_KERNEL_CS;
        table[n].address = pvt_trap_stubs[v];
        n++;
    }
    table[n].vector = PVT_VEC_USER_RET;
    table[n].flags = 3;
    table[n].cs = FLAT_KERNEL_CS;
    table[n].address = pvt_trap_stubs[PVT_VEC_USER_RET];
    n++;
    table[n].address = 0; /* terminator */
    long rc = HYPERVISOR_set_trap_table(table);
    if (rc) pvtest_error("set_trap_table failed: %ld", rc);
}

static void setup_traps(void)
{
    pvt_install_traps();
    long rc = HYPERVISOR_set_callbacks(FLAT_KERNEL_CS, (unsigned long)pvt_event_entry, FLAT_KERNEL_CS,
                                  (unsigned long)pvt_failsafe_entry);
    if (rc) pvtest_error("set_callbacks failed: %ld", rc);
}

/* Give the user sections _PAGE_USER so ring 3 can run pvt_user_call targets. */
static void setup_user_pages(void)
{
    for (unsigned long va = (unsigned long)__user_start; va < (unsigned long)__user_end;
         va += PVT_PAGE_SIZE) {
        uint64_t l2e = pvt_l2e(va);
        if (!(l2e & _PAGE_USER)) {
            long rc = pvt_mmu_update1(pvt_l2e_maddr(va) | MMU_NORMAL_PT_UPDATE, l2e | _PAGE_USER,
                                      0, DOMID_SELF);
            if (rc) pvtest_error("cannot set _PAGE_USER on the L2 entry of %08lx: %ld", va, rc);
        }
        long rc = HYPERVISOR_update_va_mapping(va, pvt_pte(va) | _PAGE_USER, UVMF_INVLPG);
        if (rc) pvtest_error("cannot set _PAGE_USER on %08lx: %ld", va, rc);
    }
}

void pvtest_start(start_info_t *si)
{
    /* The builder must have replaced our 0xC3 filler with Xen's stubs. */
    if (hypercall_page[0] == 0xc3) die_silently();
    pvt_si = si;
    pvt_p2m = (const xen_pfn_t *)si->mfn_list;

    struct xen_machphys_mapping mapping;
    if (HYPERVISOR_memory_op(XENMEM_machphys_mapping, &mapping)) die_silently();
    pvt_m2p = (const volatile uint32_t *)mapping.v_start;
    pvt_m2p_end = mapping.v_end;
    pvt_max_mfn = mapping.max_mfn;

    setup_console();
    pv_printf("pvtest %s: %s\n", pvtest_name, pvtest_summary);
    if (pv_strncmp(si->magic, XEN_CAP_PV_X86_32P, sizeof(XEN_CAP_PV_X86_32P)))
        pvtest_error("start_info magic is \"%s\", not " XEN_CAP_PV_X86_32P, si->magic);

    setup_traps();
    /* Traps from ring 3 use our stack, never the builder's boot stack page (pool). */
    extern char pvt_stack_top[];
    if (HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (unsigned long)pvt_stack_top))
        pvtest_error("stack_switch failed");
    long rc = HYPERVISOR_update_va_mapping((unsigned long)shared_info_page,
                                           (uint64_t)si->shared_info | _PAGE_PRESENT | _PAGE_RW |
                                               _PAGE_ACCESSED | _PAGE_DIRTY,
                                           UVMF_INVLPG);
    if (rc) pvtest_error("mapping shared_info failed: %ld", rc);
    pvt_shared = (volatile shared_info_t *)shared_info_page;

    pvt_mm_init();
    /* No mapping at VA 0: a NULL dereference must fault. */
    rc = pvt_unmap(0);
    if (rc) pvtest_error("unmapping page 0 failed: %ld", rc);
    setup_user_pages();

    test_main();
    pvtest_finish();
}
