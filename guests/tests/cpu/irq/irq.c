/*
 * External interrupts through the PC's 8259A PICs from the 8254 PIT: IF holds a pending
 * IRQ back (it stays in the IRR), STI's one-instruction shadow, MOV SS's shadow (no
 * interrupt is ever taken between MOV SS and the next instruction), HLT woken by an IRQ
 * with EIP after the HLT, the PIC's mask, in-service and EOI, and a long REP MOVS that
 * runs under a stream of interrupts.
 *
 * Waits are bounded loops (never wall-clock timeouts), so the kernel behaves the same on
 * real time (QEMU) and on virtual time (tsxen).
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/pic.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

#define VEC_IRQ0 PIC_BASE
#define WAIT_LOOPS 200000000u

static volatile uint32_t irq_count, irq_vector, irq_eip, irq_isr, irq_flags;
static volatile uint32_t f1, f2;
static volatile uint32_t seen_f1, seen_f2;
static volatile uint32_t shadow_eip, shadow_hits;
static int eoi_in_handler = 1;
/* When set, the handler masks IRQ 0 after it: exactly one delivery, whatever the timing
 * of the host (QEMU's PIT runs on host time; a descheduled vCPU can see two periods). */
static int single_shot = 1;

static void irq0_handler(struct trap_frame *f)
{
    irq_count++;
    irq_vector = f->vector;
    irq_eip = f->eip;
    irq_isr = pic_read_isr();
    irq_flags = f->eflags;
    seen_f1 = f1;
    seen_f2 = f2;
    if (shadow_eip && f->eip == shadow_eip) shadow_hits++;
    if (single_shot) pic_set_mask(0xffff);
    if (eoi_in_handler) pic_eoi(0);
}

/* Unmask IRQ 0 and wait with IF=0 until it is pending in the IRR; false if it never
 * comes. */
static int wait_pending(void)
{
    pic_set_mask(0xfffe);
    for (uint32_t i = 0; i < WAIT_LOOPS; i++)
        if (pic_read_irr() & 1) return 1;
    return 0;
}

static int wait_count(uint32_t n)
{
    for (uint32_t i = 0; i < WAIT_LOOPS; i++)
        if (irq_count >= n) return 1;
    return 0;
}

static void basics(void)
{
    test_section("IF holds a pending IRQ back");
    trap_set_handler(VEC_IRQ0, irq0_handler);
    pit_periodic(1193); /* about 1 kHz */
    pic_set_mask(0xfffe);
    CHECK_EQ(pic_get_mask(), 0xfffe, "the PIC mask reads back");
    pic_set_mask(0xffff);
    CHECK(wait_pending(), "with IF=0 the IRQ becomes pending in the IRR");
    CHECK_EQ(irq_count, 0, "and is not delivered");
    sti();
    __asm__ volatile("nop");
    cli();
    CHECK_EQ(irq_count, 1, "sti: the pending IRQ is delivered");
    CHECK_EQ(irq_vector, VEC_IRQ0, "at the remapped vector 0x20");
    CHECK(irq_isr & 1, "IRQ 0 is in service inside the handler");
    CHECK(!(irq_flags & EFL_VM) && (irq_flags & EFL_IF), "the saved EFLAGS has IF=1");
    CHECK_EQ(pic_read_isr() & 1, 0, "the EOI cleared the in-service bit");

    test_section("the mask");
    pic_set_mask(0xffff);
    irq_count = 0;
    for (volatile int i = 0; i < 1000; i++) {
    }
    (void)wait_pending();
    pic_set_mask(0xffff);
    sti();
    for (volatile int i = 0; i < 100000; i++) {
    }
    cli();
    CHECK_EQ(irq_count, 0, "a masked IRQ is not delivered with IF=1");
}

static void sti_shadow(void)
{
    test_section("the STI shadow");
    irq_count = 0;
    CHECK(wait_pending(), "IRQ 0 pending with IF=0");
    f1 = f2 = 0;
    __asm__ volatile("sti\n\tmovl $1, f1\n\tmovl $1, f2\n\tcli" ::: "memory");
    CHECK_EQ(irq_count, 1, "delivered once after sti");
    CHECK_EQ(seen_f1, 1, "the instruction after sti ran before the interrupt");
    CHECK_EQ(seen_f2, 0, "the one after it did not");

    /* cli; sti; nop in a loop: an interrupt can never land right after the sti. */
    single_shot = 0;
    pic_set_mask(0xfffe);
    irq_count = 0;
    shadow_hits = 0;
    uint32_t n = 20000000;
    __asm__ volatile("movl $.Lnop%=, shadow_eip\n"
                     "1:\n\tcli\n\tsti\n"
                     ".Lnop%=:\n\tnop\n\tnop\n\t"
                     "cmpl $40, irq_count\n\tjae 2f\n\t"
                     "decl %0\n\tjnz 1b\n"
                     "2:\n\tcli\n\tmovl $0, shadow_eip"
                     : "+r"(n) : : "memory", "cc");
    CHECK(irq_count >= 40, "40 interrupts arrived during the cli/sti loop");
    CHECK_EQ(shadow_hits, 0, "none between sti and the next instruction");
}

