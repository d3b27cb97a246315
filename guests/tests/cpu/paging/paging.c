/*
 * 32-bit (2-level) paging: translation through 4 KiB and 4 MiB (PSE) pages, #PF error
 * codes and CR2 for every combination of present/write/user, rights combined from PDE
 * and PTE, CR0.WP, reserved bits in a PSE PDE, instruction fetches (incl. an instruction
 * straddling into a missing page), accessed/dirty bits, TLB invalidation by INVLPG, CR3
 * reload and CR4.PGE toggling, a REP MOVS interrupted by #PF, and self-modifying and
 * cross-modifying (through an alias mapping) code.
 *
 * Layout: the first 8 MiB are identity-mapped user+writable (so ring-3 probes can run
 * the kernel's own code); test pages live at TV = 1 GiB and up, each backed by a frame
 * from the page pool. Without NX, a fetch fault's error code has I/D = 0 (the manual:
 * I/D is reported only with PAE + EFER.NXE or SMEP). QEMU reports a reserved-bit fault
 * without the P bit; the manual says RSVD implies P, so that check is CHECK_ARCH.
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

static uint32_t *pd;
static uint8_t *frame[16];

static void map(int n, int f, uint32_t flags)
{
    pt32_map(pd, PAGE(n), (uint32_t)frame[f], flags);
    invlpg(PAGE(n));
}
static uint32_t *pte(int n) { return pt32_pte(pd, PAGE(n)); }

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

static void setup(void)
{
    pd = pt32_new();
    pt32_identity(pd, 0, 8u << 20, PTE_P | PTE_W | PTE_U);
    for (int i = 0; i < 16; i++) frame[i] = page_alloc();
    write_cr4(read_cr4() | CR4_PSE);
    paging_enable((uint32_t)pd, 0);
}

static void translation(void)
{
    test_section("translation");
    CHECK(read_cr0() & CR0_PG, "paging is on and the identity map runs the kernel");
    map(0, 0, PTE_P | PTE_W);
    wr(PAGE(0) + 0x10, 0x12345678);
    check_no_fault("write through a mapped page");
    CHECK_EQ(*(volatile uint32_t *)(frame[0] + 0x10), 0x12345678, "it lands in the backing frame");
    map(1, 0, PTE_P);
    CHECK_EQ(rd(PAGE(1) + 0x10), 0x12345678, "a second mapping of the frame reads the same");
    pt32_map_large(pd, LARGE_VA, 0, PTE_P | PTE_W);
    invlpg(LARGE_VA);
    CHECK_EQ(rd(LARGE_VA + (uint32_t)frame[0] + 0x10), 0x12345678, "a 4 MiB PSE page maps its whole range");
    check_no_fault("without faulting");
}

static void fault_codes(void)
{
    test_section("#PF error codes and CR2");
    map(2, 2, 0); /* not present */
    rd(PAGE(2) + 0x44);
    check_pf(0, PAGE(2) + 0x44, "CPL 0 read, not present: error 0");
    wr(PAGE(2) + 0x48, 1);
    check_pf(PF_W, PAGE(2) + 0x48, "CPL 0 write, not present: error 2");
    ring_call(3, u_rd, PAGE(2) + 0x4c, 0x2);
    check_pf(PF_U, PAGE(2) + 0x4c, "CPL 3 read, not present: error 4");
    ring_call(3, u_wr, PAGE(2) + 0x50, 0x2);
    check_pf(PF_U | PF_W, PAGE(2) + 0x50, "CPL 3 write, not present: error 6");

    map(3, 3, PTE_P | PTE_W); /* supervisor only */
    rd(PAGE(3));
    check_no_fault("CPL 0 reads a supervisor page");
    ring_call(3, u_rd, PAGE(3) + 4, 0x2);
    check_pf(PF_P | PF_U, PAGE(3) + 4, "CPL 3 read of a supervisor page: error 5");
    ring_call(3, u_wr, PAGE(3) + 8, 0x2);
    check_pf(PF_P | PF_U | PF_W, PAGE(3) + 8, "CPL 3 write of a supervisor page: error 7");

    map(4, 4, PTE_P | PTE_U); /* user read-only */
    ring_call(3, u_rd, PAGE(4), 0x2);
    check_no_fault("CPL 3 reads a user read-only page");
    ring_call(3, u_wr, PAGE(4) + 12, 0x2);
    check_pf(PF_P | PF_U | PF_W, PAGE(4) + 12, "CPL 3 write of a read-only page: error 7");

    test_section("CR0.WP");
    write_cr0(read_cr0() & ~CR0_WP);
    wr(PAGE(4) + 16, 0x77);
    check_no_fault("WP=0: CPL 0 may write a read-only page");
    write_cr0(read_cr0() | CR0_WP);
    wr(PAGE(4) + 20, 0x77);
    check_pf(PF_P | PF_W, PAGE(4) + 20, "WP=1: CPL 0 write of a read-only page: error 3");
    write_cr0(read_cr0() & ~CR0_WP);

    test_section("rights combine PDE and PTE");
    uint32_t va = 0x50000000u;
    pt32_map(pd, va, (uint32_t)frame[5], PTE_P | PTE_W | PTE_U);
    uint32_t *pde = &pd[va >> 22];
    *pde &= ~PTE_W;
    invlpg(va);
    ring_call(3, u_wr, va + 4, 0x2);
    check_pf(PF_P | PF_U | PF_W, va + 4, "PDE read-only, PTE writable: CPL 3 write faults (7)");
    *pde = (*pde | PTE_W) & ~PTE_U;
    invlpg(va);
    ring_call(3, u_rd, va + 8, 0x2);
    check_pf(PF_P | PF_U, va + 8, "PDE supervisor, PTE user: CPL 3 read faults (5)");
    *pde &= ~PTE_P;
    invlpg(va);
    rd(va + 0x123);
    check_pf(0, va + 0x123, "PDE not present: error 0, CR2 exact");
    *pde |= PTE_P | PTE_U;
    invlpg(va);

    test_section("reserved bits");
    pd[(LARGE_VA >> 22) + 1] = ((LARGE_VA + (4u << 20)) & 0) | PTE_P | PTE_W | PTE_PS | (1u << 21);
    invlpg(LARGE_VA + (4u << 20));
    rd(LARGE_VA + (4u << 20) + 0x30);
    /* RSVD implies P (reserved bits are only checked in present entries); QEMU omits P. */
    check_pf_arch(PF_P | PF_RSVD, LARGE_VA + (4u << 20) + 0x30, "bit 21 set in a 4 MiB PDE: error P|RSVD (9)");
    pd[(LARGE_VA >> 22) + 1] = 0;
}

