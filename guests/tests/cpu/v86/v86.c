/*
 * Virtual-8086 mode (CR4.VME = 0): entry by IRET with VM set, real-mode style addressing,
 * the IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n, IRET) acting directly at
 * IOPL 3 and raising #GP(0) below it, INT n at IOPL 3 going through the protected-mode IDT
 * (gate DPL must be 3) with the v86 frame (ES, DS, FS, GS pushed, data segments zeroed),
 * exceptions reaching ring 0 with VM in the saved EFLAGS, I/O checked against the TSS
 * bitmap whatever the IOPL, and HLT as #GP(0), which the kernel uses to leave v86 mode.
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

#define V86_BASE 0x8000u
#define V86_SEG 0x0800u
#define V86_SP 0x7ff0u
extern char v86_blob_start[], v86_blob_end[], v86_results[], v86_test_iopl3[], v86_test_iopl0[];
void v86_call(uint32_t cs_ip, uint32_t eflags);
__attribute__((noreturn)) void v86_exit(void);

static uint32_t off(const char *sym) { return (uint32_t)(sym - v86_blob_start); }
static uint32_t res(int n) { return *(volatile uint32_t *)(V86_BASE + off(v86_results) + 4u * (uint32_t)n); }

struct event {
    uint32_t vector, error, ip, opcode, eflags, seg_ds, v86_ds, esp;
};
static struct event events[32];
static int n_events;

static uint8_t *linear(struct trap_frame *f) { return (uint8_t *)((f->cs << 4) + (f->eip & 0xffff)); }

static uint32_t insn_len(const uint8_t *p)
{
    switch (p[0]) {
    case 0xcd: return 2;                 /* int n */
    case 0x0f: return 2;                 /* ud2 */
    case 0xf7: return 2;                 /* div r/m16 (register form) */
    case 0x66: return 1 + insn_len(p + 1);
    default: return 1;                   /* cli sti pushf popf iret hlt in/out dx */
    }
}

static void record(struct trap_frame *f)
{
    if (!(f->eflags & EFL_VM)) trap_fatal(f, "exception outside v86 mode");
    if (n_events < 32) {
        struct event *e = &events[n_events++];
        e->vector = f->vector;
        e->error = f->error;
        e->ip = f->eip;
        e->opcode = linear(f)[0];
        e->eflags = f->eflags;
        e->seg_ds = f->ds;
        e->v86_ds = f->v86_ds;
        e->esp = f->esp;
    }
}

static void v86_fault(struct trap_frame *f)
{
    record(f);
    const uint8_t *p = linear(f);
    if (f->vector == 13 && p[0] == 0xf4) v86_exit();
    f->eip += insn_len(p);
}

static void v86_soft_int(struct trap_frame *f)
{
    f->eip &= 0xffff;
    record(f); /* a trap: IP is already past the INT */
}

static int find(uint32_t vector, uint32_t opcode)
{
    for (int i = 0; i < n_events; i++)
        if (events[i].vector == vector && events[i].opcode == opcode) return i;
    return -1;
}

static void setup(void)
{
    uint32_t n = (uint32_t)(v86_blob_end - v86_blob_start);
    for (uint32_t i = 0; i < n; i++) ((volatile uint8_t *)V86_BASE)[i] = (uint8_t)v86_blob_start[i];
    *(volatile uint32_t *)0x12350 = 0x86868686;
    trap_set_handler(13, v86_fault);
    trap_set_handler(6, v86_fault);
    trap_set_handler(0, v86_fault);
    trap_set_handler(0x40, v86_soft_int);
    idt_set_dpl(0x40, 3);
    /* I/O bitmap: 0x300 allowed, everything else denied. */
    for (unsigned i = 0; i < 8192; i++) tss_main.iomap[i] = 0xff;
    tss_main.iomap[0x300 >> 3] &= (uint8_t) ~1u;
    tss_main.t.iomap_base = TSS32_SIZE;
    gdt_tss_clear_busy(5);
    ltr(SEL_TSS);
}

static void iopl3(void)
{
    test_section("v86 at IOPL 3");
    n_events = 0;
    v86_call((V86_SEG << 16) | off(v86_test_iopl3), 0x2 | EFL_IOPL3);
    CHECK_EQ(res(6), 0x5a5a5a5a, "the v86 routine ran to its hlt");
    CHECK_EQ(res(0) & (EFL_VM | EFL_RF), 0, "pushfd in v86 shows VM and RF as 0");
    CHECK_EQ(res(0) & EFL_IOPL3, EFL_IOPL3, "and IOPL 3");
    CHECK_EQ(res(1) & EFL_IF, 0, "cli cleared IF directly");
    CHECK(res(2) & EFL_IF, "sti set IF directly");
    CHECK_EQ(res(3), V86_SEG, "CS holds a paragraph number");
    CHECK_EQ(res(4), 0x86868686, "DS=0x1234 offset 0x10 reaches 0x12350");

    int i = -1;
    for (int k = 0; k < n_events; k++)
        if (events[k].vector == 0x40) i = k;
    CHECK(i >= 0, "int 0x40 went through the IDT (DPL 3 gate)");
    if (i >= 0) {
        CHECK(events[i].eflags & EFL_VM, "its frame has VM set");
        CHECK_EQ(events[i].v86_ds, V86_SEG, "and the v86 DS pushed above SS:ESP");
        CHECK_EQ(events[i].seg_ds, 0, "DS was zeroed on entry to ring 0");
        CHECK_EQ(events[i].esp, res(5), "the saved SP is the v86 stack");
    }
    i = find(13, 0xcd);
    CHECK(i >= 0 && events[i].error == 0x41 * 8 + 2, "int 0x41 through a DPL 0 gate: #GP(0x20a)");
    i = find(6, 0x0f);
    CHECK(i >= 0 && (events[i].eflags & EFL_VM), "ud2 in v86: #UD in ring 0 with VM in the frame");
    CHECK(find(0, 0xf7) >= 0, "div by zero in v86: #DE");
    i = find(13, 0xec);
    CHECK(i >= 0 && events[i].error == 0, "in from a denied port at IOPL 3: #GP(0) (the bitmap rules)");
    CHECK_EQ(n_events, 6, "exactly those events, plus the hlt");
    CHECK_EQ(events[n_events - 1].opcode, 0xf4, "hlt raised #GP(0) last");
}

static void iopl0(void)
{
    test_section("v86 at IOPL 0");
    n_events = 0;
    v86_call((V86_SEG << 16) | off(v86_test_iopl0), 0x2);
    CHECK_EQ(res(7), 0xa5a5a5a5, "the v86 routine ran to its hlt");
    static const uint8_t sensitive[] = { 0xfa, 0xfb, 0x9c, 0x9d, 0xcd, 0xcf };
    static const char *const names[] = { "cli", "sti", "pushf", "popf", "int 0x21", "iret" };
    for (int k = 0; k < 6; k++) {
        int i = find(13, sensitive[k]);
        kprintf("# %s\n", names[k]);
        CHECK(i >= 0 && events[i].error == 0, "IOPL-sensitive at IOPL 0: #GP(0)");
    }
    CHECK(find(13, 0x66) >= 0, "pushfd too");
    CHECK_EQ(find(13, 0xec), -1, "in from a port the bitmap allows does not fault");
    CHECK_EQ(n_events, 8, "cli, sti, pushf, popf, int, iret, pushfd, hlt");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-v86");
    setup();
    iopl3();
    iopl0();
    CHECK(!(read_eflags() & EFL_VM), "back in protected mode");
    return test_finish();
}
