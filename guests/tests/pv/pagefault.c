/*
 * Page faults of a ring-1 kernel: the error code (present, write, fetch bits; user bit
 * clear because ring 1 is supervisor), CR2 in vcpu_info.arch.cr2 and through the emulated
 * `mov %cr2`, and the faulting EIP, for not-present reads and writes, writes to a
 * read-only page and instruction fetches from an NX page.
 */
#include "lib/pvtest.h"

PVTEST("pagefault", "SUCCESS", 0, "", "#PF error codes and CR2 for reads, writes, RO pages, NX fetches");

#define T pvt_last_trap

static uint32_t read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void expect_pf(const char *what, uint32_t ec, uint32_t addr)
{
    pv_printf("%s:\n", what);
    CHECK_EQ(T.count, 1);
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.error_code, ec);
    CHECK_EQ(T.fixed_up, 1);
    CHECK_EQ(T.cr2 == addr, 1);
    CHECK_EQ(read_cr2() == addr, 1);
}

static volatile uint32_t nx_page, nx_resume;
static int nx_hook(struct pvt_frame *f)
{
    if (f->vector != X86_EXC_PF || f->eip != nx_page) return 0;
    f->eip = nx_resume;
    return 1;
}

void test_main(void)
{
    pvt_trap_reset();
    PVT_TRY("movl (%0), %%eax", : : "r"(0x10) : "eax");
    expect_pf("read, not present", 0, 0x10);

    pvt_trap_reset();
    PVT_TRY("movl %%eax, (%0)", : : "r"(0x20), "a"(0));
    expect_pf("write, not present", X86_PFEC_WRITE, 0x20);

    volatile uint32_t *page = pvt_alloc_page();
    page[0] = 0x1234;
    CHECK_EQ(pvt_set_writable((unsigned long)page, 0), 0);
    CHECK_EQ(page[0], 0x1234);  /* still readable */
    pvt_trap_reset();
    PVT_TRY("movl %%eax, (%0)", : : "r"(page + 3), "a"(0));
    expect_pf("write to a read-only page", X86_PFEC_PRESENT | X86_PFEC_WRITE,
              (uint32_t)(page + 3));
    CHECK_EQ(page[3], 0);
    CHECK_EQ(pvt_set_writable((unsigned long)page, 1), 0);
    page[3] = 7;
    CHECK_EQ(page[3], 7);

    /* Fetch from an NX page: a ret placed in a page mapped with NX. */
    volatile uint8_t *code = pvt_alloc_page();
    code[0] = 0xc3;
    uint64_t pte = pvt_pte((unsigned long)code);
    CHECK_EQ(HYPERVISOR_update_va_mapping((unsigned long)code, pte | _PAGE_NX, UVMF_INVLPG), 0);
    nx_page = (uint32_t)code;
    pvt_trap_hook = nx_hook;
    pvt_trap_reset();
    /* jmp into the NX page; the fault's EIP is the page itself, the hook resumes at 1:. */
    __asm__ volatile("movl $1f, %0\n"
                     "jmp *%1\n"
                     "1:\n"
                     : "=m"(nx_resume) : "r"(code) : "memory");
    pvt_trap_hook = 0;
    CHECK_EQ(T.vector, X86_EXC_PF);
    CHECK_EQ(T.error_code, X86_PFEC_PRESENT | X86_PFEC_INSN);
    CHECK_EQ(T.eip == (uint32_t)code, 1);
    CHECK_EQ(T.cr2 == (uint32_t)code, 1);
    /* Without NX the same call returns normally. */
    CHECK_EQ(HYPERVISOR_update_va_mapping((unsigned long)code, pte, UVMF_INVLPG), 0);
    pvt_trap_reset();
    ((void (*)(void))code)();
    CHECK_EQ(T.count, 0);

    /* Events unmasked at the fault: the frame says so. */
    pvt_vcpu(0)->evtchn_upcall_mask = 0;
    pvt_trap_reset();
    PVT_TRY("movl (%0), %%eax", : : "r"(0x30) : "eax");
    pvt_vcpu(0)->evtchn_upcall_mask = 1;
    expect_pf("read, not present, events unmasked", 0, 0x30);
    CHECK_EQ(T.saved_mask, 0);
    CHECK_NE(T.eflags & X86_EFLAGS_IF, 0);
}
