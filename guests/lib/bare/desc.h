/*
 * Descriptor tables for bare-metal test kernels: one GDT with a fixed layout, one IDT
 * whose 256 vectors all start as ring-0 interrupt gates into the common trap entry
 * (trap.h), the main TSS (with a full I/O permission bitmap) and a double-fault TSS.
 *
 * Invariants after desc_init():
 *  - CS = SEL_KCODE, DS = ES = FS = GS = SS = SEL_KDATA, all flat 4 GiB.
 *  - TR = SEL_TSS (busy); tss_main.esp0/esp1/esp2 point at per-ring trap stacks, so a
 *    trap from an outer ring always lands on a known stack, never the interrupted one.
 *  - IDT vector 8 is a task gate to SEL_TSS_DF: #DF runs on its own stack in its own
 *    task, so a double fault caused by a broken stack or IDT is still reported.
 *  - GDT slots from GDT_FREE onwards belong to the test; the library never writes them.
 */
#ifndef BARE_DESC_H
#define BARE_DESC_H

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b /* GDT[3], DPL 3, RPL 3 */
#define SEL_UDATA 0x23 /* GDT[4] */
#define SEL_TSS 0x28
#define SEL_TSS_DF 0x30
#define SEL_KCODE16 0x38 /* base 0, limit 64 KiB, 16-bit: the step between PM and real mode */
#define SEL_KDATA16 0x40
#define SEL_R1CODE 0x49 /* GDT[9], DPL 1 */
#define SEL_R1DATA 0x51
#define SEL_R2CODE 0x5a /* GDT[11], DPL 2 */
#define SEL_R2DATA 0x62
#define GDT_FREE 13 /* first slot the tests may use */
#define GDT_ENTRIES 64
#define GDT_SEL(idx, rpl) ((uint16_t)(((idx) << 3) | (rpl)))

/* Access byte pieces: P | DPL | S | type. */
#define ACC_P 0x80
#define ACC_DPL(n) ((uint8_t)((n) << 5))
#define ACC_S 0x10 /* code/data (not system) */
#define ACC_CODE 0x08
#define ACC_CONFORMING 0x04 /* code */
#define ACC_READ 0x02       /* code */
#define ACC_EXPDOWN 0x04    /* data */
#define ACC_WRITE 0x02      /* data */
#define ACC_ACCESSED 0x01
/* System descriptor types (S = 0). */
#define SYS_TSS16_AVAIL 0x1
#define SYS_LDT 0x2
#define SYS_TSS16_BUSY 0x3
#define SYS_CALLGATE16 0x4
#define SYS_TASKGATE 0x5
#define SYS_INTGATE16 0x6
#define SYS_TRAPGATE16 0x7
#define SYS_TSS32_AVAIL 0x9
#define SYS_TSS32_BUSY 0xb
#define SYS_CALLGATE32 0xc
#define SYS_INTGATE32 0xe
#define SYS_TRAPGATE32 0xf
/* Flags nibble (bits 52..55): granularity 4 KiB, default/big 32-bit. */
#define FLG_G 0x8
#define FLG_DB 0x4

/* IDT/gate attribute byte: P | DPL | type. */
#define GATE_INT(dpl) ((uint8_t)(0x80 | ((dpl) << 5) | SYS_INTGATE32))
#define GATE_TRAP(dpl) ((uint8_t)(0x80 | ((dpl) << 5) | SYS_TRAPGATE32))
#define GATE_TASK(dpl) ((uint8_t)(0x80 | ((dpl) << 5) | SYS_TASKGATE))

#ifndef __ASSEMBLY__
#include <stdint.h>

struct __attribute__((packed)) tss32 {
    uint16_t link, _r0;
    uint32_t esp0;
    uint16_t ss0, _r1;
    uint32_t esp1;
    uint16_t ss1, _r2;
    uint32_t esp2;
    uint16_t ss2, _r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, _r4, cs, _r5, ss, _r6, ds, _r7, fs, _r8, gs, _r9, ldt, _r10;
    uint16_t trap, iomap_base;
};
#define TSS32_SIZE 104

/* The main TSS carries a full I/O permission bitmap (65536 bits) plus the terminating
 * all-ones byte the architecture reads past the last bitmap byte. */
struct __attribute__((packed, aligned(16))) tss_main {
    struct tss32 t;
    uint8_t iomap[8192 + 1];
};

extern uint64_t gdt[GDT_ENTRIES];
extern uint64_t idt[256];
extern struct tss_main tss_main;
extern struct tss32 tss_df;

void desc_init(void);

/* limit is the raw 20-bit field; flags the G/DB nibble. */
uint64_t desc_make(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set(int idx, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set_raw(int idx, uint64_t d);
/* A call gate (32-bit) in the GDT: target selector:offset, attribute byte, dword params. */
void gdt_set_callgate(int idx, uint16_t sel, uint32_t off, uint8_t dpl, uint8_t params);
/* A TSS descriptor for a struct tss32 (or larger) of the given size. */
void gdt_set_tss(int idx, void *tss, uint32_t size, uint8_t dpl);
/* A task gate in the GDT pointing at a TSS selector. */
void gdt_set_taskgate(int idx, uint16_t tss_sel, uint8_t dpl);
uint64_t gate_make(uint16_t sel, uint32_t off, uint8_t attr);

void idt_set(int vec, uint16_t sel, uint32_t off, uint8_t attr);
/* Put vector vec back to its default: a ring-0 interrupt gate to the common entry. */
void idt_reset(int vec);
void idt_set_dpl(int vec, uint8_t dpl);
void idt_set_trap(int vec, uint8_t dpl);   /* default entry, trap gate (keeps IF) */
uint32_t idt_stub(int vec);                /* address of vector vec's entry stub */

/* Access-rights helpers for descriptor bits. */
static inline uint32_t desc_hi(uint64_t d) { return (uint32_t)(d >> 32); }
/* Clear the busy bit of a TSS descriptor (so the task can be entered again). */
void gdt_tss_clear_busy(int idx);
int gdt_tss_busy(int idx);

/* Reload CS and the data segment registers from the standard selectors. */
void seg_reload_kernel(void);
#endif /* __ASSEMBLY__ */
#endif
