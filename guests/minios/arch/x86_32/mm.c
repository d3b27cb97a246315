/*
 * PAE page tables through the PV MMU.
 *
 * The builder maps [0, boot_end) (a 4 MiB multiple) 1:1 and leaves at least 512 KiB of
 * mapped, unused pages after its boot stack. arch_mm_init() extends the 1:1 map over the
 * rest of RAM, one 2 MiB L1 at a time: it takes the next free page (a bump pointer that
 * starts after the boot stack and only ever runs through already mapped memory), fills
 * it with PTEs while it is still writable, remaps it read-only (Xen refuses a table
 * frame that is writable anywhere), then links it into the L2 with mmu_update.
 *
 * Page-table frames are read through their 1:1 mapping: table MFN -> M2P -> PFN -> VA.
 * Only L2s the builder created are used, so RAM is mapped up to the first GiB without an
 * L2 (the builder creates one per GiB it maps, plus the fourth GiB's); more is reported
 * and left unmapped.
 */
#include "minios/mm/mm.h"
#include <xen/memory.h>

unsigned long nr_pages, ram_pages, max_mfn, kernel_pages;
xen_pfn_t *p2m;
const volatile uint32_t *m2p;

static const uint64_t *l3;
static unsigned long bump_pfn, mapped_end_pfn;
static uint8_t map_area_used[MAP_AREA_PAGES];

extern char __image_start[];

static const uint64_t *table_va(uint64_t entry)
{
    unsigned long mfn = (unsigned long)((entry & PTE_ADDR_MASK) >> PAGE_SHIFT);
    unsigned long pfn = mfn_to_pfn(mfn);
    if (pfn >= nr_pages || p2m[pfn] != mfn) panic("page-table frame %lx is not ours", mfn);
    return pfn_to_virt(pfn);
}

static uint64_t l2e_of(unsigned long va)
{
    uint64_t e3 = l3[va >> 30];
    if (!(e3 & _PAGE_PRESENT)) return 0;
    return table_va(e3)[(va >> 21) & 511];
}

static uint64_t l2e_maddr(unsigned long va)
{
    return (l3[va >> 30] & PTE_ADDR_MASK) + ((va >> 21) & 511) * 8;
}

uint64_t pte_of(unsigned long va)
{
    uint64_t e2 = l2e_of(va);
    if (!(e2 & _PAGE_PRESENT) || (e2 & _PAGE_PSE)) return 0;
    return table_va(e2)[(va >> 12) & 511];
}

unsigned long l3_mfn(void)
{
    return p2m[virt_to_pfn(l3)];
}

long set_pte(unsigned long va, uint64_t pte)
{
    return HYPERVISOR_update_va_mapping(va, pte, UVMF_INVLPG);
}

static void mmu_update1(uint64_t ptr, uint64_t val)
{
    struct mmu_update u = { .ptr = ptr | MMU_NORMAL_PT_UPDATE, .val = val };
    long rc = HYPERVISOR_mmu_update(&u, 1, 0, DOMID_SELF);
    if (rc) panic("mmu_update(%llx, %llx): %ld", (unsigned long long)ptr,
                  (unsigned long long)val, rc);
}

static void *bump_alloc(void)
{
    if (bump_pfn >= mapped_end_pfn) panic("early page pool exhausted at pfn %lx", bump_pfn);
    void *p = pfn_to_virt(bump_pfn++);
    memset(p, 0, PAGE_SIZE);
    return p;
}

/* A new L1 for the 2 MiB at va, mapping RAM PFNs [first, end) 1:1 (none if first == end). */
static void new_l1(unsigned long va, unsigned long first, unsigned long end)
{
    uint64_t *t = bump_alloc();
    for (unsigned long pfn = first; pfn < end; pfn++)
        t[pfn & 511] = ((uint64_t)p2m[pfn] << PAGE_SHIFT) | PTE_KERNEL;
    unsigned long mfn = virt_to_mfn(t);
    long rc = set_pte((unsigned long)t, ((uint64_t)mfn << PAGE_SHIFT) | PTE_KERNEL_RO);
    if (rc) panic("cannot make the new L1 at pfn %lx read-only: %ld", virt_to_pfn(t), rc);
    mmu_update1(l2e_maddr(va), ((uint64_t)mfn << PAGE_SHIFT) | PDE_KERNEL);
}

