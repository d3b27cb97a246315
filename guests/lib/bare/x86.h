/*
 * IA-32 system-instruction wrappers for bare-metal test kernels: control registers,
 * descriptor-table registers, MSRs, CPUID, TSC, flags. Each is one instruction; the
 * "memory" clobbers keep the compiler from moving memory accesses across instructions
 * that change how memory is translated (CR0/CR3/CR4 writes, invlpg).
 */
#ifndef BARE_X86_H
#define BARE_X86_H
#include <stdint.h>

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)

#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

#define EFL_CF (1u << 0)
#define EFL_PF (1u << 2)
#define EFL_ZF (1u << 6)
#define EFL_SF (1u << 7)
#define EFL_TF (1u << 8)
#define EFL_IF (1u << 9)
#define EFL_DF (1u << 10)
#define EFL_OF (1u << 11)
#define EFL_IOPL3 (3u << 12)
#define EFL_IOPL(n) ((uint32_t)(n) << 12)
#define EFL_NT (1u << 14)
#define EFL_RF (1u << 16)
#define EFL_VM (1u << 17)
#define EFL_AC (1u << 18)
#define EFL_VIF (1u << 19)
#define EFL_VIP (1u << 20)
#define EFL_ID (1u << 21)

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_EFER 0xc0000080
#define EFER_NXE (1u << 11)

#define X86_READ_CR(n)                                                                   \
    static inline uint32_t read_cr##n(void)                                              \
    {                                                                                    \
        uint32_t v;                                                                      \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                \
        return v;                                                                        \
    }                                                                                    \
    static inline void write_cr##n(uint32_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
X86_READ_CR(0)
X86_READ_CR(2)
X86_READ_CR(3)
X86_READ_CR(4)
#undef X86_READ_CR

static inline uint32_t read_eflags(void)
{
    uint32_t v;
    __asm__ volatile("pushfl; popl %0" : "=r"(v));
    return v;
}
static inline void write_eflags(uint32_t v) { __asm__ volatile("pushl %0; popfl" : : "r"(v) : "memory", "cc"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(sub));
    return r;
}
/* CPUID.1:EDX feature bits the kernels probe. */
#define CPUID_FPU (1u << 0)
#define CPUID_VME (1u << 1)
#define CPUID_PSE (1u << 3)
#define CPUID_TSC (1u << 4)
#define CPUID_MSR (1u << 5)
#define CPUID_PAE (1u << 6)
#define CPUID_CX8 (1u << 8)
#define CPUID_SEP (1u << 11)
#define CPUID_PGE (1u << 13)
#define CPUID_CMOV (1u << 15)
#define CPUID_FXSR (1u << 24)
#define CPUID_SSE (1u << 25)
/* CPUID.80000001h:EDX */
#define CPUID_EXT_NX (1u << 20)

/* True when CPUID.1:EDX has every bit of mask (leaf 1 exists on every CPU we target). */
static inline int cpu_has(uint32_t mask) { return (cpuid(1, 0).edx & mask) == mask; }
static inline int cpu_has_nx(void)
{
    if (cpuid(0x80000000u, 0).eax < 0x80000001u) return 0;
    return (cpuid(0x80000001u, 0).edx & CPUID_EXT_NX) != 0;
}

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint32_t base;
};
static inline void lgdt(const struct dtr *d) { __asm__ volatile("lgdt %0" : : "m"(*d) : "memory"); }
static inline void lidt(const struct dtr *d) { __asm__ volatile("lidt %0" : : "m"(*d) : "memory"); }
static inline struct dtr sgdt(void)
{
    struct dtr d;
    __asm__ volatile("sgdt %0" : "=m"(d));
    return d;
}
static inline struct dtr sidt(void)
{
    struct dtr d;
    __asm__ volatile("sidt %0" : "=m"(d));
    return d;
}
static inline void ltr(uint16_t sel) { __asm__ volatile("ltr %0" : : "r"(sel) : "memory"); }
static inline uint16_t str(void)
{
    uint16_t s;
    __asm__ volatile("str %0" : "=r"(s));
    return s;
}
static inline void invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

#define READ_SEG(name)                                                                   \
    static inline uint16_t read_##name(void)                                             \
    {                                                                                    \
        uint16_t v;                                                                      \
        __asm__ volatile("mov %%" #name ", %0" : "=r"(v));                               \
        return v;                                                                        \
    }
READ_SEG(cs)
READ_SEG(ds)
READ_SEG(es)
READ_SEG(fs)
READ_SEG(gs)
READ_SEG(ss)
#undef READ_SEG

static inline void io_delay(void) { __asm__ volatile("outb %%al, $0x80" : : "a"(0)); }
#endif
