/*
 * Page-table helpers for PV tests: walking the live PAE tables, the frame pools, and
 * single-entry updates through the hypercalls a PV kernel must use.
 *
 * Invariants:
 * - VIRT_BASE is 0: a page of the builder's region [0, pvt_boot_end) has VA = PFN << 12,
 *   so a table frame of that region is readable at pvt_mfn_to_va(mfn) (the builder maps
 *   page-table pages read-only; reading is all the walk does).
 * - pvt_l3_va names the L3 in use. Tests that load another base pointer and then walk
 *   must update it (the walk reads tables through the guest's own mappings).
 * - Pool pages are handed out once and never returned; a test that needs a page to be a
 *   page table makes it read-only first (Xen refuses a table frame that is mapped
 *   writable anywhere).
 */
#include "pvtest.h"

unsigned long pvt_boot_end;
unsigned long pvt_l3_va;
static unsigned long pool_next;
static unsigned long loose_next_pfn;

unsigned long pvt_m2p_lookup(unsigned long mfn)
{
    return pvt_m2p[mfn];
}

void *pvt_mfn_to_va(unsigned long mfn)
{
    if (mfn > pvt_max_mfn) return 0;
    unsigned long pfn = pvt_m2p_lookup(mfn);
    if (pfn >= pvt_si->nr_pages || pvt_p2m[pfn] != mfn) return 0;
    if ((pfn << 12) >= pvt_boot_end) return 0;
    return (void *)(pfn << 12);
}

unsigned long pvt_l3_mfn(void)
{
    return pvt_va_to_mfn(pvt_l3_va);
}

uint64_t pvt_l3e(unsigned long va)
{
    const uint64_t *l3 = (const uint64_t *)pvt_l3_va;
    return l3[(va >> 30) & 3];
}

static const uint64_t *l2_table(unsigned long va)
{
    uint64_t l3e = pvt_l3e(va);
    if (!(l3e & _PAGE_PRESENT)) return 0;
    return pvt_mfn_to_va((l3e & PVT_PTE_ADDR_MASK) >> 12);
}

uint64_t pvt_l2e(unsigned long va)
{
    const uint64_t *l2 = l2_table(va);
    return l2 ? l2[(va >> 21) & 511] : 0;
}

uint64_t pvt_l2e_maddr(unsigned long va)
{
    uint64_t l3e = pvt_l3e(va);
    if (!(l3e & _PAGE_PRESENT)) return 0;
    return (l3e & PVT_PTE_ADDR_MASK) + ((va >> 21) & 511) * 8;
}

static const uint64_t *l1_table(unsigned long va)
{
    uint64_t l2e = pvt_l2e(va);
    if (!(l2e & _PAGE_PRESENT) || (l2e & _PAGE_PSE)) return 0;
    return pvt_mfn_to_va((l2e & PVT_PTE_ADDR_MASK) >> 12);
}

uint64_t pvt_pte(unsigned long va)
{
    const uint64_t *l1 = l1_table(va);
    return l1 ? l1[(va >> 12) & 511] : 0;
}

uint64_t pvt_pte_maddr(unsigned long va)
{
    uint64_t l2e = pvt_l2e(va);
    if (!(l2e & _PAGE_PRESENT)) return 0;
    return (l2e & PVT_PTE_ADDR_MASK) + ((va >> 12) & 511) * 8;
}

unsigned long pvt_va_to_mfn(unsigned long va)
{
    uint64_t pte = pvt_pte(va);
    if (!(pte & _PAGE_PRESENT)) return 0;
    return (unsigned long)((pte & PVT_PTE_ADDR_MASK) >> 12);
}

void pvt_mm_init(void);
void pvt_mm_init(void)
{
    pvt_l3_va = pvt_si->pt_base;
    /* The builder's region is mapped contiguously from VA 0; find where it ends. */
    unsigned long va = pvt_boot_esp & ~(PVT_PAGE_SIZE - 1);
    pvt_boot_end = 0xc0000000UL; /* provisional, so the walk may read every table */
    while (va < 0xc0000000UL && (pvt_pte(va) & _PAGE_PRESENT)) va += PVT_PAGE_SIZE;
    pvt_boot_end = va;
    pool_next = (pvt_boot_esp + PVT_PAGE_SIZE - 1) & ~(PVT_PAGE_SIZE - 1);
    loose_next_pfn = pvt_si->nr_pages;
}

void *pvt_alloc_page(void)
{
    if (pool_next >= pvt_boot_end) pvtest_error("page pool exhausted");
    void *p = (void *)pool_next;
    pool_next += PVT_PAGE_SIZE;
    memset(p, 0, PVT_PAGE_SIZE);
    return p;
}

unsigned long pvt_alloc_loose_mfn(unsigned long *pfn_out)
{
    if (loose_next_pfn == 0 || ((loose_next_pfn - 1) << 12) < pvt_boot_end)
        pvtest_error("no loose frames left");
    unsigned long pfn = --loose_next_pfn;
    if (pfn_out) *pfn_out = pfn;
    return pvt_p2m[pfn];
}

long pvt_map(unsigned long va, unsigned long mfn, uint64_t flags)
{
    uint64_t pte = ((uint64_t)mfn << 12) | flags;
    return HYPERVISOR_update_va_mapping(va, pte, UVMF_INVLPG | UVMF_LOCAL);
}

long pvt_unmap(unsigned long va)
{
    return HYPERVISOR_update_va_mapping(va, 0, UVMF_INVLPG | UVMF_LOCAL);
}

long pvt_set_writable(unsigned long va, int writable)
{
    uint64_t pte = pvt_pte(va);
    pte = writable ? (pte | _PAGE_RW) : (pte & ~_PAGE_RW);
    return HYPERVISOR_update_va_mapping(va, pte, UVMF_INVLPG | UVMF_LOCAL);
}

long pvt_mmu_update1(uint64_t ptr, uint64_t val, unsigned *done, unsigned foreigndom)
{
    struct mmu_update u = { .ptr = ptr, .val = val };
    return HYPERVISOR_mmu_update(&u, 1, done, foreigndom);
}

long pvt_mmuext1(unsigned cmd, unsigned long arg1, unsigned long arg2, unsigned *done)
{
    struct mmuext_op op;
    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.arg1.mfn = arg1;
    op.arg2.nr_ents = arg2;
    return HYPERVISOR_mmuext_op(&op, 1, done, DOMID_SELF);
}

long pvt_pin(unsigned level, unsigned long mfn)
{
    unsigned cmd;
    switch (level) {
    case 1: cmd = MMUEXT_PIN_L1_TABLE; break;
    case 2: cmd = MMUEXT_PIN_L2_TABLE; break;
    case 3: cmd = MMUEXT_PIN_L3_TABLE; break;
    default: pvtest_error("pvt_pin: bad level %u", level);
    }
    return pvt_mmuext1(cmd, mfn, 0, 0);
}

long pvt_unpin(unsigned long mfn)
{
    return pvt_mmuext1(MMUEXT_UNPIN_TABLE, mfn, 0, 0);
}

void pvt_flush_tlb(void)
{
    pvt_mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0, 0, 0);
}
