/*
 * Hostile: what ring 3 may not do under a PV kernel. The hypercall gate (int $0x82) is
 * DPL 1: #GP with the IDT error code; privileged instructions (cli, hlt, I/O, CR and
 * descriptor-table access) are #GP(0); supervisor pages (kernel data, the M2P) fault with
 * the user bit in the error code; a read-only user page faults on write; a virtual-IDT
 * entry with DPL 1 refuses INT n from ring 3; int3 and entries with DPL 3 are allowed.
 */
#include "lib/pvtest.h"

PVTEST("user_privilege", "SUCCESS", 1, "", "ring-3 faults: hypercalls, privileged insns, supervisor pages");

#define T pvt_last_trap

static volatile uint32_t kernel_word = 0x4b;
PVT_USER_DATA static volatile uint32_t user_word = 0x55;
PVT_USER_DATA static volatile uint32_t user_ro_page[1024] __attribute__((aligned(4096)));

PVT_USER_TEXT static uint32_t u_hypercall(uint32_t a) { __asm__ volatile("int %[v]" : "+a"(a) : [v] "i"(HYPERCALL_VECTOR)); return a; }
PVT_USER_TEXT static uint32_t u_cli(uint32_t a) { __asm__ volatile("cli"); return a; }
PVT_USER_TEXT static uint32_t u_hlt(uint32_t a) { __asm__ volatile("hlt"); return a; }
PVT_USER_TEXT static uint32_t u_in(uint32_t a) { __asm__ volatile("inb $0x80, %%al" : "+a"(a)); return a; }
PVT_USER_TEXT static uint32_t u_cr3(uint32_t a) { __asm__ volatile("mov %%cr3, %0" : "=r"(a)); return a; }
PVT_USER_TEXT static uint32_t u_lgdt(uint32_t a) { __asm__ volatile("lgdt (%0)" : : "r"(a)); return a; }
PVT_USER_TEXT static uint32_t u_read(uint32_t a) { return *(volatile uint32_t *)a; }
PVT_USER_TEXT static uint32_t u_write(uint32_t a) { *(volatile uint32_t *)a = 1; return 0; }
PVT_USER_TEXT static uint32_t u_int41(uint32_t a) { __asm__ volatile("int $0x41"); return a; }
PVT_USER_TEXT static uint32_t u_int45(uint32_t a) { PVT_TRY("int $0x45"); return a + 1; }
PVT_USER_TEXT static uint32_t u_int3(uint32_t a) { PVT_TRY("int3"); return a + 2; }

static void expect_user_fault(const char *what, uint32_t (*fn)(uint32_t), uint32_t arg,
                              unsigned vector, uint32_t ec)
{
    pv_printf("%s:\n", what);
    pvt_trap_reset();
    CHECK_EQ(pvt_user_call(fn, arg), PVT_USER_FAULTED);
    CHECK_EQ(T.vector, vector);
    CHECK_EQ(T.error_code, ec);
    CHECK_EQ(T.from_user, 1);
    CHECK_EQ(T.cs, FLAT_USER_CS);
}

void test_main(void)
{
    expect_user_fault("int $0x82 (hypercall) from ring 3", u_hypercall, __HYPERVISOR_xen_version,
                      X86_EXC_GP, (HYPERCALL_VECTOR << 3) | 2);
    expect_user_fault("cli", u_cli, 0, X86_EXC_GP, 0);
    expect_user_fault("hlt", u_hlt, 0, X86_EXC_GP, 0);
    expect_user_fault("in", u_in, 0, X86_EXC_GP, 0);
    expect_user_fault("mov from cr3", u_cr3, 0, X86_EXC_GP, 0);
    expect_user_fault("lgdt", u_lgdt, (uint32_t)&user_word, X86_EXC_GP, 0);

    expect_user_fault("read of a kernel page", u_read, (uint32_t)&kernel_word, X86_EXC_PF,
                      X86_PFEC_USER | X86_PFEC_PRESENT);
    CHECK_EQ(T.cr2 == (uint32_t)&kernel_word, 1);
    expect_user_fault("read of the M2P", u_read, HYPERVISOR_VIRT_START, X86_EXC_PF,
                      X86_PFEC_USER | X86_PFEC_PRESENT);
    expect_user_fault("read of page 0", u_read, 0x10, X86_EXC_PF, X86_PFEC_USER);

    /* A user page made read-only: reads are fine, writes fault (present|write|user). */
    unsigned long ro = (unsigned long)user_ro_page;
    CHECK_EQ(pvt_set_writable(ro, 0), 0);
    CHECK_EQ(pvt_user_call(u_read, (uint32_t)&user_word), 0x55);
    expect_user_fault("write to a read-only user page", u_write, ro, X86_EXC_PF,
                      X86_PFEC_USER | X86_PFEC_WRITE | X86_PFEC_PRESENT);
    CHECK_EQ(pvt_set_writable(ro, 1), 0);

    /* INT n: DPL 1 entry refuses ring 3 (#GP with the IDT error code); DPL 3 admits it. */
    CHECK_EQ(pvt_set_trap(0x41, 1, 0), 0);
    CHECK_EQ(pvt_set_trap(0x45, 3, 0), 0);
    expect_user_fault("int $0x41 (DPL 1) from ring 3", u_int41, 0, X86_EXC_GP, (0x41 << 3) | 2);
    pvt_trap_reset();
    CHECK_EQ(pvt_user_call(u_int45, 1), 2);
    CHECK_EQ(T.vector, 0x45);
    CHECK_EQ(T.from_user, 1);
    pvt_trap_reset();
    CHECK_EQ(pvt_user_call(u_int3, 1), 3);
    CHECK_EQ(T.vector, X86_EXC_BP);
}
