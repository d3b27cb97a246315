/*
 * Segmentation: the checks made when a segment register is loaded (null, limit of the
 * descriptor table, type, DPL/RPL/CPL, presence; #GP/#SS/#NP with the selector as error
 * code) and when memory is accessed through it (limits with byte and 4 KiB granularity,
 * expand-down with B=0/1, read-only data, execute-only code), conforming code segments,
 * far jumps, the accessed bit, bases, and LAR/LSL/VERR/VERW/ARPL.
 *
 * QEMU's TCG does the load-time checks but not the access-time ones (limits, write to
 * read-only data, read of execute-only code): those are CHECK_ARCH, and tsxen must pass.
 * So are accesses through a null selector, which QEMU lets through as well.
 * Probes go through ES (or SS for the stack cases), so DS and the C code stay intact.
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

#define S_DATA_RO (GDT_FREE + 0)    /* flat read-only data */
#define S_CODE_XO (GDT_FREE + 1)    /* flat execute-only code */
#define S_DATA_NP (GDT_FREE + 2)    /* not present */
#define S_LIM_BYTE (GDT_FREE + 3)   /* base buf, limit 0xfff, G=0 */
#define S_LIM_PAGE (GDT_FREE + 4)   /* base 0, limit 0 with G=1: 0..0xfff */
#define S_EXPDOWN_B (GDT_FREE + 5)  /* expand-down, limit 0xfff, B=1 */
#define S_EXPDOWN_W (GDT_FREE + 6)  /* expand-down, limit 0xfff, B=0: 0x1000..0xffff */
#define S_CONFORM0 (GDT_FREE + 7)   /* conforming readable code, DPL 0 */
#define S_CODE3 (GDT_FREE + 8)      /* non-conforming code DPL 3 */
#define S_DATA_NA (GDT_FREE + 9)    /* data with accessed bit clear */
#define S_BASED (GDT_FREE + 10)     /* base = buf */
#define S_STACK_2G (GDT_FREE + 11)  /* stack segment, limit 2 GiB */
#define S_CODE_SHORT (GDT_FREE + 12) /* code, limit = end of the kernel text */
#define S_INTGATE (GDT_FREE + 13)   /* an interrupt gate in the GDT (invalid for LAR) */
#define S_CALLGATE (GDT_FREE + 14)
#define S_CONFORM_XO (GDT_FREE + 15) /* conforming execute-only code */
#define S_DATA3 (GDT_FREE + 16)     /* data DPL 3 */
#define S_DATA2 (GDT_FREE + 17)     /* data DPL 2 */

static uint8_t buf[0x2000] __attribute__((aligned(4096)));

static void load_es(uint16_t s) { __asm__ volatile(TRY("movw %0, %%es") : : "r"(s) : "memory"); }
static void load_ss_probe(uint16_t s)
{
    /* Put SS back at once: only the load's checks matter here. */
    __asm__ volatile("movw %%ss, %%dx\n\t" TRY("movw %0, %%ss") "movw %%dx, %%ss" : : "r"(s) : "edx", "memory");
}
static void reset_es(void) { __asm__ volatile("movw %0, %%es" : : "r"((uint16_t)SEL_KDATA)); }

static uint32_t es_read32(uint32_t off)
{
    uint32_t v = 0;
    __asm__ volatile(TRY("movl %%es:(%1), %0") : "+r"(v) : "r"(off) : "memory");
    return v;
}
static void es_read8(uint32_t off)
{
    uint32_t v = 0;
    __asm__ volatile(TRY("movb %%es:(%1), %b0") : "+q"(v) : "r"(off) : "memory");
}
static void es_write32(uint32_t off, uint32_t v)
{
    __asm__ volatile(TRY("movl %1, %%es:(%0)") : : "r"(off), "r"(v) : "memory");
}

