/*
 * PAE paging and NX: 3-level translation with 4 KiB and 2 MiB pages, #PF error codes in
 * PAE mode, reserved bits (bit 62 of a PTE; the NX bit while EFER.NXE = 0; PDPTE bits the
 * architecture reserves, which fault when CR3 is loaded), execute-disable with EFER.NXE
 * (I/D in the error code, NX in either level, data access still allowed), A/D bits in
 * 64-bit entries and physical addresses above 4 GiB in the tables.
 *
 * Layout as in cpu-paging: 8 MiB identity-mapped user+writable, test pages at 1 GiB.
 * QEMU does not check PDPTEs when CR3 is loaded (it walks them on each miss): that check
 * is CHECK_ARCH, and so are the reserved-bit error codes (QEMU leaves out P, which the
 * manual says RSVD always comes with).
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/paging.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

#define TV 0x40000000u
#define PAGE(n) (TV + (uint32_t)(n) * 0x1000u)
#define LARGE_VA 0x80000000u

static uint64_t *pdpt;
static uint8_t *frame[16];

static void map(int n, int f, uint64_t flags)
{
    pae_map(pdpt, PAGE(n), (uint32_t)frame[f], flags);
    invlpg(PAGE(n));
}
static uint64_t *pte(int n) { return pae_pte(pdpt, PAGE(n)); }

static uint32_t rd(uint32_t va)
{
    uint32_t v = 0;
    __asm__ volatile(TRY("movl (%1), %0") : "+r"(v) : "r"(va) : "memory");
    return v;
}
static void wr(uint32_t va, uint32_t v) { __asm__ volatile(TRY("movl %1, (%0)") : : "r"(va), "r"(v) : "memory"); }
static uint32_t u_rd(uint32_t va) { return rd(va); }
static uint32_t u_wr(uint32_t va)
{
    wr(va, 0x55);
    return 0;
}

static volatile uint32_t fetch_vec, fetch_err, fetch_cr2, fetch_eip;
static uint32_t call_at(uint32_t target)
{
    uint32_t r = 0;
    /* The target is "mov $imm, %eax; ret" when it runs. A fetch fault at the target comes
     * after the call pushed its return address: ESP is put back from EDX. */
    __asm__ volatile("movl %%esp, %%edx\n\t" TRY("call *%1") "movl %%edx, %%esp"
                     : "+a"(r) : "r"(target) : "ecx", "edx", "memory");
    fetch_vec = trap_last.vector;
    fetch_err = trap_last.error;
    fetch_cr2 = trap_last.cr2;
    fetch_eip = trap_last.eip;
    return r;
}

static void put_code(uint8_t *p, uint32_t value)
{
    p[0] = 0xb8;
    *(volatile uint32_t *)(p + 1) = value;
    p[5] = 0xc3;
}

static void setup(void)
{
    pdpt = pae_new();
    pae_identity(pdpt, 0, 8u << 20, PTE_P | PTE_W | PTE_U);
    for (int i = 0; i < 16; i++) frame[i] = page_alloc();
    paging_enable((uint32_t)pdpt, 1);
}

