/*
 * The page allocator: one bit per PFN (1 = in use or not ours), first-fit with a
 * rotating hint. Contiguous runs are found by scanning; minios allocates few and small
 * runs (ring pages, I/O buffers), so simplicity wins over a buddy system.
 *
 * Invariants: a free bit means the page is RAM, mapped 1:1 read-write and owned by the
 * allocator; free_count equals the number of free bits. Only CPU 0 allocates, but the
 * lock keeps the bitmap consistent should another vCPU ever do so.
 */
#include "minios/mm/mm.h"
#include "minios/kernel/spinlock.h"

static uint32_t *bitmap;
static unsigned long nr_pfns, free_count, managed, hint;
static spinlock_t lock = SPINLOCK_INIT;

void page_alloc_init(void *bm, unsigned long n)
{
    bitmap = bm;
    nr_pfns = n;
    memset(bitmap, 0xFF, (n + 31) / 32 * 4);
    free_count = managed = hint = 0;
}

void page_free_range(unsigned long first, unsigned long end)
{
    for (unsigned long pfn = first; pfn < end && pfn < nr_pfns; pfn++) {
        if (!test_bit(pfn, bitmap)) panic("page_free_range: pfn %lx already free", pfn);
        clear_bit(pfn, bitmap);
        free_count++;
        managed++;
    }
}

static int run_free(unsigned long pfn, unsigned n)
{
    if (pfn + n > nr_pfns) return 0;
    for (unsigned i = 0; i < n; i++)
        if (test_bit(pfn + i, bitmap)) return 0;
    return 1;
}

void *alloc_pages(unsigned n)
{
    if (!n) return 0;
    spin_lock(&lock);
    if (free_count < n) {
        spin_unlock(&lock);
        return 0;
    }
    for (unsigned long scanned = 0, pfn = hint; scanned < nr_pfns; scanned++, pfn++) {
        if (pfn >= nr_pfns) pfn = 0;
        /* Skip whole used words quickly. */
        if ((pfn & 31) == 0 && bitmap[pfn / 32] == 0xFFFFFFFFU) {
            scanned += 31;
            pfn += 31;
            continue;
        }
        if (!run_free(pfn, n)) continue;
        for (unsigned i = 0; i < n; i++) set_bit(pfn + i, bitmap);
        free_count -= n;
        hint = pfn + n;
        spin_unlock(&lock);
        return pfn_to_virt(pfn);
    }
    spin_unlock(&lock);
    return 0;
}

void free_pages(void *va, unsigned n)
{
    unsigned long pfn = virt_to_pfn(va);
    if ((unsigned long)va & (PAGE_SIZE - 1)) panic("free_pages(%p): not page aligned", va);
    spin_lock(&lock);
    for (unsigned i = 0; i < n; i++) {
        if (pfn + i >= nr_pfns || !test_bit(pfn + i, bitmap))
            panic("free_pages: pfn %lx is not allocated", pfn + i);
        clear_bit(pfn + i, bitmap);
    }
    free_count += n;
    spin_unlock(&lock);
}

unsigned long free_page_count(void) { return free_count; }
unsigned long total_managed_pages(void) { return managed; }