static void mov_ss_shadow(void)
{
    test_section("the MOV SS shadow");
    irq_count = 0;
    shadow_hits = 0;
    uint32_t n = 20000000;
    __asm__ volatile("movl $.Lafter%=, shadow_eip\n\t"
                     "sti\n"
                     "1:\n\tmovw %%ss, %%ax\n\tmovw %%ax, %%ss\n"
                     ".Lafter%=:\n\tnop\n\t"
                     "cmpl $40, irq_count\n\tjae 2f\n\t"
                     "decl %0\n\tjnz 1b\n"
                     "2:\n\tcli\n\tmovl $0, shadow_eip"
                     : "+r"(n) : : "eax", "memory", "cc");
    CHECK(irq_count >= 40, "40 interrupts arrived during the mov ss loop");
    CHECK_EQ(shadow_hits, 0, "none right after mov ss");
    single_shot = 1;

    CHECK(wait_pending(), "IRQ 0 pending with IF=0");
    f1 = f2 = 0;
    irq_count = 0;
    __asm__ volatile("popl %%eax\n\tpushl %%eax\n\t" /* keep the stack as it is */
                     "pushfl\n\torl $0x200, (%%esp)\n\tpopfl\n\t"
                     "movl $1, f1\n\tcli"
                     ::: "eax", "memory");
    CHECK_EQ(irq_count, 1, "popf setting IF delivers the pending IRQ");
    CHECK_EQ(seen_f1, 0, "popf has no shadow: before the next instruction");
}

static void hlt_wakeup(void)
{
    test_section("HLT");
    irq_count = 0;
    pic_set_mask(0xfffe);
    uint32_t after;
    __asm__ volatile("movl $.Lwoke%=, %0\n\tsti\n\thlt\n.Lwoke%=:\n\tcli" : "=&r"(after) : : "memory");
    CHECK_EQ(irq_count, 1, "an IRQ wakes hlt");
    CHECK_EQ(irq_eip, after, "the saved EIP is after the hlt");
}

static void in_service(void)
{
    test_section("in service and EOI");
    eoi_in_handler = 0;
    single_shot = 0;
    pic_set_mask(0xfffe);
    irq_count = 0;
    sti();
    CHECK(wait_count(1), "one IRQ taken without EOI");
    for (volatile int i = 0; i < 3000000; i++) {
    }
    cli();
    CHECK_EQ(irq_count, 1, "no second IRQ 0 while the first is in service");
    CHECK(pic_read_isr() & 1, "ISR still shows IRQ 0");
    eoi_in_handler = 1;
    pic_eoi(0);
    sti();
    CHECK(wait_count(2), "after the EOI IRQ 0 comes again");
    cli();
    single_shot = 1;
}

static uint8_t big_src[256 * 1024], big_dst[256 * 1024];

static void string_under_irqs(void)
{
    test_section("REP MOVS under interrupts");
    for (uint32_t i = 0; i < sizeof(big_src); i++) big_src[i] = (uint8_t)(i * 7 + (i >> 8));
    irq_count = 0;
    single_shot = 0;
    pic_set_mask(0xfffe);
    uint32_t ecx = sizeof(big_src);
    sti();
    for (int round = 0; round < 8; round++) {
        ecx = sizeof(big_src);
        void *d = big_dst, *s = big_src;
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(ecx) : : "memory");
    }
    cli();
    int same = 1;
    for (uint32_t i = 0; i < sizeof(big_src); i++)
        if (big_dst[i] != big_src[i]) same = 0;
    CHECK(same && ecx == 0, "the copy is complete and exact");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-irq");
    basics();
    sti_shadow();
    mov_ss_shadow();
    hlt_wakeup();
    in_service();
    string_under_irqs();
    pic_set_mask(0xffff);
    return test_finish();
}