static void translation(void)
{
    test_section("PAE translation");
    CHECK((read_cr0() & CR0_PG) && (read_cr4() & CR4_PAE), "PAE paging is on");
    map(0, 0, PTE_P | PTE_W);
    wr(PAGE(0) + 8, 0xfeedf00d);
    CHECK_EQ(*(volatile uint32_t *)(frame[0] + 8), 0xfeedf00d, "a 4 KiB page reaches its frame");
    pae_map_large(pdpt, LARGE_VA, 0, PTE_P | PTE_W);
    invlpg(LARGE_VA);
    CHECK_EQ(rd(LARGE_VA + (uint32_t)frame[0] + 8), 0xfeedf00d, "a 2 MiB page maps its range");
    check_no_fault("without faulting");
    CHECK(*pae_pde(pdpt, LARGE_VA) & PTE_A, "and its PDE got A");

    test_section("PAE #PF error codes");
    map(1, 1, 0);
    rd(PAGE(1) + 4);
    check_pf(0, PAGE(1) + 4, "read, not present: 0");
    ring_call(3, u_wr, PAGE(1) + 8, 0x2);
    check_pf(PF_U | PF_W, PAGE(1) + 8, "CPL 3 write, not present: 6");
    map(2, 2, PTE_P | PTE_W);
    ring_call(3, u_rd, PAGE(2), 0x2);
    check_pf(PF_P | PF_U, PAGE(2), "CPL 3 read of a supervisor page: 5");
    map(3, 3, PTE_P | PTE_U);
    ring_call(3, u_wr, PAGE(3), 0x2);
    check_pf(PF_P | PF_U | PF_W, PAGE(3), "CPL 3 write of a read-only page: 7");
    write_cr0(read_cr0() | CR0_WP);
    wr(PAGE(3) + 4, 1);
    check_pf(PF_P | PF_W, PAGE(3) + 4, "WP=1, CPL 0 write of a read-only page: 3");
    write_cr0(read_cr0() & ~CR0_WP);

    test_section("accessed and dirty bits");
    map(4, 4, PTE_P | PTE_W);
    rd(PAGE(4));
    CHECK_EQ((uint32_t)(*pte(4) & (PTE_A | PTE_D)), PTE_A, "read: A");
    wr(PAGE(4), 1);
    CHECK_EQ((uint32_t)(*pte(4) & (PTE_A | PTE_D)), PTE_A | PTE_D, "write: A and D");
    CHECK_EQ((uint32_t)(*pte(4) >> 32), 0, "the upper half of the PTE is untouched");
}

static void reserved_bits(void)
{
    test_section("reserved bits");
    map(5, 5, PTE_P | PTE_W | (1ull << 62));
    rd(PAGE(5));
    /* RSVD implies P (the manual: reserved bits are checked only in present entries);
     * QEMU reports RSVD without P, hence CHECK_ARCH. */
    check_pf_arch(PF_P | PF_RSVD, PAGE(5), "bit 62 in a PTE: P|RSVD (9)");
    map(6, 6, PTE_P | PTE_W | PTE_NX);
    rd(PAGE(6));
    check_pf_arch(PF_P | PF_RSVD, PAGE(6), "NX bit while EFER.NXE=0 is reserved: 9");
    ring_call(3, u_wr, PAGE(6), 0x2);
    check_pf_arch(PF_P | PF_RSVD | PF_W | PF_U, PAGE(6), "with W and U in the code: 0xf");

    /* A PDPTE with a reserved bit (R/W, bit 1): loading CR3 faults #GP(0). */
    uint64_t saved = pdpt[1];
    pdpt[1] |= PTE_W;
    uint32_t cr3 = read_cr3();
    __asm__ volatile(TRY("movl %0, %%cr3") : : "r"(cr3) : "memory");
    check_fault_arch(13, 0, "mov to CR3 with a reserved PDPTE bit: #GP(0)");
    pdpt[1] = saved;
    write_cr3(cr3);
}

static void pdpt_checks(void)
{
    test_section("the PDPT");
    /* A copy of the PDPT at a 32-byte aligned address that is not page aligned: CR3 bits
     * 5-11 select it in PAE mode. Its entry 2 (0x80000000-0xbfffffff) is made not present. */
    uint64_t *copy = (uint64_t *)((uint8_t *)page_alloc() + 0x60);
    for (int i = 0; i < 4; i++) copy[i] = pdpt[i];
    copy[2] = 0;
    uint32_t cr3 = read_cr3();
    write_cr3((uint32_t)copy);
    CHECK_EQ(rd(PAGE(0) + 8), 0xfeedf00d, "CR3 at a 32-byte aligned PDPT (offset 0x60 in its page)");
    rd(LARGE_VA + 0x10);
    check_pf(0, LARGE_VA + 0x10, "a not-present PDPTE: #PF, error 0");
    write_cr3(cr3);
    CHECK_EQ(rd(LARGE_VA + (uint32_t)frame[0] + 8), 0xfeedf00d, "back on the full PDPT");
}

