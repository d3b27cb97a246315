/*
 * Debug registers: DR0-DR3 breakpoints on execution (a fault: EIP at the instruction,
 * suppressed for one instruction by EFLAGS.RF) and on data writes or reads (a trap: EIP
 * after the access, the access done), lengths and overlap, the DR6 status bits (B0-B3,
 * BS, BD) and the bits that read as 1, DR7 enables and general detect (GD: a MOV to a
 * debug register raises #DB with BD, GD cleared on entry), DR4/DR5 aliasing with
 * CR4.DE = 0 and #UD with CR4.DE = 1, and #GP(0) for MOV DR outside ring 0.
 * QEMU ignores DR7.GD and reports a single step that coincides with a data breakpoint a
 * second time inside the #DB handler: those checks are CHECK_ARCH.
 * (Xen passes debug registers through to PV guests with set_debugreg.)
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

#define DR7_L(n) (1u << ((n) * 2))
#define DR7_RW(n, rw) ((uint32_t)(rw) << (16 + (n) * 4))
#define DR7_LEN(n, len) ((uint32_t)(len) << (18 + (n) * 4))
#define DR7_GD (1u << 13)
#define DR6_B(n) (1u << (n))
#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define RW_EXEC 0
#define RW_WRITE 1
#define RW_RDWR 3
#define LEN_1 0
#define LEN_2 1
#define LEN_4 3

#define DR_ACCESS(n)                                                                     \
    static uint32_t get_dr##n(void)                                                      \
    {                                                                                    \
        uint32_t v;                                                                      \
        __asm__ volatile("movl %%dr" #n ", %0" : "=r"(v));                               \
        return v;                                                                        \
    }                                                                                    \
    static void set_dr##n(uint32_t v) { __asm__ volatile("movl %0, %%dr" #n : : "r"(v) : "memory"); }
DR_ACCESS(0)
DR_ACCESS(1)
DR_ACCESS(2)
DR_ACCESS(3)
DR_ACCESS(6)
DR_ACCESS(7)

static volatile uint32_t watched[4] __attribute__((aligned(16)));

/* QEMU delivers a pending single step a second time at the first instruction of the #DB
 * handler (with TF already clear). Such a nested #DB is counted and dismissed, so the
 * outer one is handled normally; the architecture allows none. */
static volatile uint32_t nested_db;
static void db_handler(struct trap_frame *f)
{
    if (f->eip == idt_stub(1) && f->cs == SEL_KCODE) {
        nested_db++;
        return;
    }
    trap_default(f);
}

static void registers(void)
{
    test_section("the registers");
    set_dr0(0x11111111);
    set_dr1(0x22222222);
    set_dr2(0x33333333);
    set_dr3(0x44444444);
    CHECK(get_dr0() == 0x11111111 && get_dr1() == 0x22222222 && get_dr2() == 0x33333333 &&
              get_dr3() == 0x44444444,
          "DR0-DR3 hold what was written");
    set_dr6(0);
    CHECK_EQ(get_dr6(), 0xffff0ff0, "DR6 written 0 reads 0xffff0ff0 (reserved bits are 1)");
    set_dr7(0);
    CHECK_EQ(get_dr7(), 0x400, "DR7 written 0 reads 0x400 (bit 10 is 1)");
    uint32_t v = 0;
    write_cr4(read_cr4() & ~CR4_DE);
    __asm__ volatile(TRY("movl %%dr4, %0") : "+r"(v) : : "memory");
    check_no_fault("CR4.DE = 0: DR4 is accessible");
    CHECK_EQ(v, get_dr6(), "and aliases DR6");
    write_cr4(read_cr4() | CR4_DE);
    __asm__ volatile(TRY("movl %%dr4, %0") : "+r"(v) : : "memory");
    check_fault(6, 0, "CR4.DE = 1: mov from DR4 raises #UD");
    __asm__ volatile(TRY("movl %0, %%dr5") : : "r"(0) : "memory");
    check_fault(6, 0, "and mov to DR5 too");
    write_cr4(read_cr4() & ~CR4_DE);
}

static uint32_t u_mov_dr(uint32_t a)
{
    (void)a;
    uint32_t v = 0;
    __asm__ volatile(TRY("movl %%dr7, %0") : "+r"(v) : : "memory");
    return v;
}

