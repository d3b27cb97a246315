/*
 * Hardware task switching: JMP, CALL and INT through TSS descriptors and task gates (GDT
 * and IDT), IRET with NT back along the link, the busy bit and NT rules that go with each
 * (JMP clears the old task's busy bit, CALL keeps it, sets NT and the back-link), what is
 * saved into the old TSS and loaded from the new one (registers, EIP, LDTR, CR3, CR0.TS),
 * nested CALLs unwound by IRETs, the faults of a bad switch (busy, short limit, not
 * present, DPL, dead back-link), and a task running at CPL 3.
 *
 * Each task body is an endless loop: entering a task resumes it where it last switched
 * away, so one iteration is one visit.
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/paging.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

#define TSS_A (GDT_FREE + 0)
#define TSS_B (GDT_FREE + 1)
#define TG_B (GDT_FREE + 2)
#define TSS_SHORT (GDT_FREE + 3)
#define TSS_NP (GDT_FREE + 4)
#define LDT_A (GDT_FREE + 5)
#define TSS_D (GDT_FREE + 6)
#define TG_MAIN3 (GDT_FREE + 7)
#define TSS_C (GDT_FREE + 8)
#define TSS_E (GDT_FREE + 9)
#define TSS_F (GDT_FREE + 10)
#define TSS_G (GDT_FREE + 11)

static struct tss32 tss_a, tss_b, tss_c, tss_d, tss_e, tss_f, tss_g, tss_spare;
static uint8_t stack_e[4096] __attribute__((aligned(16)));
static uint8_t stack_f[4096] __attribute__((aligned(16)));
static uint8_t stack_g[4096] __attribute__((aligned(16)));
static uint8_t stack_a[4096] __attribute__((aligned(16)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_c[4096] __attribute__((aligned(16)));
static uint8_t stack_d[4096] __attribute__((aligned(16)));
static uint8_t stack_d0[4096] __attribute__((aligned(16)));
static uint64_t ldt_a[4] __attribute__((aligned(8)));
static uint32_t ldt_data[4] = { 0x1d71d7 };

/* What each visit saw. */
static volatile struct {
    uint32_t visits, eax, eflags, cr0, busy_self, busy_main, main_eip, main_ebx, link;
    uint32_t ldtr, ldt_read, cs;
} seen_a, seen_b, seen_c, seen_d;

static void far_jmp_sel(uint16_t sel)
{
    struct __attribute__((packed)) {
        uint32_t off;
        uint16_t sel;
    } p = { 0, sel };
    __asm__ volatile("ljmp *%0" : : "m"(p) : "memory");
}

__attribute__((noreturn)) static void task_a(void)
{
    for (;;) {
        uint32_t eax;
        __asm__ volatile("" : "=a"(eax));
        seen_a.visits++;
        seen_a.eax = eax;
        seen_a.eflags = read_eflags();
        seen_a.cr0 = read_cr0();
        seen_a.busy_self = (uint32_t)gdt_tss_busy(TSS_A);
        seen_a.busy_main = (uint32_t)gdt_tss_busy(5);
        seen_a.main_eip = tss_main.t.eip;
        seen_a.main_ebx = tss_main.t.ebx;
        seen_a.link = tss_a.link;
        uint16_t l;
        __asm__ volatile("sldt %0" : "=r"(l));
        seen_a.ldtr = l;
        uint32_t v = 0;
        __asm__ volatile("movw %w1, %%fs\n\tmovl %%fs:0, %0" : "=r"(v) : "r"(0x0c) : "memory");
        seen_a.ldt_read = v;
        far_jmp_sel(SEL_TSS);
    }
}

__attribute__((noreturn)) static void task_b(void)
{
    for (;;) {
        seen_b.visits++;
        seen_b.eflags = read_eflags();
        seen_b.busy_self = (uint32_t)gdt_tss_busy(TSS_B);
        seen_b.busy_main = (uint32_t)gdt_tss_busy(5);
        seen_b.link = tss_b.link;
        __asm__ volatile("iret" ::: "memory");
    }
}

/* Reached through an IDT task gate: the interrupted task is the back-link. */
__attribute__((noreturn)) static void task_c(void)
{
    for (;;) {
        seen_c.visits++;
        seen_c.eflags = read_eflags();
        seen_c.link = tss_c.link;
        seen_c.busy_main = (uint32_t)gdt_tss_busy(5);
        __asm__ volatile("iret" ::: "memory");
    }
}

