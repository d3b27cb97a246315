/*
 * IA-32 architecture facts the PV tests use (not Xen ABI): PAE page-table entry bits,
 * exception vectors, EFLAGS bits, descriptor encoding, and one-instruction wrappers.
 */
#ifndef PVTEST_X86_H
#define PVTEST_X86_H
#include <stdint.h>

/* PAE page-table entry bits (Intel SDM vol. 3, 4.4). */
#define _PAGE_PRESENT  0x001ULL
#define _PAGE_RW       0x002ULL
#define _PAGE_USER     0x004ULL
#define _PAGE_PWT      0x008ULL
#define _PAGE_PCD      0x010ULL
#define _PAGE_ACCESSED 0x020ULL
#define _PAGE_DIRTY    0x040ULL
#define _PAGE_PSE      0x080ULL   /* in an L2 entry: 2 MiB page */
#define _PAGE_PAT      0x080ULL   /* in an L1 entry */
#define _PAGE_GLOBAL   0x100ULL
#define _PAGE_AVAIL0   0x200ULL
#define _PAGE_NX       (1ULL << 63)

/* Exception vectors. */
#define X86_EXC_DE 0
#define X86_EXC_DB 1
#define X86_EXC_NMI 2
#define X86_EXC_BP 3
#define X86_EXC_OF 4
#define X86_EXC_BR 5
#define X86_EXC_UD 6
#define X86_EXC_NM 7
#define X86_EXC_DF 8
#define X86_EXC_TS 10
#define X86_EXC_NP 11
#define X86_EXC_SS 12
#define X86_EXC_GP 13
#define X86_EXC_PF 14
#define X86_EXC_MF 16
#define X86_EXC_AC 17
#define X86_EXC_MC 18
#define X86_EXC_XM 19

/* #PF error code bits. */
#define X86_PFEC_PRESENT 1
#define X86_PFEC_WRITE 2
#define X86_PFEC_USER 4
#define X86_PFEC_RSVD 8
#define X86_PFEC_INSN 16

/* EFLAGS. */
#define X86_EFLAGS_CF 0x00000001
#define X86_EFLAGS_MBS 0x00000002
#define X86_EFLAGS_TF 0x00000100
#define X86_EFLAGS_IF 0x00000200
#define X86_EFLAGS_DF 0x00000400
#define X86_EFLAGS_IOPL 0x00003000
#define X86_EFLAGS_NT 0x00004000
#define X86_EFLAGS_RF 0x00010000
#define X86_EFLAGS_VM 0x00020000
#define X86_EFLAGS_AC 0x00040000
#define X86_EFLAGS_ID 0x00200000

/* CR0 bits. */
#define X86_CR0_TS 0x00000008

/* Segment descriptor construction: base, 20-bit limit, access byte, flags nibble. */
static inline uint64_t x86_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}
/* Access bytes: P | DPL | S | type. */
#define X86_DESC_CODE(dpl) (0x9a | ((dpl) << 5))   /* present, code, execute/read */
#define X86_DESC_DATA(dpl) (0x92 | ((dpl) << 5))   /* present, data, read/write */
#define X86_DESC_FLAGS_32_4K 0xc                     /* G=1, D/B=1 */
/* A 32-bit call gate: selector, offset, DPL, parameter count 0. */
static inline uint64_t x86_call_gate(uint16_t sel, uint32_t off, unsigned dpl)
{
    return (uint64_t)(off & 0xffff) | ((uint64_t)sel << 16) |
           ((uint64_t)(0x8c | (dpl << 5)) << 40) | ((uint64_t)(off >> 16) << 48);
}
#define X86_SEL(index, ti, rpl) ((uint16_t)(((index) << 3) | ((ti) << 2) | (rpl)))

static inline void x86_cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                             uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint16_t x86_read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t x86_read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint16_t x86_read_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t x86_read_fs(void) { uint16_t v; __asm__ volatile("mov %%fs, %0" : "=r"(v)); return v; }
static inline uint16_t x86_read_gs(void) { uint16_t v; __asm__ volatile("mov %%gs, %0" : "=r"(v)); return v; }
static inline uint32_t x86_read_eflags(void)
{
    uint32_t v;
    __asm__ volatile("pushfl; popl %0" : "=r"(v));
    return v;
}
static inline void x86_pause(void) { __asm__ volatile("pause"); }

#endif
