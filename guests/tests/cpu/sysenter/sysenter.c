/*
 * SYSENTER/SYSEXIT: the SYSENTER_CS/ESP/EIP MSRs, the fixed selectors the instructions
 * derive from SYSENTER_CS (CS, SS = CS + 8 on entry; CS + 16, CS + 24 with RPL 3 on
 * exit), the stack and return point they take from the MSR and from ECX/EDX, the flags
 * SYSENTER clears (IF, VM, RF) and SYSEXIT leaves alone, and the #GP(0) cases (a null
 * SYSENTER_CS, SYSEXIT outside ring 0).
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);
uint32_t u_sysenter(uint32_t arg);
void sysenter_entry(void);

/* 0 cs, 4 ss, 8 esp, 12 eflags, 16 eax in; 20 eax back, 24 cs, 28 ss, 32 esp, 36 eflags. */
volatile uint32_t se_seen[10];
static uint8_t se_stack[4096] __attribute__((aligned(16)));

static uint32_t u_sysenter_try(uint32_t a)
{
    (void)a;
    __asm__ volatile(TRY("sysenter") ::: "memory");
    return 0;
}
static uint32_t u_sysexit_try(uint32_t a)
{
    (void)a;
    __asm__ volatile(TRY("sysexit") ::: "memory");
    return 0;
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-sysenter");
    if (!cpu_has(CPUID_SEP)) test_skip("no SYSENTER (CPUID.1:EDX.SEP)");

    test_section("the MSRs");
    uint32_t top = (uint32_t)(se_stack + sizeof(se_stack));
    wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
    wrmsr(MSR_SYSENTER_ESP, top);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
    CHECK_EQ(rdmsr(MSR_SYSENTER_CS), SEL_KCODE, "SYSENTER_CS reads back");
    CHECK_EQ(rdmsr(MSR_SYSENTER_ESP), top, "SYSENTER_ESP reads back");
    CHECK_EQ(rdmsr(MSR_SYSENTER_EIP), (uint32_t)sysenter_entry, "SYSENTER_EIP reads back");

    test_section("ring 3 -> 0 -> 3");
    uint32_t uesp_before;
    __asm__ volatile("" ::: "memory");
    ring_call(3, u_sysenter, 0, 0x2 | EFL_IF);
    uesp_before = ring_stack_top[3];
    CHECK_EQ(se_seen[0], SEL_KCODE, "SYSENTER: CS = SYSENTER_CS (RPL 0)");
    CHECK_EQ(se_seen[1], SEL_KCODE + 8, "SS = SYSENTER_CS + 8");
    CHECK_EQ(se_seen[2], top, "ESP = SYSENTER_ESP (nothing pushed)");
    CHECK(!(se_seen[3] & EFL_IF), "IF cleared on entry");
    CHECK_EQ(se_seen[4], 0xcafe0001, "general registers pass through");
    CHECK_EQ(se_seen[5], 0xcafe0002, "and back");
    CHECK_EQ(se_seen[6], (SEL_KCODE + 16) | 3, "SYSEXIT: CS = SYSENTER_CS + 16, RPL 3");
    CHECK_EQ(se_seen[7], (SEL_KCODE + 24) | 3, "SS = SYSENTER_CS + 24, RPL 3");
    CHECK(se_seen[8] < uesp_before && uesp_before - se_seen[8] < 64, "ESP = ECX at SYSEXIT (the user stack)");
    CHECK(!(se_seen[9] & EFL_IF), "SYSEXIT leaves EFLAGS as they were (IF still clear)");

    test_section("faults");
    ring_call(3, u_sysexit_try, 0, 0x2);
    check_fault(13, 0, "SYSEXIT at CPL 3: #GP(0)");
    wrmsr(MSR_SYSENTER_CS, 0);
    ring_call(3, u_sysenter_try, 0, 0x2);
    check_fault(13, 0, "SYSENTER with SYSENTER_CS = 0: #GP(0)");
    __asm__ volatile(TRY("sysexit") ::: "memory");
    check_fault(13, 0, "SYSEXIT with SYSENTER_CS = 0: #GP(0)");
    wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
    return test_finish();
}