/* A task at CPL 3. It may not jump to a DPL 0 TSS, but may use a DPL 3 task gate. */
__attribute__((noreturn)) static void task_d(void)
{
    for (;;) {
        seen_d.visits++;
        seen_d.cs = read_cs();
        struct __attribute__((packed)) {
            uint32_t off;
            uint16_t sel;
        } p = { 0, GDT_SEL(TSS_A, 3) };
        __asm__ volatile(TRY("ljmp *%0") : : "m"(p) : "memory");
        seen_d.eax = trap_last.vector;
        seen_d.eflags = trap_last.error;
        far_jmp_sel(GDT_SEL(TG_MAIN3, 3));
    }
}

/* E calls F (a nested task call), F irets to E, E irets to main. */
static volatile uint32_t e_link, f_link, f_busy_main, f_busy_e, f_busy_f, f_visits, e_after_f;
__attribute__((noreturn)) static void task_e(void)
{
    for (;;) {
        struct __attribute__((packed)) {
            uint32_t off;
            uint16_t sel;
        } p = { 0, GDT_SEL(TSS_F, 0) };
        e_link = tss_e.link;
        __asm__ volatile("lcall *%0" : : "m"(p) : "memory");
        e_after_f = f_visits;
        __asm__ volatile("iret" ::: "memory");
    }
}

__attribute__((noreturn)) static void task_f(void)
{
    for (;;) {
        f_visits++;
        f_link = tss_f.link;
        f_busy_main = (uint32_t)gdt_tss_busy(5);
        f_busy_e = (uint32_t)gdt_tss_busy(TSS_E);
        f_busy_f = (uint32_t)gdt_tss_busy(TSS_F);
        __asm__ volatile("iret" ::: "memory");
    }
}

/* G runs on its own page tables: the switch loads CR3 from its TSS. */
#define G_VA 0x40000000u
static volatile uint32_t g_read, g_cr3;
__attribute__((noreturn)) static void task_g(void)
{
    for (;;) {
        g_read = *(volatile uint32_t *)G_VA;
        g_cr3 = read_cr3();
        __asm__ volatile("iret" ::: "memory");
    }
}

static void tss_init(struct tss32 *t, void (*entry)(void), uint8_t *stack, int ring)
{
    for (unsigned i = 0; i < sizeof(*t); i++) ((uint8_t *)t)[i] = 0;
    t->eip = (uint32_t)entry;
    t->esp = (uint32_t)(stack + 4096);
    t->eflags = 0x2;
    t->cs = ring ? SEL_UCODE : SEL_KCODE;
    t->ss = t->ds = t->es = t->fs = t->gs = ring ? SEL_UDATA : SEL_KDATA;
    t->ss0 = SEL_KDATA;
    t->esp0 = (uint32_t)(stack_d0 + 4096);
    t->cr3 = read_cr3();
    t->iomap_base = TSS32_SIZE;
}

static void setup(void)
{
    tss_init(&tss_a, task_a, stack_a, 0);
    tss_a.eax = 0xa1a1a1a1;
    tss_a.ldt = GDT_SEL(LDT_A, 0);
    tss_init(&tss_b, task_b, stack_b, 0);
    tss_init(&tss_c, task_c, stack_c, 0);
    tss_init(&tss_d, task_d, stack_d, 3);
    tss_init(&tss_spare, task_a, stack_a, 0);
    gdt_set_tss(TSS_A, &tss_a, TSS32_SIZE, 0);
    gdt_set_tss(TSS_B, &tss_b, TSS32_SIZE, 0);
    gdt_set_taskgate(TG_B, GDT_SEL(TSS_B, 0), 0);
    gdt_set_tss(TSS_SHORT, &tss_spare, 0x60 + 1, 0);
    gdt_set_tss(TSS_NP, &tss_spare, TSS32_SIZE, 0);
    gdt[TSS_NP] &= ~(1ull << 47);
    ldt_a[1] = desc_make((uint32_t)ldt_data, 0xfff, ACC_P | ACC_S | ACC_WRITE, FLG_DB);
    gdt_set(LDT_A, (uint32_t)ldt_a, sizeof(ldt_a) - 1, ACC_P | SYS_LDT, 0);
    gdt_set_tss(TSS_D, &tss_d, TSS32_SIZE, 0);
    gdt_set_taskgate(TG_MAIN3, SEL_TSS, 3);
    gdt_set_tss(TSS_C, &tss_c, TSS32_SIZE, 0);
    tss_init(&tss_e, task_e, stack_e, 0);
    tss_init(&tss_f, task_f, stack_f, 0);
    tss_init(&tss_g, task_g, stack_g, 0);
    gdt_set_tss(TSS_E, &tss_e, TSS32_SIZE, 0);
    gdt_set_tss(TSS_F, &tss_f, TSS32_SIZE, 0);
    gdt_set_tss(TSS_G, &tss_g, TSS32_SIZE, 0);
}

