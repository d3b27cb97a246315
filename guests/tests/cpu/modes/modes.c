/*
 * Processor modes: protected -> real -> protected round trips (through a 16-bit
 * protected-mode segment, as the manual prescribes), real-mode addressing (segment * 16
 * + offset), the IVT (INT n pushes FLAGS, CS, IP and clears IF/TF; #DE and #UD are faults
 * with IP at the instruction), far calls, operand- and address-size prefixes, unreal mode
 * (a 4 GiB limit cached in FS survives the switch), the A20 gate at port 0x92, and LMSW's
 * inability to clear PE.
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

#define RM_BASE 0x8000u
#define RM_SEG 0x0800u
extern char rm_blob_start[], rm_blob_end[], rm_results[];
extern char rm_div_insn[], rm_ud2_insn[];
extern char rm_test_basic[], rm_test_unreal[], rm_test_a20[], rm_isr_60[], rm_isr_de[], rm_isr_ud[];
void rm_call(uint32_t entry);

static uint32_t off(const char *sym) { return (uint32_t)(sym - rm_blob_start); }
static uint32_t res(int n) { return *(volatile uint32_t *)(RM_BASE + off(rm_results) + 4u * (uint32_t)n); }
static void set_ivt(int vec, const char *handler)
{
    /* The IVT sits at physical 0; hide the null pointer from the optimizer. */
    volatile uint32_t *ivt;
    __asm__("" : "=r"(ivt) : "0"(0));
    ivt[vec] = (RM_SEG << 16) | off(handler);
}

static void setup(void)
{
    uint32_t n = (uint32_t)(rm_blob_end - rm_blob_start);
    if (RM_BASE + n > 0xf000) test_error("real-mode blob too large");
    for (uint32_t i = 0; i < n; i++) ((volatile uint8_t *)RM_BASE)[i] = (uint8_t)rm_blob_start[i];
    set_ivt(0x60, rm_isr_60);
    set_ivt(0, rm_isr_de);
    set_ivt(6, rm_isr_ud);
}

static void real_mode_basics(void)
{
    test_section("protected -> real -> protected");
    *(volatile uint32_t *)0x12350 = 0x5e9a1234;
    *(volatile uint32_t *)(RM_SEG * 16 + 0x1000) = 0xadd32bad;
    rm_call(off(rm_test_basic));
    CHECK_EQ(read_cs(), SEL_KCODE, "back in 32-bit protected mode");
    CHECK(read_cr0() & CR0_PE, "CR0.PE set again");
    CHECK_EQ(res(0) & CR0_PE, 0, "CR0.PE read 0 in real mode");
    CHECK_EQ(res(1), 0x5e9a1234, "DS=0x1234, offset 0x10 reaches physical 0x12350");
    CHECK_EQ(res(2), RM_SEG, "CS held the real-mode segment");
    CHECK_EQ(res(3), 0x12345678, "a 32-bit operand (0x66) in real mode");
    CHECK_EQ(res(12), 0xadd32bad, "a 32-bit address (0x67) in real mode");

    test_section("real-mode interrupts and calls");
    CHECK_EQ(res(5), res(4) - 6, "int 0x60 through the IVT pushed FLAGS, CS, IP (6 bytes)");
    CHECK_EQ(res(7), RM_SEG, "the pushed CS");
    CHECK_EQ(res(8) & (EFL_IF | EFL_TF), 0, "IF and TF clear in the handler");
    CHECK_EQ(res(9), 0xde, "div by zero went through IVT[0]");
    CHECK_EQ(res(10), 6, "ud2 went through IVT[6]");
    CHECK_EQ(res(13), off(rm_div_insn), "#DE pushes the IP of the div (a fault)");
    CHECK_EQ(res(14), off(rm_ud2_insn), "#UD pushes the IP of the ud2");
    CHECK_EQ(res(11), res(4) - 4, "lcall pushed CS and IP (4 bytes)");

    rm_call(off(rm_test_basic));
    CHECK_EQ(res(1), 0x5e9a1234, "a second round trip works the same");
}

static void unreal_and_a20(void)
{
    test_section("unreal mode");
    *(volatile uint32_t *)0x2f0000 = 0x0b16b16;
    __asm__ volatile("movw %0, %%fs" : : "r"((uint16_t)SEL_KDATA));
    rm_call(off(rm_test_unreal));
    CHECK_EQ(res(20), 0x0b16b16, "a 4 GiB FS from protected mode reads 0x2f0000 in real mode");
    CHECK_EQ(*(volatile uint32_t *)0x2f0004, 0x600dcafe, "and writes there");

    test_section("A20 gate (port 0x92)");
    rm_call(off(rm_test_a20));
    CHECK(res(21) & 2, "A20 is enabled at Multiboot entry");
    CHECK_EQ(res(22), 0xaa, "with A20 on, 0x3f0000 and 0x2f0000 are distinct");
    CHECK_EQ(res(23) & 2, 0, "port 0x92 bit 1 reads back 0");
    CHECK_EQ(res(24), 0x77, "with A20 off, a write to 0x3f0000 lands at 0x2f0000");
    CHECK_EQ(res(25), 0x77, "A20 on again: 0x3f0000 no longer aliases");
    CHECK_EQ(res(26), 0x99, "and holds its own byte");
    CHECK(inb(0x92) & 2, "A20 is on in protected mode afterwards");
    __asm__ volatile("movw %0, %%fs" : : "r"((uint16_t)SEL_KDATA));
}

static void lmsw(void)
{
    test_section("lmsw");
    uint16_t msw = 0;
    __asm__ volatile("lmsw %0" : : "r"(msw));
    CHECK(read_cr0() & CR0_PE, "lmsw cannot clear PE");
    uint16_t s;
    __asm__ volatile("smsw %0" : "=r"(s));
    CHECK(s & 1, "smsw shows PE");
    msw = (uint16_t)(read_cr0() | CR0_TS);
    __asm__ volatile("lmsw %0" : : "r"(msw));
    CHECK(read_cr0() & CR0_TS, "lmsw sets TS");
    __asm__ volatile("clts");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-modes");
    setup();
    real_mode_basics();
    unreal_and_a20();
    lmsw();
    return test_finish();
}
