/*
 * GDT, IDT and TSS setup (see desc.h for the layout and invariants). Descriptor
 * encodings follow the IA-32 formats: segment descriptors split base and limit across
 * both dwords; gates carry selector:offset with the attribute byte in bits 40..47.
 */
#include "bare/desc.h"
#include "bare/trap.h"
#include "bare/x86.h"

uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
uint64_t idt[256] __attribute__((aligned(8)));
struct tss_main tss_main;
struct tss32 tss_df __attribute__((aligned(16)));

static uint8_t ring_stacks[3][8192] __attribute__((aligned(16)));
static uint8_t df_stack[8192] __attribute__((aligned(16)));
static uint8_t trap_stack0[16384] __attribute__((aligned(16)));
/* Index = ring: ring 0's entry is the stack traps from outer rings switch to. */
uint32_t ring_stack_top[4];

uint64_t desc_make(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | ((uint32_t)access << 8) | (limit & 0xf0000) |
                  ((uint32_t)(flags & 0xf) << 20) | (base & 0xff000000);
    return ((uint64_t)hi << 32) | lo;
}

void gdt_set(int idx, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[idx] = desc_make(base, limit, access, flags);
}

void gdt_set_raw(int idx, uint64_t d) { gdt[idx] = d; }

uint64_t gate_make(uint16_t sel, uint32_t off, uint8_t attr)
{
    uint32_t lo = (off & 0xffff) | ((uint32_t)sel << 16);
    uint32_t hi = (off & 0xffff0000) | ((uint32_t)attr << 8);
    return ((uint64_t)hi << 32) | lo;
}

void gdt_set_callgate(int idx, uint16_t sel, uint32_t off, uint8_t dpl, uint8_t params)
{
    uint8_t attr = (uint8_t)(0x80 | (dpl << 5) | SYS_CALLGATE32);
    gdt[idx] = gate_make(sel, off, attr) | ((uint64_t)(params & 0x1f) << 32);
}

void gdt_set_tss(int idx, void *tss, uint32_t size, uint8_t dpl)
{
    gdt_set(idx, (uint32_t)tss, size - 1, (uint8_t)(ACC_P | ACC_DPL(dpl) | SYS_TSS32_AVAIL), 0);
}

void gdt_set_taskgate(int idx, uint16_t tss_sel, uint8_t dpl)
{
    gdt[idx] = gate_make(tss_sel, 0, GATE_TASK(dpl));
}

void gdt_tss_clear_busy(int idx) { gdt[idx] &= ~((uint64_t)0x2 << 40); }
int gdt_tss_busy(int idx) { return (int)((gdt[idx] >> 41) & 1); }

void idt_set(int vec, uint16_t sel, uint32_t off, uint8_t attr) { idt[vec] = gate_make(sel, off, attr); }
uint32_t idt_stub(int vec) { return (uint32_t)trap_stubs + 16u * (uint32_t)vec; }
void idt_reset(int vec)
{
    if (vec == 8) idt[8] = gate_make(SEL_TSS_DF, 0, GATE_TASK(0));
    else if (vec == RING_RETURN_VECTOR) idt_set(vec, SEL_KCODE, (uint32_t)ring_return, GATE_INT(3));
    else idt_set(vec, SEL_KCODE, idt_stub(vec), GATE_INT(0));
}
void idt_set_dpl(int vec, uint8_t dpl)
{
    idt[vec] = (idt[vec] & ~((uint64_t)3 << 45)) | ((uint64_t)(dpl & 3) << 45);
}
void idt_set_trap(int vec, uint8_t dpl) { idt_set(vec, SEL_KCODE, idt_stub(vec), GATE_TRAP(dpl)); }

void seg_reload_kernel(void)
{
    __asm__ volatile("ljmp %0, $1f\n1:\n\t"
                     "movw %1, %%ax\n\t"
                     "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\tmovw %%ax, %%ss"
                     :
                     : "i"(SEL_KCODE), "i"(SEL_KDATA)
                     : "eax", "memory");
}

static void tss_fill_kernel(struct tss32 *t, uint32_t eip, uint32_t esp)
{
    t->eip = eip;
    t->esp = esp;
    t->eflags = 0x2;
    t->cs = SEL_KCODE;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
    t->ss0 = SEL_KDATA;
    t->esp0 = esp;
    t->cr3 = read_cr3();
    t->iomap_base = TSS32_SIZE + 8192 + 1; /* beyond the limit: no I/O bitmap */
}

void desc_init(void)
{
    gdt[0] = 0;
    gdt_set(1, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_READ, FLG_G | FLG_DB);
    gdt_set(2, 0, 0xfffff, ACC_P | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    gdt_set(3, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_S | ACC_CODE | ACC_READ, FLG_G | FLG_DB);
    gdt_set(4, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    gdt_set_tss(5, &tss_main, sizeof(tss_main), 0);
    gdt_set_tss(6, &tss_df, TSS32_SIZE, 0);
    gdt_set(7, 0, 0xffff, ACC_P | ACC_S | ACC_CODE | ACC_READ, 0);
    gdt_set(8, 0, 0xffff, ACC_P | ACC_S | ACC_WRITE, 0);
    gdt_set(9, 0, 0xfffff, ACC_P | ACC_DPL(1) | ACC_S | ACC_CODE | ACC_READ, FLG_G | FLG_DB);
    gdt_set(10, 0, 0xfffff, ACC_P | ACC_DPL(1) | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    gdt_set(11, 0, 0xfffff, ACC_P | ACC_DPL(2) | ACC_S | ACC_CODE | ACC_READ, FLG_G | FLG_DB);
    gdt_set(12, 0, 0xfffff, ACC_P | ACC_DPL(2) | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    for (int i = GDT_FREE; i < GDT_ENTRIES; i++) gdt[i] = 0;

    struct dtr g = { sizeof(gdt) - 1, (uint32_t)gdt };
    lgdt(&g);
    seg_reload_kernel();

    for (int v = 0; v < 256; v++) idt_reset(v);
    struct dtr i = { sizeof(idt) - 1, (uint32_t)idt };
    lidt(&i);

    ring_stack_top[0] = (uint32_t)(trap_stack0 + sizeof(trap_stack0));
    for (int r = 1; r < 4; r++) ring_stack_top[r] = (uint32_t)(ring_stacks[r - 1] + sizeof(ring_stacks[0]));

    tss_fill_kernel(&tss_main.t, 0, 0);
    tss_main.t.esp0 = ring_stack_top[0];
    tss_main.t.ss1 = SEL_R1DATA;
    tss_main.t.esp1 = ring_stack_top[1];
    tss_main.t.ss2 = SEL_R2DATA;
    tss_main.t.esp2 = ring_stack_top[2];
    for (unsigned k = 0; k < sizeof(tss_main.iomap); k++) tss_main.iomap[k] = 0xff;
    tss_fill_kernel(&tss_df, (uint32_t)df_task_entry, (uint32_t)(df_stack + sizeof(df_stack)));
    ltr(SEL_TSS);
}
