/*
 * Memory: the physical-to-machine map, the kernel's 1:1 mapping of its pseudo-physical
 * memory, a map area for frames that are not our RAM, and the page allocator.
 *
 * Invariants:
 * - VIRT_BASE is 0: after arch_mm_init() every PFN below ram_pages is mapped at
 *   VA = PFN << 12 (read-write), except PFN 0 (unmapped so NULL faults), page-table
 *   pages (read-only, Xen's rule), and pages given away (ballooned, or rx buffers in
 *   flip mode), whose p2m entry is INVALID_MFN and whose mapping is removed.
 * - p2m[] is the builder's mfn_list; only this kernel changes it (balloon, rx flip) and
 *   always together with the M2P (MMU_MACHPHYS_UPDATE or populate_physmap) and the
 *   mapping, so virt_to_mfn() of a mapped page is always right.
 * - The map area (MAP_AREA_BASE, MAP_AREA_PAGES slots) holds shared_info and the grant
 *   table frames: Xen heap pages that must be unmapped before a suspend (the saver
 *   cannot translate them) and remapped after it.
 */
#ifndef MINIOS_MM_H
#define MINIOS_MM_H
#include "minios/kernel/kernel.h"

#define INVALID_MFN 0xFFFFFFFFUL
#define MAP_AREA_BASE 0xF5400000UL    /* L2 slot 426 of the 4th GiB, below Xen's slot 428 */
#define MAP_AREA_PAGES 512

extern unsigned long nr_pages;        /* p2m entries (start_info.nr_pages) */
extern unsigned long ram_pages;       /* PFNs mapped 1:1 (nr_pages unless VA ran out) */
extern xen_pfn_t *p2m;
extern const volatile uint32_t *m2p;
extern unsigned long max_mfn;
extern unsigned long kernel_pages;    /* image + builder's bootstrap region */

static inline void *pfn_to_virt(unsigned long pfn) { return (void *)(pfn << PAGE_SHIFT); }
static inline unsigned long virt_to_pfn(const void *va) { return (unsigned long)va >> PAGE_SHIFT; }
static inline unsigned long pfn_to_mfn(unsigned long pfn) { return p2m[pfn]; }
static inline unsigned long virt_to_mfn(const void *va) { return p2m[virt_to_pfn(va)]; }
static inline unsigned long mfn_to_pfn(unsigned long mfn) { return mfn <= max_mfn ? m2p[mfn] : ~0UL; }

/* arch/x86_32/mm.c */
void arch_mm_init(unsigned long boot_esp);
uint64_t pte_of(unsigned long va);               /* 0 when not mapped */
long set_pte(unsigned long va, uint64_t pte);    /* update_va_mapping + invlpg */
void *map_frame(unsigned long mfn, int writable);   /* a slot of the map area */
void unmap_frame(void *va);
void *map_area_alloc(void);                      /* a free slot's VA, left unmapped */
void map_area_free(void *va);
unsigned long l3_mfn(void);

/* mm/page_alloc.c */
void page_alloc_init(void *bitmap, unsigned long nr_pfns);
void page_free_range(unsigned long first_pfn, unsigned long end_pfn);
void *alloc_pages(unsigned n);                   /* contiguous, page aligned, not zeroed */
static inline void *alloc_page(void) { return alloc_pages(1); }
void free_pages(void *va, unsigned n);
static inline void free_page(void *va) { free_pages(va, 1); }
unsigned long free_page_count(void);
unsigned long total_managed_pages(void);

/* mm/p2m.c: the p2m frame lists the toolstack reads to save the domain */
void p2m_publish(void);

#endif