static void setup(void)
{
    uint8_t code = ACC_P | ACC_S | ACC_CODE;
    gdt_set(S_DATA_RO, 0, 0xfffff, ACC_P | ACC_S, FLG_G | FLG_DB);
    gdt_set(S_CODE_XO, 0, 0xfffff, code, FLG_G | FLG_DB);
    gdt_set(S_DATA_NP, 0, 0xfffff, ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    gdt_set(S_LIM_BYTE, (uint32_t)buf, 0xfff, ACC_P | ACC_S | ACC_WRITE, FLG_DB);
    gdt_set(S_LIM_PAGE, 0, 0, ACC_P | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    gdt_set(S_EXPDOWN_B, 0, 0xfff, ACC_P | ACC_S | ACC_WRITE | ACC_EXPDOWN, FLG_DB);
    gdt_set(S_EXPDOWN_W, 0, 0xfff, ACC_P | ACC_S | ACC_WRITE | ACC_EXPDOWN, 0);
    gdt_set(S_CONFORM0, 0, 0xfffff, code | ACC_READ | ACC_CONFORMING, FLG_G | FLG_DB);
    gdt_set(S_CODE3, 0, 0xfffff, code | ACC_READ | ACC_DPL(3), FLG_G | FLG_DB);
    gdt_set(S_DATA_NA, 0, 0xfffff, ACC_P | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    gdt_set(S_BASED, (uint32_t)buf, 0xfffff, ACC_P | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    gdt_set(S_STACK_2G, 0, 0x7ffff, ACC_P | ACC_S | ACC_WRITE, FLG_G | FLG_DB);
    extern char _etext_probe[];
    gdt_set(S_CODE_SHORT, 0, (uint32_t)_etext_probe, code | ACC_READ, FLG_DB);
    gdt_set_raw(S_INTGATE, gate_make(SEL_KCODE, 0, GATE_INT(0)));
    gdt_set_callgate(S_CALLGATE, SEL_KCODE, 0, 0, 0);
    gdt_set(S_CONFORM_XO, 0, 0xfffff, code | ACC_CONFORMING, FLG_G | FLG_DB);
    gdt_set(S_DATA3, 0, 0xfffff, ACC_P | ACC_S | ACC_WRITE | ACC_DPL(3), FLG_G | FLG_DB);
    gdt_set(S_DATA2, 0, 0xfffff, ACC_P | ACC_S | ACC_WRITE | ACC_DPL(2), FLG_G | FLG_DB);
}

static void null_and_table_limits(void)
{
    test_section("null selectors and the table limit");
    load_es(0);
    check_no_fault("loading a null selector into ES is allowed");
    es_read32(0x1000);
    check_fault_arch(13, 0, "an access through a null ES: #GP(0)");
    load_es(3);
    check_no_fault("a null selector with RPL 3 loads too");
    load_ss_probe(0);
    check_fault(13, 0, "a null selector into SS: #GP(0)");
    load_es(0x1238);
    check_fault(13, 0x1238, "a selector past the GDT limit: #GP(selector)");
    load_es(0x123b);
    check_fault(13, 0x1238, "the error code drops the RPL");
    load_es(0x1234);
    check_fault(13, 0x1234, "a selector with TI=1 and an empty LDT: #GP(selector)");
    reset_es();
}

static void type_and_privilege_checks(void)
{
    test_section("type, presence and privilege at load time");
    load_es(SEL_TSS);
    check_fault(13, SEL_TSS, "a TSS into ES: #GP(selector)");
    load_es(GDT_SEL(S_CODE_XO, 0));
    check_fault(13, GDT_SEL(S_CODE_XO, 0), "execute-only code into ES: #GP(selector)");
    load_es(SEL_KCODE);
    check_no_fault("readable code into ES is allowed");
    CHECK_EQ(es_read32((uint32_t)buf), 0, "and can be read through");
    load_es(GDT_SEL(S_DATA_NP, 0));
    check_fault(11, GDT_SEL(S_DATA_NP, 0), "a not-present data segment: #NP(selector)");
    load_ss_probe(GDT_SEL(S_DATA_NP, 0));
    check_fault(12, GDT_SEL(S_DATA_NP, 0), "a not-present stack segment: #SS(selector)");
    load_ss_probe(GDT_SEL(S_DATA_RO, 0));
    check_fault(13, GDT_SEL(S_DATA_RO, 0), "read-only data into SS: #GP(selector)");
    load_ss_probe(SEL_KCODE);
    check_fault(13, SEL_KCODE, "code into SS: #GP(selector)");
    load_ss_probe(SEL_KDATA | 3);
    check_fault(13, SEL_KDATA, "SS with RPL != CPL: #GP(selector)");
    load_ss_probe(GDT_SEL(S_DATA3, 0));
    check_fault(13, GDT_SEL(S_DATA3, 0), "SS with DPL != CPL: #GP(selector)");
    load_es(SEL_KDATA | 3);
    check_fault(13, SEL_KDATA, "RPL 3 to a DPL 0 data segment: #GP(selector)");
    load_es(GDT_SEL(S_DATA2, 2));
    check_no_fault("RPL 2 to a DPL 2 data segment at CPL 0");
    load_es(GDT_SEL(S_DATA2, 3));
    check_fault(13, GDT_SEL(S_DATA2, 0), "RPL 3 to a DPL 2 data segment: #GP(selector)");
    load_es(GDT_SEL(S_CONFORM0, 3));
    check_no_fault("conforming readable code ignores RPL for data loads");
    load_es(GDT_SEL(S_DATA_NA, 0));
    check_no_fault("a data segment with the accessed bit clear loads");
    CHECK(gdt[S_DATA_NA] & (1ull << 40), "loading it set the accessed bit in the GDT");
    reset_es();
}

static uint32_t u_load_es(uint32_t s)
{
    __asm__ volatile(TRY("movw %w0, %%es") : : "r"(s) : "memory");
    __asm__ volatile("movw %0, %%es" : : "r"((uint16_t)SEL_UDATA));
    return 0;
}

static uint32_t u_cs(uint32_t a)
{
    (void)a;
    return read_cs();
}

static void ring3_loads(void)
{
    test_section("loads at CPL 3");
    ring_call(3, u_load_es, SEL_KDATA, 0x2);
    check_fault(13, SEL_KDATA, "CPL 3 loading DPL 0 data: #GP(selector)");
    ring_call(3, u_load_es, GDT_SEL(S_DATA3, 3), 0x2);
    check_no_fault("CPL 3 loading DPL 3 data");
    ring_call(3, u_load_es, GDT_SEL(S_CONFORM0, 3), 0x2);
    check_no_fault("CPL 3 loading DPL 0 conforming readable code");
    ring_call(3, u_load_es, SEL_KCODE | 3, 0x2);
    check_fault(13, SEL_KCODE, "CPL 3 loading DPL 0 non-conforming code: #GP(selector)");
    CHECK_EQ(ring_call(3, u_cs, 0, 0x2), SEL_UCODE, "CS at ring 3 is the user selector");
}

static void limits(void)
{
    test_section("limits and expansion direction (QEMU does not enforce these)");
    load_es(GDT_SEL(S_LIM_BYTE, 0));
    es_read32(0xffc);
    check_no_fault("dword at limit-3 of a byte-granular segment");
    es_read32(0xffd);
    check_fault_arch(13, 0, "dword straddling the limit: #GP(0)");
    es_read8(0xfff);
    check_no_fault("byte at the limit");
    es_read8(0x1000);
    check_fault_arch(13, 0, "byte just past the limit: #GP(0)");

    load_es(GDT_SEL(S_LIM_PAGE, 0));
    es_read32(0xffc);
    check_no_fault("G=1, limit 0: offsets up to 0xfff are in range");
    es_read32(0x1000);
    check_fault_arch(13, 0, "G=1, limit 0: offset 0x1000 is past the limit");

    load_es(GDT_SEL(S_EXPDOWN_B, 0));
    es_read32(0x1000);
    check_no_fault("expand-down B=1: offset limit+1 is valid");
    es_read32(0xfffffffc);
    check_no_fault("expand-down B=1: the top dword is valid");
    es_read32(0xfff);
    check_fault_arch(13, 0, "expand-down B=1: offset at the limit is invalid");
    es_read32(0xffe);
    check_fault_arch(13, 0, "expand-down B=1: a dword overlapping limit+1 is invalid");

    load_es(GDT_SEL(S_EXPDOWN_W, 0));
    es_read32(0xfffc);
    check_no_fault("expand-down B=0: dword at 0xfffc is valid");
    es_read32(0xfffe);
    check_fault_arch(13, 0, "expand-down B=0: a dword past 0xffff is invalid");
    es_read8(0x10000);
    check_fault_arch(13, 0, "expand-down B=0: 0x10000 is out of range");

    load_es(GDT_SEL(S_DATA_RO, 0));
    es_read32((uint32_t)buf);
    check_no_fault("read-only data can be read");
    es_write32((uint32_t)buf, 1);
    check_fault_arch(13, 0, "a write to read-only data: #GP(0)");
    CHECK_EQ_ARCH(*(volatile uint32_t *)buf, 0, "and memory is unchanged");
    *(volatile uint32_t *)buf = 0;

    load_es(SEL_KCODE);
    es_write32((uint32_t)buf, 1);
    check_fault_arch(13, 0, "a write through readable code: #GP(0)");
    *(volatile uint32_t *)buf = 0;
    reset_es();

    uint32_t v = 0;
    __asm__ volatile(TRY("movl %%cs:(%1), %0") : "+r"(v) : "r"((uint32_t)buf) : "memory");
    check_no_fault("CS-relative read of readable code");

    /* SS-relative access past a 2 GiB stack segment limit. */
    __asm__ volatile("movw %%ss, %%dx\n\tmovw %1, %%ss\n\t" TRY("movl %%ss:(%2), %0") "movw %%dx, %%ss"
                     : "+r"(v)
                     : "r"((uint16_t)GDT_SEL(S_STACK_2G, 0)), "r"(0x80000000u)
                     : "edx", "memory");
    check_fault_arch(12, 0, "an SS access past the stack limit: #SS(0)");
}

static void bases(void)
{
    test_section("segment bases");
    buf[0x10] = 0x5a;
    buf[0x11] = 0xa5;
    load_es(GDT_SEL(S_BASED, 0));
    uint32_t v = es_read32(0x10) & 0xffff;
    CHECK_EQ(v, 0xa55a, "ES base adds to the offset");
    es_write32(0x20, 0xcafe);
    CHECK_EQ(*(volatile uint32_t *)(buf + 0x20), 0xcafe, "writes land at base + offset");
    reset_es();
}

/* Far jumps and conforming code: the target tells what CS it saw. */
static volatile uint32_t seen_cs;
__asm__(".text\n"
        "far_target:\n\t"
        "movw %cs, %ax\n\t"
        "movzwl %ax, %eax\n\t"
        "movl %eax, %ss:seen_cs\n\t"
        "ljmp *%ss:far_back\n");
extern char far_target[];
static volatile struct __attribute__((packed)) {
    uint32_t off;
    uint16_t sel;
} far_back, far_to;

static void far_jump(uint16_t sel)
{
    far_to.off = (uint32_t)far_target;
    far_to.sel = sel;
    seen_cs = 0;
    __asm__ volatile("movl $.Lback%=, %%eax\n\tmovl %%eax, far_back\n\t"
                     "movw %%cs, %%ax\n\tmovw %%ax, far_back+4\n\t"
                     TRY("ljmp *far_to") ".Lback%=:\n\t"
                     : : : "eax", "memory");
}

static uint32_t u_far_jump(uint32_t sel)
{
    far_jump((uint16_t)sel);
    return seen_cs;
}

static void far_transfers(void)
{
    test_section("far jumps and conforming code");
    far_jump(GDT_SEL(S_CONFORM0, 0));
    CHECK_EQ(seen_cs, GDT_SEL(S_CONFORM0, 0), "ljmp to conforming code at CPL 0");
    far_jump(SEL_KDATA);
    check_fault(13, SEL_KDATA, "ljmp to a data segment: #GP(selector)");
    gdt[S_CODE3 + 0] &= ~(1ull << 47);
    far_jump(GDT_SEL(S_CODE3, 0));
    gdt[S_CODE3] |= 1ull << 47;
    check_fault(13, GDT_SEL(S_CODE3, 0), "ljmp to DPL 3 non-conforming code from CPL 0: #GP (before presence)");
    far_jump(GDT_SEL(S_CODE3, 3));
    check_fault(13, GDT_SEL(S_CODE3, 0), "ljmp cannot change CPL to 3: #GP(selector)");
    far_jump(SEL_KCODE | 3);
    check_fault(13, SEL_KCODE, "ljmp to non-conforming code with RPL > CPL: #GP(selector)");
    gdt_set(GDT_FREE + 18, 0, 0xfffff, ACC_S | ACC_CODE | ACC_READ, FLG_G | FLG_DB);
    far_jump(GDT_SEL(GDT_FREE + 18, 0));
    check_fault(11, GDT_SEL(GDT_FREE + 18, 0), "ljmp to not-present code: #NP(selector)");

    CHECK_EQ(ring_call(3, u_far_jump, GDT_SEL(S_CONFORM0, 3), 0x2), GDT_SEL(S_CONFORM0, 3),
             "CPL 3 ljmp to DPL 0 conforming code keeps CPL 3 (CS.RPL = 3)");
    ring_call(3, u_far_jump, SEL_KCODE | 3, 0x2);
    check_fault(13, SEL_KCODE, "CPL 3 ljmp to DPL 0 non-conforming code: #GP(selector)");
    CHECK_EQ(ring_call(3, u_far_jump, GDT_SEL(S_CONFORM_XO, 3), 0x2), GDT_SEL(S_CONFORM_XO, 3),
             "execute-only conforming code runs at CPL 3");

    far_jump(GDT_SEL(S_CODE_SHORT, 0));
    CHECK_EQ(seen_cs, 0, "ljmp past the CS limit did not arrive");
    check_fault(13, 0, "ljmp to an offset past the code segment limit: #GP(0)");
}

struct lar_result {
    uint32_t value;
    int zf;
};

static struct lar_result do_lar(uint32_t sel)
{
    struct lar_result r = { 0xdeadbeef, 0 };
    __asm__ volatile("larl %2, %0\n\tsetz %b1" : "+r"(r.value), "=q"(r.zf) : "r"(sel) : "cc");
    r.zf &= 1;
    return r;
}
static struct lar_result do_lsl(uint32_t sel)
{
    struct lar_result r = { 0xdeadbeef, 0 };
    __asm__ volatile("lsll %2, %0\n\tsetz %b1" : "+r"(r.value), "=q"(r.zf) : "r"(sel) : "cc");
    r.zf &= 1;
    return r;
}
static int do_verr(uint32_t sel)
{
    uint8_t z;
    __asm__ volatile("verr %w1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
    return z;
}
static int do_verw(uint32_t sel)
{
    uint8_t z;
    __asm__ volatile("verw %w1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
    return z;
}
static uint32_t u_lar_ok(uint32_t sel) { return (uint32_t)do_lar(sel).zf; }
static uint32_t u_verr(uint32_t sel) { return (uint32_t)do_verr(sel); }

static void lar_lsl_verr_verw_arpl(void)
{
    test_section("lar, lsl, verr, verw, arpl");
    struct lar_result r = do_lar(SEL_KCODE);
    CHECK(r.zf, "lar on kernel code: ZF=1");
    CHECK_EQ(r.value & 0x00f0ff00, 0x00c09a00 | (uint32_t)((gdt[1] >> 40) & 1) << 8,
             "kernel code: G, D, P, S, type 0xa (0xb once accessed)");
    r = do_lar(SEL_TSS);
    CHECK(r.zf, "lar on a TSS descriptor: ZF=1");
    CHECK_EQ((r.value >> 8) & 0x9f, 0x8b, "the busy TSS type shows");
    r = do_lar(GDT_SEL(S_CALLGATE, 0));
    CHECK(r.zf, "lar on a call gate: ZF=1");
    r = do_lar(GDT_SEL(S_INTGATE, 0));
    CHECK(!r.zf && r.value == 0xdeadbeef, "lar on an interrupt gate: ZF=0, destination unchanged");
    r = do_lar(0);
    CHECK(!r.zf, "lar on the null selector: ZF=0");
    r = do_lar(0x1238);
    CHECK(!r.zf, "lar past the GDT limit: ZF=0 (no fault)");

    r = do_lsl(SEL_KDATA);
    CHECK(r.zf && r.value == 0xffffffff, "lsl on flat data: 0xffffffff");
    r = do_lsl(GDT_SEL(S_LIM_BYTE, 0));
    CHECK(r.zf && r.value == 0xfff, "lsl on a byte-granular segment: 0xfff");
    r = do_lsl(GDT_SEL(S_LIM_PAGE, 0));
    CHECK(r.zf && r.value == 0xfff, "lsl scales a G=1 limit of 0 to 0xfff");
    r = do_lsl(SEL_TSS);
    CHECK(r.zf && r.value == sizeof(tss_main) - 1, "lsl on a TSS: its byte limit");
    r = do_lsl(GDT_SEL(S_CALLGATE, 0));
    CHECK(!r.zf, "lsl on a call gate: ZF=0");

    CHECK(do_verr(SEL_KCODE), "verr on readable code: ZF=1");
    CHECK(!do_verr(GDT_SEL(S_CODE_XO, 0)), "verr on execute-only code: ZF=0");
    CHECK(do_verw(SEL_KDATA), "verw on writable data: ZF=1");
    CHECK(!do_verw(GDT_SEL(S_DATA_RO, 0)), "verw on read-only data: ZF=0");
    CHECK(!do_verw(SEL_KCODE), "verw on code: ZF=0");
    CHECK(!do_verr(0), "verr on the null selector: ZF=0");
    CHECK(!do_verr(SEL_KDATA | 3), "verr with RPL 3 on DPL 0 data: ZF=0");

    CHECK_EQ(ring_call(3, u_lar_ok, SEL_KDATA, 0x2), 0, "lar at CPL 3 on DPL 0 data: ZF=0");
    CHECK_EQ(ring_call(3, u_lar_ok, GDT_SEL(S_CONFORM0, 3), 0x2), 1, "lar at CPL 3 on conforming code: ZF=1");
    CHECK_EQ(ring_call(3, u_verr, SEL_KCODE | 3, 0x2), 0, "verr at CPL 3 on DPL 0 code: ZF=0");
    CHECK_EQ(ring_call(3, u_verr, SEL_UDATA, 0x2), 1, "verr at CPL 3 on user data: ZF=1");

    uint16_t dst = 0x10;
    uint8_t z;
    __asm__ volatile("arpl %w2, %w0\n\tsetz %1" : "+r"(dst), "=q"(z) : "r"(0x1b) : "cc");
    CHECK(dst == 0x13 && z, "arpl raises RPL 0 to 3 and sets ZF");
    dst = 0x13;
    __asm__ volatile("arpl %w2, %w0\n\tsetz %1" : "+r"(dst), "=q"(z) : "r"(0x19) : "cc");
    CHECK(dst == 0x13 && !z, "arpl leaves a higher RPL alone and clears ZF");
}

#define S_LDT (GDT_FREE + 19)
#define S_LDT_NP (GDT_FREE + 20)
static uint64_t ldt[4] __attribute__((aligned(8)));
static uint32_t ldt_word = 0x1d7d47a;

static void lldt_try(uint16_t sel) { __asm__ volatile(TRY("lldt %0") : : "r"(sel) : "memory"); }
static uint32_t u_lldt(uint32_t sel)
{
    lldt_try((uint16_t)sel);
    return 0;
}

static void local_descriptor_table(void)
{
    test_section("the LDT");
    ldt[1] = desc_make((uint32_t)&ldt_word, 3, ACC_P | ACC_S | ACC_WRITE, FLG_DB);
    ldt[2] = desc_make(0, 0xfffff, ACC_P | ACC_S | ACC_WRITE | ACC_DPL(3), FLG_G | FLG_DB);
    gdt_set(S_LDT, (uint32_t)ldt, sizeof(ldt) - 1, ACC_P | SYS_LDT, 0);
    gdt_set(S_LDT_NP, (uint32_t)ldt, sizeof(ldt) - 1, SYS_LDT, 0);
    lldt_try(0);
    check_no_fault("lldt with a null selector is allowed");
    load_es(0x0c);
    check_fault(13, 0x0c, "then an LDT selector faults: #GP(selector with TI)");
    lldt_try(SEL_TSS);
    check_fault(13, SEL_TSS, "lldt of a TSS descriptor: #GP(selector)");
    lldt_try(GDT_SEL(S_LDT_NP, 0));
    check_fault(11, GDT_SEL(S_LDT_NP, 0), "lldt of a not-present LDT: #NP(selector)");
    lldt_try(GDT_SEL(S_LDT, 0) | 4);
    check_fault(13, GDT_SEL(S_LDT, 0) | 4, "lldt with TI=1: #GP(selector)");
    ring_call(3, u_lldt, GDT_SEL(S_LDT, 0), 0x2);
    check_fault(13, 0, "lldt at CPL 3: #GP(0)");
    lldt_try(GDT_SEL(S_LDT, 0));
    check_no_fault("lldt of an LDT descriptor");
    uint16_t l;
    __asm__ volatile("sldt %0" : "=r"(l));
    CHECK_EQ(l, GDT_SEL(S_LDT, 0), "sldt reads it back");
    load_es(0x0c);
    check_no_fault("ES = LDT entry 1");
    CHECK_EQ(es_read32(0), 0x1d7d47a, "reads through the LDT descriptor's base");
    load_es(0x1c);
    check_fault(13, 0x1c, "a selector past the LDT limit: #GP(selector)");
    ring_call(3, u_load_es, 0x17, 0x2);
    check_no_fault("CPL 3 loads a DPL 3 LDT data segment");
    reset_es();
    lldt_try(0);
}

static struct dtr u_gdtr, u_idtr;
static uint16_t u_tr, u_ldtr;
static uint16_t u_msw[2];

static uint32_t u_table_stores(uint32_t a)
{
    (void)a;
    u_msw[0] = u_msw[1] = 0xffff;
    __asm__ volatile(TRY("sgdt %0") : "=m"(u_gdtr) : : "memory");
    __asm__ volatile(TRY("sidt %0") : "=m"(u_idtr) : : "memory");
    __asm__ volatile(TRY("str %0") : "=m"(u_tr) : : "memory");
    __asm__ volatile(TRY("sldt %0") : "=m"(u_ldtr) : : "memory");
    __asm__ volatile(TRY("smsw %0") : "=m"(u_msw[0]) : : "memory");
    return 0;
}

/* SGDT/SIDT read back what LGDT/LIDT loaded; no store instruction is privileged on a P6 (no UMIP). */
static void table_stores(void)
{
    test_section("descriptor-table stores");
    struct dtr gsave = sgdt(), isave = sidt();
    const struct dtr gt = { 0x0123, 0x00abcdef }, it = { 0x0456, 0x12345678 };
    lgdt(&gt);
    struct dtr g = sgdt();
    lgdt(&gsave);
    lidt(&it);
    struct dtr i = sidt();
    lidt(&isave);
    CHECK(g.limit == gt.limit && g.base == gt.base, "sgdt stores the limit and base lgdt loaded");
    CHECK(i.limit == it.limit && i.base == it.base, "sidt stores the limit and base lidt loaded");
    ring_call(3, u_table_stores, 0, 0x2);
    check_no_fault("sgdt, sidt, str, sldt, smsw run at CPL 3");
    CHECK(u_gdtr.limit == gsave.limit && u_gdtr.base == gsave.base, "sgdt at CPL 3 sees the GDTR");
    CHECK(u_idtr.limit == isave.limit && u_idtr.base == isave.base, "sidt at CPL 3 sees the IDTR");
    CHECK_EQ(u_tr, SEL_TSS, "str at CPL 3 sees TR");
    CHECK_EQ(u_ldtr, 0, "sldt at CPL 3 sees the null LDTR");
    CHECK(u_msw[0] == (read_cr0() & 0xffff) && u_msw[1] == 0xffff, "smsw to memory stores 16 bits of CR0");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-segmentation");
    setup();
    null_and_table_limits();
    type_and_privilege_checks();
    ring3_loads();
    limits();
    bases();
    far_transfers();
    lar_lsl_verr_verw_arpl();
    local_descriptor_table();
    table_stores();
    return test_finish();
}

/* The short code segment's limit: everything after this point is beyond it. */
__asm__(".text\n.globl _etext_probe\n_etext_probe:\n\tnop\n");
