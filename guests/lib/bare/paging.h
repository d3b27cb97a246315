/*
 * Page-table builders for bare-metal test kernels: 2-level 32-bit tables (4 KiB pages
 * and 4 MiB PSE pages) and PAE tables (4 KiB and 2 MiB pages, NX). Tables come from a
 * static pool of zeroed 4 KiB frames; nothing is ever freed (a kernel builds a handful).
 *
 * Invariants: every table frame is 4 KiB aligned and zeroed when handed out; a PAE PDPT
 * is 32-byte aligned with its four page directories allocated up front (PDPTEs hold only
 * P, as the architecture requires of them: other bits are reserved and fault on load).
 * Intermediate entries (PDEs pointing at page tables) are P|W|U, so the leaf entry alone
 * decides the access rights a test is probing.
 */
#ifndef BARE_PAGING_H
#define BARE_PAGING_H
#include <stdint.h>

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_PWT 0x008u
#define PTE_PCD 0x010u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_PS 0x080u
#define PTE_G 0x100u
#define PTE_NX (1ull << 63)

/* #PF error code bits. */
#define PF_P 0x01u
#define PF_W 0x02u
#define PF_U 0x04u
#define PF_RSVD 0x08u
#define PF_I 0x10u

/* A zeroed 4 KiB frame from the pool; ends the test with ERROR when the pool is empty. */
void *page_alloc(void);

/* 2-level tables. */
uint32_t *pt32_new(void);
void pt32_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags);
void pt32_map_large(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags); /* 4 MiB, needs CR4.PSE */
void pt32_identity(uint32_t *pd, uint32_t start, uint32_t end, uint32_t flags);
uint32_t *pt32_pte(uint32_t *pd, uint32_t va); /* the 4 KiB leaf for va, or 0 */

/* PAE tables: returns the PDPT (CR3 value). */
uint64_t *pae_new(void);
void pae_map(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags);
void pae_map_large(uint64_t *pdpt, uint32_t va, uint64_t pa, uint64_t flags); /* 2 MiB */
void pae_identity(uint64_t *pdpt, uint32_t start, uint32_t end, uint64_t flags);
uint64_t *pae_pte(uint64_t *pdpt, uint32_t va);
uint64_t *pae_pde(uint64_t *pdpt, uint32_t va);

/* Turn paging on with cr3 (and CR4.PAE as asked); off again (back to flat physical).
 * Both also set the CR3 field of tss_main and tss_df, which a task switch loads. */
void paging_enable(uint32_t cr3, int pae);
void paging_disable(void);

/* Physical end of the kernel image (linker symbol), page aligned upwards. */
uint32_t kernel_end_page(void);
#endif