static void jmp_switch(void)
{
    test_section("jmp to a TSS");
    uint32_t ret;
    __asm__ volatile("movl $.Lback%=, %0\n\t"
                     "movl $0xb0b0b0b0, %%ebx\n\t"
                     "ljmp %1, $0\n"
                     ".Lback%=:"
                     : "=&r"(ret)
                     : "i"(GDT_SEL(TSS_A, 0))
                     : "ebx", "memory");
    CHECK_EQ(seen_a.visits, 1, "task A ran once");
    CHECK_EQ(seen_a.eax, 0xa1a1a1a1, "A's EAX came from its TSS");
    CHECK_EQ(seen_a.main_eip, ret, "the old TSS holds the EIP after the ljmp");
    CHECK_EQ(seen_a.main_ebx, 0xb0b0b0b0, "and the old task's EBX");
    CHECK_EQ(seen_a.busy_self, 1, "A is busy while it runs");
    CHECK_EQ(seen_a.busy_main, 0, "jmp cleared the old task's busy bit");
    CHECK(!(seen_a.eflags & EFL_NT), "jmp does not set NT");
    CHECK_EQ(seen_a.link, 0, "jmp does not write the back-link");
    CHECK(seen_a.cr0 & CR0_TS, "a task switch sets CR0.TS");
    CHECK_EQ(seen_a.ldtr, GDT_SEL(LDT_A, 0), "LDTR was loaded from A's TSS");
    CHECK_EQ(seen_a.ldt_read, 0x1d71d7, "an LDT selector (TI=1) reaches A's LDT");
    CHECK(gdt_tss_busy(5) && !gdt_tss_busy(TSS_A), "back in main: main busy, A not");
    CHECK_EQ(str(), SEL_TSS, "TR names the main TSS again");
    uint16_t l;
    __asm__ volatile("sldt %0" : "=r"(l));
    CHECK_EQ(l, 0, "main's LDTR (0) was reloaded");
    __asm__ volatile("clts");

    far_jmp_sel(GDT_SEL(TSS_A, 0));
    CHECK_EQ(seen_a.visits, 2, "a second jmp resumes A where it left");
}

static void call_and_gates(void)
{
    test_section("call to a TSS and through task gates; iret with NT");
    struct __attribute__((packed)) {
        uint32_t off;
        uint16_t sel;
    } p = { 0, GDT_SEL(TSS_B, 0) };
    __asm__ volatile("lcall *%0" : : "m"(p) : "memory");
    CHECK_EQ(seen_b.visits, 1, "task B ran");
    CHECK(seen_b.eflags & EFL_NT, "call sets NT in the new task");
    CHECK_EQ(seen_b.link, SEL_TSS, "and its back-link to the caller");
    CHECK_EQ(seen_b.busy_self, 1, "B busy");
    CHECK_EQ(seen_b.busy_main, 1, "call keeps the caller busy");
    CHECK(!gdt_tss_busy(TSS_B), "iret cleared B's busy bit");
    CHECK(!(read_eflags() & EFL_NT), "the caller's NT is as before");

    p.sel = GDT_SEL(TG_B, 0);
    __asm__ volatile("lcall *%0" : : "m"(p) : "memory");
    CHECK_EQ(seen_b.visits, 2, "call through a GDT task gate reaches B");

    idt[0x60] = gate_make(GDT_SEL(TSS_C, 0), 0, GATE_TASK(0));
    __asm__ volatile("int $0x60" ::: "memory");
    CHECK_EQ(seen_c.visits, 1, "int through an IDT task gate reaches C");
    CHECK(seen_c.eflags & EFL_NT, "with NT set");
    CHECK_EQ(seen_c.link, SEL_TSS, "and the back-link to the interrupted task");
    __asm__ volatile("int $0x60" ::: "memory");
    CHECK_EQ(seen_c.visits, 2, "and again");
    __asm__ volatile("clts");
}

static void nested_calls(void)
{
    test_section("nested task calls");
    struct __attribute__((packed)) {
        uint32_t off;
        uint16_t sel;
    } p = { 0, GDT_SEL(TSS_E, 0) };
    __asm__ volatile("lcall *%0" : : "m"(p) : "memory");
    CHECK_EQ(e_link, SEL_TSS, "E's back-link names main");
    CHECK_EQ(f_link, GDT_SEL(TSS_E, 0), "F's back-link names E");
    CHECK(f_busy_main && f_busy_e && f_busy_f, "while F runs, main, E and F are all busy");
    CHECK_EQ(e_after_f, 1, "F's iret returned to E");
    CHECK(!gdt_tss_busy(TSS_E) && !gdt_tss_busy(TSS_F) && gdt_tss_busy(5), "after both irets only main is busy");
    __asm__ volatile("clts");
}