void arch_mm_init(unsigned long boot_esp)
{
    nr_pages = start_info->nr_pages;
    p2m = (xen_pfn_t *)start_info->mfn_list;
    l3 = (const uint64_t *)start_info->pt_base;

    struct xen_machphys_mapping mapping;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &mapping);
    if (rc) panic("XENMEM_machphys_mapping: %ld", rc);
    m2p = (const volatile uint32_t *)mapping.v_start;
    max_mfn = mapping.max_mfn;

    /* The builder's region: mapped contiguously from VA 0 up to a 4 MiB boundary. */
    unsigned long va = (boot_esp + PAGE_SIZE - 1) & PAGE_MASK;
    while (va < MAP_AREA_BASE && (pte_of(va) & _PAGE_PRESENT)) va += PAGE_SIZE;
    mapped_end_pfn = va >> PAGE_SHIFT;
    bump_pfn = (boot_esp + PAGE_SIZE - 1) >> PAGE_SHIFT;

    /* Extend the 1:1 map over the rest of RAM. */
    ram_pages = nr_pages;
    if (ram_pages > (MAP_AREA_BASE >> PAGE_SHIFT)) ram_pages = MAP_AREA_BASE >> PAGE_SHIFT;
    for (va = mapped_end_pfn << PAGE_SHIFT; (va >> PAGE_SHIFT) < ram_pages; va += 0x200000) {
        if (!(l3[va >> 30] & _PAGE_PRESENT)) {
            printk("mm: no L2 for %08lx: RAM above it stays unmapped\n", va);
            ram_pages = va >> PAGE_SHIFT;
            break;
        }
        if (l2e_of(va) & _PAGE_PRESENT) panic("mm: %08lx already has an L1", va);
        unsigned long first = va >> PAGE_SHIFT;
        new_l1(va, first, MIN(first + 512, ram_pages));
        mapped_end_pfn = MIN(first + 512, ram_pages);
    }

    /* The map area's L1 (empty). */
    if (l2e_of(MAP_AREA_BASE) & _PAGE_PRESENT) panic("mm: the map area already has an L1");
    new_l1(MAP_AREA_BASE, 0, 0);

    /* No mapping at VA 0: NULL dereferences fault. */
    rc = set_pte(0, 0);
    if (rc) panic("unmapping page 0: %ld", rc);

    /* The page allocator's bitmap, then everything not used so far. */
    unsigned long bitmap_pages = ((nr_pages + 7) / 8 + PAGE_SIZE - 1) / PAGE_SIZE;
    void *bitmap = bump_alloc();
    for (unsigned long i = 1; i < bitmap_pages; i++) bump_alloc();
    page_alloc_init(bitmap, nr_pages);
    unsigned long image_pfn = virt_to_pfn(__image_start);
    for (unsigned long pfn = 1; pfn < image_pfn; pfn++)
        if (pte_of(pfn << PAGE_SHIFT) & _PAGE_PRESENT) page_free_range(pfn, pfn + 1);
    page_free_range(bump_pfn, ram_pages);
    kernel_pages = bump_pfn - image_pfn;
}

void *map_area_alloc(void)
{
    for (unsigned i = 0; i < MAP_AREA_PAGES; i++) {
        if (map_area_used[i]) continue;
        map_area_used[i] = 1;
        return (void *)(MAP_AREA_BASE + i * PAGE_SIZE);
    }
    printk("map area full\n");
    return 0;
}

void map_area_free(void *p)
{
    unsigned long va = (unsigned long)p;
    if (va < MAP_AREA_BASE || va >= MAP_AREA_BASE + MAP_AREA_PAGES * PAGE_SIZE) return;
    map_area_used[(va - MAP_AREA_BASE) / PAGE_SIZE] = 0;
}

void *map_frame(unsigned long mfn, int writable)
{
    void *va = map_area_alloc();
    if (!va) return 0;
    long rc = set_pte((unsigned long)va, ((uint64_t)mfn << PAGE_SHIFT) | (writable ? PTE_KERNEL : PTE_KERNEL_RO));
    if (rc) {
        printk("map_frame(%lx): %ld\n", mfn, rc);
        map_area_free(va);
        return 0;
    }
    return va;
}

void unmap_frame(void *p)
{
    unsigned long va = (unsigned long)p;
    if (va < MAP_AREA_BASE || va >= MAP_AREA_BASE + MAP_AREA_PAGES * PAGE_SIZE) return;
    long rc = set_pte(va, 0);
    if (rc) panic("unmap_frame(%08lx): %ld", va, rc);
    map_area_free(p);
}