/* A fetch from a missing page faults with EIP = CR2 = the target. */
static volatile uint32_t fetch_eip, fetch_cr2, fetch_err, fetch_vec;
static uint32_t jump_to(uint32_t target)
{
    __asm__ volatile(TRY("jmp *%0") : : "r"(target) : "memory");
    fetch_vec = trap_last.vector;
    fetch_eip = trap_last.eip;
    fetch_cr2 = trap_last.cr2;
    fetch_err = trap_last.error;
    return 0;
}

static void pse_off(void)
{
    test_section("PS is ignored while CR4.PSE = 0");
    uint32_t va = 0x60000000u;
    uint32_t *pt = page_alloc();
    pt[3] = (uint32_t)frame[3] | PTE_P | PTE_W;
    *(volatile uint32_t *)frame[3] = 0x0dd5f00d;
    pd[va >> 22] = (uint32_t)pt | PTE_P | PTE_W | PTE_PS;
    write_cr4(read_cr4() & ~CR4_PSE);
    invlpg(va + 0x3000);
    CHECK_EQ(rd(va + 0x3000), 0x0dd5f00d, "the PDE is used as a page-table pointer");
    write_cr4(read_cr4() | CR4_PSE);
    pd[va >> 22] = 0;
    invlpg(va + 0x3000);
}

