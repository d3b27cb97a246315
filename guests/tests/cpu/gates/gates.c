/*
 * Gates and privilege transitions: interrupt vs trap gates and IF, ring 3 -> 0 and
 * 3 -> 1 through interrupt gates with the TSS stack switch (SS:ESP from TSS.ss0/esp0 or
 * ss1/esp1, old SS:ESP pushed), call gates with parameter copy and the segment-register
 * nulling on the far return to an outer ring, far ret/iret privilege rules, POPF at CPL 3,
 * and a broken TSS stack (#TS, routed through a task gate so it is still reported).
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

/* Written by gates_asm.S: cs, ss, esp, eip, frame cs, old esp, old ss, param0, param1. */
volatile uint32_t gate_seen[9];
void r1_int_handler(void);
void cg_target(void);
void cg_target_same(void);

#define CG_RING0 (GDT_FREE + 0)   /* DPL 3 call gate to ring 0, 2 params */
#define CG_DPL0 (GDT_FREE + 1)    /* DPL 0 call gate */
#define CG_NP (GDT_FREE + 2)      /* DPL 3, not present */
#define CG_SAME (GDT_FREE + 3)    /* DPL 0 call gate to ring 0, used from ring 0 */

static volatile uint32_t h_eflags, h_esp, h_cs, h_ss, h_fesp, h_count;
static void record_handler(struct trap_frame *f)
{
    h_eflags = read_eflags();
    h_esp = (uint32_t)f;
    h_cs = f->cs;
    h_ss = (f->cs & 3) ? f->ss : read_ss();
    h_fesp = (f->cs & 3) ? f->esp : 0;
    h_count++;
}

static void if_and_gate_types(void)
{
    test_section("interrupt gates clear IF, trap gates keep it");
    trap_set_handler(0x50, record_handler);
    trap_set_handler(0x51, record_handler);
    idt_set_trap(0x51, 0);
    sti();
    __asm__ volatile("int $0x50" ::: "memory");
    uint32_t after = read_eflags();
    CHECK(!(h_eflags & EFL_IF), "interrupt gate: IF=0 in the handler");
    CHECK(after & EFL_IF, "iret restored IF=1");
    __asm__ volatile("int $0x51" ::: "memory");
    CHECK(h_eflags & EFL_IF, "trap gate: IF stays 1 in the handler");
    cli();
    __asm__ volatile("int $0x51" ::: "memory");
    CHECK(!(h_eflags & EFL_IF), "trap gate with IF=0 stays 0");
    CHECK(!(read_eflags() & EFL_IF), "still IF=0 after iret");
    CHECK_EQ(h_count, 3, "three interrupts taken");
}

static uint32_t u_int(uint32_t vec)
{
    uint32_t esp;
    __asm__ volatile("movl %%esp, %0" : "=r"(esp));
    if (vec == 0x50) __asm__ volatile("int $0x50" ::: "memory");
    else if (vec == 0x52) __asm__ volatile("int $0x52" ::: "memory");
    return esp;
}

static uint32_t u_ring1_int(uint32_t a)
{
    (void)a;
    __asm__ volatile("int $0x50" ::: "memory");
    return read_cs();
}