static uint32_t frame_main[1024] __attribute__((aligned(4096))) = { 0x11110000 };
static uint32_t frame_g[1024] __attribute__((aligned(4096))) = { 0x22220000 };

static void task_cr3(void)
{
    test_section("a task switch loads CR3");
    uint32_t *pd_main = pt32_new(), *pd_g = pt32_new();
    pt32_identity(pd_main, 0, 8u << 20, PTE_P | PTE_W);
    pt32_identity(pd_g, 0, 8u << 20, PTE_P | PTE_W);
    pt32_map(pd_main, G_VA, (uint32_t)frame_main, PTE_P | PTE_W);
    pt32_map(pd_g, G_VA, (uint32_t)frame_g, PTE_P | PTE_W);
    tss_g.cr3 = (uint32_t)pd_g;
    paging_enable((uint32_t)pd_main, 0);
    CHECK_EQ(*(volatile uint32_t *)G_VA, 0x11110000, "main sees its own mapping");
    struct __attribute__((packed)) {
        uint32_t off;
        uint16_t sel;
    } p = { 0, GDT_SEL(TSS_G, 0) };
    __asm__ volatile("lcall *%0" : : "m"(p) : "memory");
    CHECK_EQ(g_cr3, (uint32_t)pd_g, "G ran with CR3 from its TSS");
    CHECK_EQ(g_read, 0x22220000, "and saw its own mapping");
    CHECK_EQ(read_cr3(), (uint32_t)pd_main, "the iret back loaded main's CR3");
    CHECK_EQ(*(volatile uint32_t *)G_VA, 0x11110000, "main sees its mapping again");
    paging_disable();
    __asm__ volatile("clts");
}

static void bad_switches(void)
{
    test_section("switches that fault");
    struct __attribute__((packed)) {
        uint32_t off;
        uint16_t sel;
    } p = { 0, SEL_TSS };
    __asm__ volatile(TRY("ljmp *%0") : : "m"(p) : "memory");
    check_fault(13, SEL_TSS, "jmp to the busy (current) TSS: #GP(selector)");
    __asm__ volatile(TRY("lcall *%0") : : "m"(p) : "memory");
    check_fault(13, SEL_TSS, "call to a busy TSS: #GP(selector)");
    p.sel = GDT_SEL(TSS_SHORT, 0);
    __asm__ volatile(TRY("ljmp *%0") : : "m"(p) : "memory");
    check_fault(10, GDT_SEL(TSS_SHORT, 0), "a TSS limit below 0x67: #TS(selector)");
    p.sel = GDT_SEL(TSS_NP, 0);
    __asm__ volatile(TRY("ljmp *%0") : : "m"(p) : "memory");
    check_fault(11, GDT_SEL(TSS_NP, 0), "a not-present TSS: #NP(selector)");
    CHECK(gdt_tss_busy(5), "the faulting switches left main busy");

    /* IRET with NT=1 and a back-link to a TSS that is not busy. */
    tss_main.t.link = GDT_SEL(TSS_B, 0);
    __asm__ volatile("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl\n\t"
                     "pushfl\n\tpushl %%cs\n\tpushl $.Lnever%=\n\t"
                     TRY("iret") "addl $12, %%esp\n\tjmp .Lout%=\n.Lnever%=:\n.Lout%=:\n\t"
                     "pushfl\n\tandl $~0x4000, (%%esp)\n\tpopfl"
                     ::: "memory");
    check_fault(10, GDT_SEL(TSS_B, 0), "iret with NT to a non-busy back-link: #TS(selector)");
    tss_main.t.link = 0;
}

static void ring3_task(void)
{
    test_section("a task at CPL 3");
    far_jmp_sel(GDT_SEL(TSS_D, 0));
    CHECK_EQ(seen_d.visits, 1, "task D ran");
    CHECK_EQ(seen_d.cs, SEL_UCODE, "at CPL 3 (CS from its TSS)");
    CHECK_EQ(seen_d.eax, 13, "its jmp to a DPL 0 TSS faulted with #GP");
    CHECK_EQ(seen_d.eflags, GDT_SEL(TSS_A, 0), "error code: the TSS selector");
    CHECK(gdt_tss_busy(5) && !gdt_tss_busy(TSS_D), "it came back through a DPL 3 task gate");
    __asm__ volatile("clts");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-tasks");
    setup();
    jmp_switch();
    call_and_gates();
    nested_calls();
    task_cr3();
    bad_switches();
    ring3_task();
    return test_finish();
}