static void execution(void)
{
    test_section("instruction breakpoints");
    uint32_t at;
    set_dr6(0);
    __asm__ volatile("movl $.Lbp%=, %0\n\tmovl %0, %%dr0\n\tmovl %1, %%dr7\n\t"
                     TRY(".Lbp%=:\n\tnop")
                     : "=&r"(at) : "r"(DR7_L(0) | DR7_RW(0, RW_EXEC) | DR7_LEN(0, LEN_1)) : "memory");
    set_dr7(0);
    CHECK(trap_last.vector == 1 && trap_last.eip == at, "#DB is a fault: EIP = the instruction");
    CHECK(get_dr6() & DR6_B(0), "DR6.B0 names the breakpoint");

    /* RF set in the IRET image lets the breakpointed instruction run once. */
    set_dr6(0);
    __asm__ volatile("movl $.Lrf%=, %0\n\tmovl %0, %%dr0\n\tmovl %1, %%dr7\n\t"
                     TRY("pushfl\n\torl $0x10000, (%%esp)\n\tpushl %%cs\n\tpushl $.Lrf%=\n\tiret\n"
                         ".Lrf%=:\n\tnop")
                     : "=&r"(at) : "r"(DR7_L(0)) : "memory");
    set_dr7(0);
    check_no_fault("EFLAGS.RF suppresses the instruction breakpoint once");

    set_dr6(0);
    __asm__ volatile("movl $.Lbp%=, %0\n\tmovl %0, %%dr2\n\tmovl %1, %%dr7\n\t"
                     TRY(".Lbp%=:\n\tnop")
                     : "=&r"(at) : "r"(DR7_RW(2, RW_EXEC)) : "memory");
    set_dr7(0);
    check_no_fault("a breakpoint whose L/G bits are clear does nothing");
}

static void data(void)
{
    test_section("data breakpoints");
    set_dr6(0);
    set_dr1((uint32_t)&watched[1]);
    set_dr7(DR7_L(1) | DR7_RW(1, RW_WRITE) | DR7_LEN(1, LEN_4));
    __asm__ volatile(TRY("movl $7, %0") : "=m"(watched[1]) : : "memory");
    check_trap(1, "a write to a watched dword: #DB trap after the instruction");
    CHECK_EQ(watched[1], 7, "the write happened");
    CHECK(get_dr6() & DR6_B(1), "DR6.B1 set");

    __asm__ volatile(TRY("movl %0, %%eax") : : "m"(watched[1]) : "eax", "memory");
    check_no_fault("a read does not trigger a write breakpoint");
    __asm__ volatile(TRY("movb $1, %0") : "=m"(*((volatile uint8_t *)&watched[1] + 2)) : : "memory");
    check_trap(1, "a byte write inside the watched dword triggers");
    __asm__ volatile(TRY("movl $1, %0") : "=m"(watched[2]) : : "memory");
    check_no_fault("the next dword is not watched");
    __asm__ volatile(TRY("movl $2, %0") : "=m"(*(volatile uint32_t *)((uint8_t *)&watched[0] + 2)) : : "memory");
    check_trap(1, "a misaligned dword overlapping the watched one triggers");

    set_dr7(DR7_L(1) | DR7_RW(1, RW_RDWR) | DR7_LEN(1, LEN_2));
    __asm__ volatile(TRY("movl %0, %%eax") : : "m"(watched[1]) : "eax", "memory");
    check_trap(1, "RW=11: a read triggers");
    __asm__ volatile(TRY("movb %0, %%al") : : "m"(*((volatile uint8_t *)&watched[1] + 2)) : "eax", "memory");
    check_no_fault("LEN=2: byte 2 of the dword is outside the watched word");
    set_dr7(0);

    test_section("single step and a data breakpoint together");
    set_dr6(0);
    set_dr3((uint32_t)&watched[3]);
    set_dr7(DR7_L(3) | DR7_RW(3, RW_WRITE) | DR7_LEN(3, LEN_4));
    __asm__ volatile(TRY("pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\tmovl $3, %0") : "=m"(watched[3]) : : "memory");
    set_dr7(0);
    CHECK(trap_last.vector == 1 && trap_last.eip == trap_done_eip, "a #DB after the store");
    CHECK_ARCH(nested_db == 0, "and only one");
    CHECK((get_dr6() & (DR6_BS | DR6_B(3))) == (DR6_BS | DR6_B(3)), "DR6 reports both BS and B3");
}

static void general_detect(void)
{
    test_section("general detect and privilege");
    set_dr6(0);
    set_dr7(DR7_GD);
    __asm__ volatile(TRY("movl %0, %%dr0") : : "r"(0x1234) : "memory");
    /* QEMU ignores DR7.GD. */
    CHECK_ARCH(trap_last.vector == 1 && trap_last.eip == trap_insn_eip, "DR7.GD: a mov to DR0 is a #DB fault");
    CHECK_ARCH(get_dr6() & DR6_BD, "DR6.BD set");
    CHECK_ARCH(!(get_dr7() & DR7_GD), "GD was cleared on entry to the handler");
    CHECK_ARCH(get_dr0() != 0x1234, "the mov did not happen");
    set_dr7(0);
    ring_call(3, u_mov_dr, 0, 0x2);
    check_fault(13, 0, "mov from DR7 at CPL 3: #GP(0)");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-debug");
    trap_set_handler(1, db_handler);
    registers();
    execution();
    data();
    general_detect();
    set_dr7(0);
    return test_finish();
}