static void stack_switch(void)
{
    test_section("ring 3 -> 0 through an interrupt gate: TSS stack switch");
    idt_set_dpl(0x50, 3);
    h_count = 0;
    uint32_t uesp = ring_call(3, u_int, 0x50, 0x2);
    CHECK_EQ(h_count, 1, "the DPL 3 gate was taken from ring 3");
    CHECK_EQ(h_cs, SEL_UCODE, "the frame holds the ring-3 CS");
    CHECK_EQ(h_ss, SEL_UDATA, "and the ring-3 SS");
    CHECK(h_fesp <= uesp && uesp - h_fesp < 64, "and the ring-3 ESP at the int");
    CHECK_EQ(h_esp + sizeof(struct trap_frame) - 16, tss_main.t.esp0, "the frame sits at the top of TSS.esp0's stack");

    h_count = 0;
    CHECK_EQ(ring_call(1, u_ring1_int, 0, 0x2), SEL_R1CODE, "ring 1 code runs with CS RPL 1");
    CHECK_EQ(h_cs, SEL_R1CODE, "ring 1 -> 0: the frame holds the ring-1 CS");
    CHECK_EQ(h_ss, SEL_R1DATA, "and the ring-1 SS");
    CHECK_EQ(h_esp + sizeof(struct trap_frame) - 16, tss_main.t.esp0, "ring 1 -> 0 also switches to esp0");
    idt_reset(0x50);

    test_section("ring 3 -> 1 through an interrupt gate");
    idt_set(0x52, SEL_R1CODE & ~3, (uint32_t)r1_int_handler, GATE_INT(3));
    for (int i = 0; i < 9; i++) gate_seen[i] = 0;
    uesp = ring_call(3, u_int, 0x52, 0x2);
    CHECK_EQ(gate_seen[0], SEL_R1CODE, "the handler runs with CS = ring-1 code, RPL 1");
    CHECK_EQ(gate_seen[1], SEL_R1DATA, "SS comes from TSS.ss1");
    CHECK_EQ(gate_seen[2], tss_main.t.esp1 - 20, "ESP = TSS.esp1 minus SS, ESP, EFLAGS, CS, EIP");
    CHECK_EQ(gate_seen[4], SEL_UCODE, "saved CS is the ring-3 one");
    CHECK_EQ(gate_seen[6], SEL_UDATA, "saved SS is the ring-3 one");
    CHECK(gate_seen[5] <= uesp && uesp - gate_seen[5] < 64, "saved ESP is the ring-3 one");

    test_section("gates that cannot be used");
    idt_set(0x53, SEL_UCODE & ~3, idt_stub(0x53), GATE_INT(0));
    __asm__ volatile(TRY("int $0x53") ::: "memory");
    check_fault(13, SEL_UCODE & ~3, "interrupt gate to a less privileged (DPL 3) segment: #GP(selector)");
    idt_reset(0x53);
}

static uint32_t u_broken_ss0(uint32_t a)
{
    (void)a;
    __asm__ volatile(TRY("int $0x50") ::: "memory");
    tss_main.t.ss0 = SEL_KDATA; /* the INT 0x30 back to the kernel needs it (no paging: writable) */
    return 0;
}

static void broken_tss_stack(void)
{
    test_section("broken TSS ring-0 stack: #TS through a task gate");
    idt_set_dpl(0x50, 3);
    idt[10] = gate_make(SEL_TSS_DF, 0, GATE_TASK(0));
    trap_task_vector = 10;
    tss_main.t.ss0 = SEL_KDATA | 3;
    ring_call(3, u_broken_ss0, 0, 0x2);
    tss_main.t.ss0 = SEL_KDATA;
    check_fault(10, SEL_KDATA, "TSS.ss0 with RPL 3: #TS(ss0 selector)");
    CHECK_EQ(trap_last.cs, SEL_UCODE, "reported at the ring-3 int");
    tss_main.t.ss0 = SEL_R1DATA & ~3;
    ring_call(3, u_broken_ss0, 0, 0x2);
    tss_main.t.ss0 = SEL_KDATA;
    check_fault(10, SEL_R1DATA & ~3, "TSS.ss0 naming a DPL 1 segment: #TS(selector)");
    trap_task_vector = 8;
    idt_reset(10);
    idt_reset(0x50);
}

/* Ring-3 call through a call gate with two parameters; returns ESP delta and ES/FS. */
static volatile uint32_t cg_before, cg_after, cg_es, cg_fs, cg_ds;
static volatile struct __attribute__((packed)) {
    uint32_t off;
    uint16_t sel;
} cg_ptr;

