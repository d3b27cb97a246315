/* Page-table builders (see paging.h). */
#include "bare/paging.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/x86.h"

#define POOL_PAGES 160
static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static int pool_used;
extern char _end[];

void *page_alloc(void)
{
    if (pool_used == POOL_PAGES) test_error("page-table pool exhausted");
    uint8_t *p = pool[pool_used++];
    for (int i = 0; i < 4096; i++) p[i] = 0;
    return p;
}

uint32_t kernel_end_page(void) { return ((uint32_t)_end + 4095) & ~4095u; }

uint32_t *pt32_new(void) { return page_alloc(); }

static uint32_t *pt32_table(uint32_t *pd, uint32_t va, int create)
{
    uint32_t *pde = &pd[va >> 22];
    if (!(*pde & PTE_P) || (*pde & PTE_PS)) {
        if (!create) return 0;
        *pde = (uint32_t)page_alloc() | PTE_P | PTE_W | PTE_U;
    }
    return (uint32_t *)(*pde & ~0xfffu);
}

void pt32_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags)
{
    pt32_table(pd, va, 1)[(va >> 12) & 0x3ff] = (pa & ~0xfffu) | flags;
}

void pt32_map_large(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags)
{
    pd[va >> 22] = (pa & 0xffc00000u) | flags | PTE_PS;
}

void pt32_identity(uint32_t *pd, uint32_t start, uint32_t end, uint32_t flags)
{
    for (uint32_t a = start & ~0xfffu; a < end; a += 4096) pt32_map(pd, a, a, flags);
}

uint32_t *pt32_pte(uint32_t *pd, uint32_t va)
{
    uint32_t *pt = pt32_table(pd, va, 0);
    return pt ? &pt[(va >> 12) & 0x3ff] : 0;
}

uint64_t *pae_new(void)
{
    /* The PDPT sits in its own frame (32-byte alignment is the rule; a frame is simpler). */
    uint64_t *pdpt = page_alloc();
    for (int i = 0; i < 4; i++) pdpt[i] = (uint32_t)page_alloc() | PTE_P;
    return pdpt;
}

uint64_t *pae_pde(uint64_t *pdpt, uint32_t va)
{
    uint64_t *pd = (uint64_t *)(uint32_t)(pdpt[va >> 30] & 0xfffff000u);
    return &pd[(va >> 21) & 0x1ff];
}

static uint64_t *pae_table(uint64_t *pdpt, uint32_t va, int create)
{
    uint64_t *pde = pae_pde(pdpt, va);
    if (!(*pde & PTE_P) || (*pde & PTE_PS)) {
        if (!create) return 0;
        *pde = (uint32_t)page_alloc() | PTE_P | PTE_W | PTE_U;
    }
    return (uint64_t *)(uint32_t)(*pde & 0xfffff000u);
}

void pae_map(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags)
{
    pae_table(pdpt, va, 1)[(va >> 12) & 0x1ff] = (pa & ~(uint64_t)0xfff & ~PTE_NX) | flags;
}

void pae_map_large(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags)
{
    *pae_pde(pdpt, va) = (pa & ~(uint64_t)0x1fffff & ~PTE_NX) | flags | PTE_PS;
}

void pae_identity(uint64_t *pdpt, uint32_t start, uint32_t end, uint64_t flags)
{
    for (uint32_t a = start & ~0xfffu; a < end; a += 4096) pae_map(pdpt, a, a, flags);
}

uint64_t *pae_pte(uint64_t *pdpt, uint32_t va)
{
    uint64_t *pt = pae_table(pdpt, va, 0);
    return pt ? &pt[(va >> 12) & 0x1ff] : 0;
}

/* A task switch loads CR3 from the new TSS but never stores it into the old one: keep
 * the library's TSSs naming the current tables, or switching back to the main task (after
 * a #DF, say) would load stale ones. */
static void tss_follow_cr3(uint32_t cr3)
{
    tss_main.t.cr3 = cr3;
    tss_df.cr3 = cr3;
}

void paging_enable(uint32_t cr3, int pae)
{
    tss_follow_cr3(cr3);
    uint32_t cr4 = read_cr4();
    cr4 = pae ? (cr4 | CR4_PAE) : (cr4 & ~CR4_PAE);
    write_cr4(cr4);
    write_cr3(cr3);
    write_cr0(read_cr0() | CR0_PG);
}

void paging_disable(void)
{
    write_cr0(read_cr0() & ~CR0_PG);
    write_cr3(0);
    tss_follow_cr3(0);
}