static void fetches(void)
{
    test_section("instruction fetch");
    map(6, 6, 0);
    jump_to(PAGE(6) + 0x20);
    CHECK(fetch_vec == 14 && fetch_err == 0, "jump to a missing page: #PF, error 0 (no I/D without NX)");
    CHECK(fetch_eip == PAGE(6) + 0x20 && fetch_cr2 == PAGE(6) + 0x20, "EIP = CR2 = the jump target");
    map(7, 7, PTE_P | PTE_W);
    frame[7][0x40] = 0xc3; /* ret */
    ring_call(3, jump_to, PAGE(7) + 0x40, 0x2);
    CHECK(fetch_vec == 14 && fetch_err == (PF_P | PF_U), "CPL 3 fetch from a supervisor page: error 5");

    /* ud2 whose second byte lies in the missing page: the fetch faults before decode. */
    map(8, 8, PTE_P | PTE_W);
    frame[8][0xfff] = 0x0f;
    map(9, 9, 0);
    jump_to(PAGE(8) + 0xfff);
    CHECK_EQ(fetch_vec, 14, "an instruction straddling into a missing page: #PF, not #UD");
    CHECK_EQ(fetch_eip, PAGE(8) + 0xfff, "EIP = its first byte");
    CHECK_EQ(fetch_cr2, PAGE(9), "CR2 = the start of the missing page");
}

static void straddling_data(void)
{
    test_section("data straddling into a missing page");
    map(10, 10, PTE_P | PTE_W);
    map(11, 11, 0);
    *(volatile uint32_t *)(frame[10] + 0xffc) = 0;
    wr(PAGE(10) + 0xffe, 0xabcdef01);
    check_pf(PF_W, PAGE(11), "dword write across the boundary: #PF, CR2 = the missing page");
    CHECK_EQ(*(volatile uint32_t *)(frame[10] + 0xffc), 0, "and nothing was written to the present page");

    uint32_t esi = (uint32_t)frame[12], edi = PAGE(10) + 0xff0, ecx = 0x20;
    __asm__ volatile(TRY("rep movsb") : "+S"(esi), "+D"(edi), "+c"(ecx) : : "memory");
    CHECK_EQ(trap_last.vector, 14, "rep movsb into a missing page: #PF");
    CHECK_EQ(trap_last.cr2, PAGE(11), "CR2 = the first missing byte");
    CHECK(ecx == 0x10 && edi == PAGE(11) && esi == (uint32_t)frame[12] + 0x10,
          "ECX/ESI/EDI show the 16 bytes already copied");
}

static void accessed_dirty(void)
{
    test_section("accessed and dirty bits");
    map(12, 12, PTE_P | PTE_W);
    CHECK_EQ(*pte(12) & (PTE_A | PTE_D), 0, "a fresh PTE has A=0 D=0");
    rd(PAGE(12));
    CHECK_EQ(*pte(12) & (PTE_A | PTE_D), PTE_A, "a read sets A only");
    wr(PAGE(12), 1);
    CHECK_EQ(*pte(12) & (PTE_A | PTE_D), PTE_A | PTE_D, "a write sets D");
    CHECK(pd[PAGE(12) >> 22] & PTE_A, "the PDE's A bit is set");
    map(13, 13, PTE_P | PTE_U);
    ring_call(3, u_wr, PAGE(13), 0x2);
    CHECK_EQ(*pte(13) & PTE_D, 0, "a write that faults does not set D");
    *pte(12) &= ~(PTE_A | PTE_D);
    invlpg(PAGE(12));
    wr(PAGE(12), 2);
    CHECK_EQ(*pte(12) & (PTE_A | PTE_D), PTE_A | PTE_D, "a write to a clean page sets A and D together");
    uint32_t *big = &pd[LARGE_VA >> 22];
    *big &= ~(PTE_A | PTE_D);
    invlpg(LARGE_VA);
    wr(LARGE_VA + (uint32_t)frame[14], 3);
    CHECK_EQ(*big & (PTE_A | PTE_D), PTE_A | PTE_D, "a 4 MiB page's PDE gets A and D");
}