static uint32_t u_callgate(uint32_t sel)
{
    cg_ptr.off = 0;
    cg_ptr.sel = (uint16_t)sel;
    __asm__ volatile("movl %%esp, cg_before\n\t"
                     "pushl $0x11111111\n\tpushl $0x22222222\n\t"
                     TRY("lcall *cg_ptr")
                     "movl %%esp, cg_after\n\t"
                     "movw %%es, %%ax\n\tmovzwl %%ax, %%eax\n\tmovl %%eax, cg_es\n\t"
                     "movw %%fs, %%ax\n\tmovzwl %%ax, %%eax\n\tmovl %%eax, cg_fs\n\t"
                     "movw %%ds, %%ax\n\tmovzwl %%ax, %%eax\n\tmovl %%eax, cg_ds\n\t"
                     "movl cg_before, %%esp\n\t"
                     "movw %%ds, %%ax\n\tmovw %%ax, %%es\n\tmovw %%ax, %%fs\n\t"
                     : : : "eax", "memory");
    return 0;
}

static uint32_t u_jmpgate(uint32_t sel)
{
    cg_ptr.off = 0;
    cg_ptr.sel = (uint16_t)sel;
    __asm__ volatile(TRY("ljmp *cg_ptr") ::: "memory");
    return 0;
}

static void call_gates(void)
{
    test_section("call gates with parameter copy");
    gdt_set_callgate(CG_RING0, SEL_KCODE, (uint32_t)cg_target, 3, 2);
    gdt_set_callgate(CG_DPL0, SEL_KCODE, (uint32_t)cg_target, 0, 2);
    gdt_set_callgate(CG_NP, SEL_KCODE, (uint32_t)cg_target, 3, 2);
    gdt[CG_NP] &= ~(1ull << 47);
    gdt_set_callgate(CG_SAME, SEL_KCODE, (uint32_t)cg_target_same, 0, 0);
    for (int i = 0; i < 9; i++) gate_seen[i] = 0;

    ring_call(3, u_callgate, GDT_SEL(CG_RING0, 3), 0x2);
    check_no_fault("lcall through a DPL 3 call gate from ring 3");
    CHECK_EQ(gate_seen[0], SEL_KCODE, "the target runs in ring 0");
    CHECK_EQ(gate_seen[1], SEL_KDATA, "on SS = TSS.ss0");
    CHECK_EQ(gate_seen[2], tss_main.t.esp0 - 24, "ESP = esp0 minus SS, ESP, 2 params, CS, EIP");
    CHECK_EQ(gate_seen[4], SEL_UCODE, "saved CS = ring-3 CS");
    CHECK_EQ(gate_seen[6], SEL_UDATA, "saved SS = ring-3 SS");
    CHECK_EQ(gate_seen[5], cg_before - 8, "saved ESP = the caller's ESP after its pushes");
    CHECK_EQ(gate_seen[7], 0x22222222, "parameters keep their order (last pushed on top)");
    CHECK_EQ(gate_seen[8], 0x11111111, "the first parameter lies below it");
    CHECK_EQ(cg_after, cg_before, "lret $8 released the parameters on the caller's stack");
    CHECK_EQ(cg_es, 0, "returning to ring 3 nulled ES (DPL 0 data)");
    CHECK_EQ(cg_fs, 0, "and FS");
    CHECK_EQ(cg_ds, SEL_UDATA, "and kept DS (DPL 3 data)");

    ring_call(3, u_callgate, GDT_SEL(CG_DPL0, 3), 0x2);
    check_fault(13, GDT_SEL(CG_DPL0, 0), "call gate DPL 0 from CPL 3: #GP(gate selector)");
    ring_call(3, u_callgate, GDT_SEL(CG_NP, 3), 0x2);
    check_fault(11, GDT_SEL(CG_NP, 0), "not-present call gate: #NP(gate selector)");
    ring_call(3, u_jmpgate, GDT_SEL(CG_RING0, 3), 0x2);
    check_fault(13, SEL_KCODE, "ljmp through a call gate to more privileged code: #GP(code selector)");

    uint32_t esp_before, esp_seen;
    cg_ptr.off = 0;
    cg_ptr.sel = GDT_SEL(CG_SAME, 0);
    __asm__ volatile("movl %%esp, %0\n\tlcall *cg_ptr" : "=&r"(esp_before) : : "memory");
    esp_seen = gate_seen[2];
    CHECK_EQ(gate_seen[1], SEL_KDATA, "same-privilege call gate: no stack switch (same SS)");
    CHECK_EQ(esp_seen, esp_before - 8, "only CS:EIP pushed on the current stack");
}