static void nx(void)
{
    test_section("execute disable");
    CHECK(cpu_has_nx(), "CPUID reports NX");
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    CHECK(rdmsr(MSR_EFER) & EFER_NXE, "EFER.NXE is set");
    put_code(frame[7], 0x77);
    map(7, 7, PTE_P | PTE_W);
    CHECK_EQ(call_at(PAGE(7)), 0x77, "code in an executable page runs");
    map(7, 7, PTE_P | PTE_W | PTE_NX);
    CHECK_EQ(call_at(PAGE(7)), 0, "code in an NX page does not run");
    CHECK(fetch_vec == 14 && fetch_err == (PF_P | PF_I), "fetch from an NX page: #PF, error P|I (0x11)");
    CHECK(fetch_cr2 == PAGE(7) && fetch_eip == PAGE(7), "CR2 = EIP = the target");
    CHECK_EQ(rd(PAGE(7)) & 0xff, 0xb8, "data reads from an NX page are allowed");
    check_no_fault("without a fault");
    map(8, 8, 0);
    call_at(PAGE(8));
    CHECK(fetch_vec == 14 && fetch_err == PF_I, "fetch from a missing page with NXE: error I (0x10)");
    ring_call(3, call_at, PAGE(7), 0x2);
    CHECK(fetch_vec == 14 && fetch_err == (PF_P | PF_I | PF_U), "CPL 3 fetch from NX: error 0x15");

    /* NX in the PDE applies to every page below it. */
    uint32_t va = 0x50000000u;
    put_code(frame[9], 0x99);
    pae_map(pdpt, va, (uint32_t)frame[9], PTE_P | PTE_W | PTE_U);
    invlpg(va);
    CHECK_EQ(call_at(va), 0x99, "executable through PDE and PTE");
    *pae_pde(pdpt, va) |= PTE_NX;
    invlpg(va);
    call_at(va);
    CHECK(fetch_vec == 14 && fetch_err == (PF_P | PF_I), "NX in the PDE alone forbids execution");
    *pae_pde(pdpt, va) &= ~PTE_NX;
    invlpg(va);

    /* A 2 MiB NX page. */
    *pae_pde(pdpt, LARGE_VA) |= PTE_NX;
    invlpg(LARGE_VA);
    uint32_t target = LARGE_VA + (uint32_t)frame[9];
    call_at(target);
    CHECK(fetch_vec == 14 && fetch_err == (PF_P | PF_I) && fetch_cr2 == target, "a 2 MiB NX page: P|I");

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_NXE);
    map(7, 7, PTE_P | PTE_W | PTE_NX);
    call_at(PAGE(7));
    CHECK(fetch_vec == 14, "NXE cleared again: the fetch faults");
    /* I/D is reported only while EFER.NXE = 1. */
    CHECK_EQ_ARCH(fetch_err, PF_P | PF_RSVD, "NX is a reserved bit again: P|RSVD, no I/D (0x9)");
}

static void high_physical(void)
{
    test_section("physical addresses above 4 GiB");
    /* Map a page whose frame sits beyond RAM (4 GiB + frame): no fault from paging;
     * writes go nowhere and the low frame is untouched. */
    *(volatile uint32_t *)frame[10] = 0x10101010;
    pae_map(pdpt, PAGE(10), 0x100000000ull + (uint32_t)frame[10], PTE_P | PTE_W);
    invlpg(PAGE(10));
    wr(PAGE(10), 0x20202020);
    check_no_fault("a frame above 4 GiB translates");
    CHECK_EQ(*(volatile uint32_t *)frame[10], 0x10101010, "its write does not alias the frame 4 GiB lower");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-pae");
    if (!cpu_has(CPUID_PAE)) test_skip("no PAE");
    setup();
    translation();
    reserved_bits();
    pdpt_checks();
    nx();
    high_physical();
    paging_disable();
    write_cr4(read_cr4() & ~CR4_PAE);
    CHECK(!(read_cr0() & CR0_PG), "paging off again");
    return test_finish();
}