static void tlb(void)
{
    test_section("TLB invalidation");
    *(volatile uint32_t *)frame[0] = 0xaaaa0000;
    *(volatile uint32_t *)frame[1] = 0xbbbb1111;
    map(14, 0, PTE_P | PTE_W);
    CHECK_EQ(rd(PAGE(14)), 0xaaaa0000, "page 14 -> frame 0");
    *pte(14) = (uint32_t)frame[1] | PTE_P | PTE_W;
    invlpg(PAGE(14));
    CHECK_EQ(rd(PAGE(14)), 0xbbbb1111, "after invlpg: frame 1");
    *pte(14) = (uint32_t)frame[0] | PTE_P | PTE_W;
    write_cr3(read_cr3());
    CHECK_EQ(rd(PAGE(14)), 0xaaaa0000, "after a CR3 reload: frame 0 again");

    write_cr4(read_cr4() | CR4_PGE);
    *pte(14) = (uint32_t)frame[1] | PTE_P | PTE_W | PTE_G;
    invlpg(PAGE(14));
    CHECK_EQ(rd(PAGE(14)), 0xbbbb1111, "a global page reads its frame");
    *pte(14) = (uint32_t)frame[0] | PTE_P | PTE_W | PTE_G;
    invlpg(PAGE(14));
    CHECK_EQ(rd(PAGE(14)), 0xaaaa0000, "invlpg flushes a global entry");
    *pte(14) = (uint32_t)frame[1] | PTE_P | PTE_W | PTE_G;
    write_cr4(read_cr4() & ~CR4_PGE);
    CHECK_EQ(rd(PAGE(14)), 0xbbbb1111, "clearing CR4.PGE flushes global entries");
    *pte(14) = 0;
    invlpg(PAGE(14));
    rd(PAGE(14));
    check_pf(0, PAGE(14), "an unmapped page faults after invlpg");
}

static void smc(void)
{
    test_section("self- and cross-modifying code");
    /* mov $imm32, %eax; ret */
    uint8_t *code = frame[15];
    code[0] = 0xb8;
    *(volatile uint32_t *)(code + 1) = 1;
    code[5] = 0xc3;
    uint32_t (*fn)(void) = (uint32_t(*)(void))code;
    CHECK_EQ(fn(), 1, "generated code runs");
    *(volatile uint32_t *)(code + 1) = 2;
    CHECK_EQ(fn(), 2, "a store into code that just ran is seen by the next execution");
    map(15, 15, PTE_P | PTE_W); /* alias of the same frame */
    fn();
    *(volatile uint32_t *)(PAGE(15) + 1) = 3;
    CHECK_EQ(fn(), 3, "a store through an alias mapping is seen too");
    /* Code that rewrites the instruction right after it. */
    uint8_t *p = code + 0x100;
    const uint8_t prog[] = {
        0xc6, 0x05, 0, 0, 0, 0, 0x42, /* movb $0x42, target(imm of the next mov) */
        0xb8, 0x11, 0, 0, 0,          /* target: mov $0x11, %eax */
        0xc3,
    };
    for (unsigned i = 0; i < sizeof(prog); i++) p[i] = prog[i];
    *(volatile uint32_t *)(p + 2) = (uint32_t)(p + 8);
    CHECK_EQ(((uint32_t(*)(void))p)(), 0x42, "a store to the next instruction takes effect at once");
}

/* #PF while delivering #UD (benign then #PF: serial), then #PF while delivering that
 * #PF: a double fault, which the #DF task (own stack, own CR3) reports. */
static volatile uint32_t saved_esp0;
static uint32_t u_ud2_on_broken_stack(uint32_t a)
{
    (void)a;
    __asm__ volatile(TRY("ud2") ::: "memory");
    tss_main.t.esp0 = saved_esp0; /* the way back (INT 0x30) needs the real stack */
    return 0;
}

static void nested_faults(void)
{
    test_section("page fault while delivering a fault");
    map(13, 13, 0);
    saved_esp0 = tss_main.t.esp0;
    tss_main.t.esp0 = PAGE(13) + 0x1000;
    ring_call(3, u_ud2_on_broken_stack, 0, 0x2);
    tss_main.t.esp0 = saved_esp0;
    CHECK_EQ(trap_last.vector, 8, "#UD -> #PF (ring-0 stack missing) -> #PF again: double fault");
    CHECK_EQ(trap_last.error, 0, "#DF error code 0");
    CHECK(trap_last.cr2 >= PAGE(13) + 0x1000 - 20 && trap_last.cr2 < PAGE(13) + 0x1000,
          "CR2 = a push into the missing ring-0 stack");
    CHECK_EQ(trap_last.cs, SEL_UCODE, "the interrupted task state is the ring-3 ud2");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-paging");
    setup();
    translation();
    fault_codes();
    pse_off();
    fetches();
    straddling_data();
    accessed_dirty();
    tlb();
    smc();
    nested_faults();
    paging_disable();
    CHECK(!(read_cr0() & CR0_PG), "paging off again");
    return test_finish();
}