/* Far returns and iret across privilege. */
static uint32_t u_lret_inner(uint32_t a)
{
    (void)a;
    __asm__ volatile("pushl %0\n\tpushl $0\n\t" TRY("lret") "addl $8, %%esp\n\t"
                     : : "i"(SEL_KCODE) : "memory");
    return 0;
}

static uint32_t u_iret_inner(uint32_t a)
{
    (void)a;
    __asm__ volatile("pushfl\n\tpushl %0\n\tpushl $0\n\t" TRY("iret") "addl $12, %%esp\n\t"
                     : : "i"(SEL_KCODE) : "memory");
    return 0;
}

static uint32_t u_popf(uint32_t want)
{
    uint32_t got;
    __asm__ volatile("pushl %1\n\tpopfl\n\tpushfl\n\tpopl %0" : "=r"(got) : "r"(want) : "memory", "cc");
    return got;
}

static uint32_t u_pushf(uint32_t a)
{
    (void)a;
    return read_eflags();
}

static void returns_and_flags(void)
{
    test_section("far ret and iret to a more privileged level");
    ring_call(3, u_lret_inner, 0, 0x2);
    check_fault(13, SEL_KCODE, "lret from ring 3 to ring 0 code: #GP(selector)");
    ring_call(3, u_iret_inner, 0, 0x2);
    check_fault(13, SEL_KCODE, "iret from ring 3 to ring 0 code: #GP(selector)");

    test_section("iret to ring 3 with a bad SS");
    __asm__ volatile("pushl $0\n\tpushl %%esp\n\tpushl $2\n\tpushl %0\n\tpushl $0\n\t" TRY("iret")
                     "addl $20, %%esp" : : "i"(SEL_UCODE) : "memory");
    check_fault(13, 0, "iret to CPL 3 with a null SS: #GP(0)");
    __asm__ volatile("pushl %1\n\tpushl %%esp\n\tpushl $2\n\tpushl %0\n\tpushl $0\n\t" TRY("iret")
                     "addl $20, %%esp" : : "i"(SEL_UCODE), "i"(SEL_UDATA & ~3) : "memory");
    check_fault(13, SEL_UDATA & ~3, "iret to CPL 3 with SS.RPL 0: #GP(SS selector)");
    __asm__ volatile("pushl %1\n\tpushl %%esp\n\tpushl $2\n\tpushl %0\n\tpushl $0\n\t" TRY("iret")
                     "addl $20, %%esp" : : "i"(SEL_UCODE), "i"(SEL_KDATA | 3) : "memory");
    check_fault(13, SEL_KDATA, "iret to CPL 3 with a DPL 0 SS: #GP(SS selector)");

    test_section("flags at CPL 3");
    uint32_t f = ring_call(3, u_pushf, 0, 0x2 | EFL_IF);
    CHECK(f & EFL_IF, "iret to ring 3 set IF from the frame");
    CHECK_EQ(f & EFL_IOPL3, 0, "IOPL 0 from the frame");
    f = ring_call(3, u_popf, 0x2 | EFL_IOPL3, 0x2 | EFL_IF);
    CHECK_EQ(f & EFL_IOPL3, 0, "popf at CPL 3 cannot raise IOPL (silently)");
    CHECK(f & EFL_IF, "popf at CPL 3, IOPL 0 cannot clear IF (silently)");
    f = ring_call(3, u_popf, 0x2 | EFL_IOPL3, 0x2 | EFL_IOPL3 | EFL_IF);
    CHECK_EQ(f & EFL_IOPL3, EFL_IOPL3, "IOPL stays 3");
    CHECK(!(f & EFL_IF), "popf at CPL 3 with IOPL 3 may clear IF");
    f = ring_call(3, u_popf, 0x2 | EFL_AC | EFL_DF | EFL_CF, 0x2);
    CHECK_EQ(f & (EFL_AC | EFL_DF | EFL_CF), EFL_AC | EFL_DF | EFL_CF, "popf at CPL 3 sets AC, DF, CF");
    cli();
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-gates");
    if_and_gate_types();
    stack_switch();
    broken_tss_stack();
    call_gates();
    returns_and_flags();
    return test_finish();
}
