/*
 * I/O privilege: IOPL against CPL, and the TSS I/O permission bitmap when CPL > IOPL —
 * one bit per port, every port of a multi-byte access checked (including accesses whose
 * bits span two bitmap bytes), the two bytes the processor always reads (so a port in the
 * last byte within the TSS limit still faults), the all-ones byte after the bitmap, and
 * INS/OUTS (faulting before any transfer, registers advanced by REP when allowed).
 *
 * The probed ports (0x300-0x31f, 0xfff0-0xffff) have no device on a PC; only whether the
 * access faults is checked, never the value read.
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

int kmain(uint32_t magic, uint32_t info);

static void allow(uint32_t port, int yes)
{
    if (yes) tss_main.iomap[port >> 3] &= (uint8_t) ~(1u << (port & 7));
    else tss_main.iomap[port >> 3] |= (uint8_t)(1u << (port & 7));
}

/* Load TR again so a new TSS limit takes effect (the limit is cached in TR). */
static void reload_tr(uint32_t limit)
{
    gdt_set(5, (uint32_t)&tss_main, limit, ACC_P | SYS_TSS32_AVAIL, 0);
    ltr(SEL_TSS);
}

/* arg = port | size << 16 (1, 2 or 4); returns 0. */
static uint32_t u_in(uint32_t arg)
{
    uint32_t port = arg & 0xffff, size = arg >> 16, v = 0;
    if (size == 1) __asm__ volatile(TRY("inb %w1, %b0") : "+a"(v) : "d"(port) : "memory");
    else if (size == 2) __asm__ volatile(TRY("inw %w1, %w0") : "+a"(v) : "d"(port) : "memory");
    else __asm__ volatile(TRY("inl %w1, %0") : "+a"(v) : "d"(port) : "memory");
    return 0;
}

static uint32_t u_out(uint32_t arg)
{
    uint32_t port = arg & 0xffff, size = arg >> 16, v = 0;
    if (size == 1) __asm__ volatile(TRY("outb %b0, %w1") : : "a"(v), "d"(port) : "memory");
    else if (size == 2) __asm__ volatile(TRY("outw %w0, %w1") : : "a"(v), "d"(port) : "memory");
    else __asm__ volatile(TRY("outl %0, %w1") : : "a"(v), "d"(port) : "memory");
    return 0;
}

static uint8_t ins_buf[16];
static volatile uint32_t ins_edi, ins_ecx;
static uint32_t u_rep_insb(uint32_t port)
{
    uint32_t edi = (uint32_t)ins_buf, ecx = 4;
    __asm__ volatile(TRY("rep insb") : "+D"(edi), "+c"(ecx) : "d"(port) : "memory");
    ins_edi = edi;
    ins_ecx = ecx;
    return 0;
}

static uint32_t u_rep_outsb_down(uint32_t port)
{
    uint32_t esi = (uint32_t)ins_buf + 7, ecx = 4;
    __asm__ volatile("std\n\t" TRY("rep outsb") "cld" : "+S"(esi), "+c"(ecx) : "d"(port) : "memory");
    ins_edi = esi;
    ins_ecx = ecx;
    return 0;
}

#define IN(p, n, fl) ring_call(3, u_in, (p) | ((n) << 16), 0x2 | (fl))
#define OUT(p, n, fl) ring_call(3, u_out, (p) | ((n) << 16), 0x2 | (fl))

static void iopl(void)
{
    test_section("IOPL");
    uint32_t limit = sizeof(tss_main) - 1;
    tss_main.t.iomap_base = TSS32_SIZE + 8192 + 1; /* past the limit: no bitmap */
    reload_tr(limit);
    IN(0x300, 1, 0);
    check_fault(13, 0, "CPL 3, IOPL 0, no bitmap: in faults #GP(0)");
    OUT(0x300, 1, 0);
    check_fault(13, 0, "and out too");
    IN(0x300, 1, EFL_IOPL3);
    check_no_fault("CPL 3, IOPL 3: in is allowed");
    OUT(0x300, 4, EFL_IOPL3);
    check_no_fault("CPL 3, IOPL 3: out is allowed");
    uint32_t v = 0;
    __asm__ volatile(TRY("inb $0x80, %b0") : "+a"(v) : : "memory");
    check_no_fault("CPL 0 ignores IOPL and the bitmap");
}

static void bitmap(void)
{
    test_section("I/O permission bitmap");
    tss_main.t.iomap_base = TSS32_SIZE;
    reload_tr(sizeof(tss_main) - 1);
    for (unsigned i = 0; i < 8192; i++) tss_main.iomap[i] = 0xff;

    IN(0x300, 1, 0);
    check_fault(13, 0, "port bit set: #GP(0)");
    allow(0x300, 1);
    IN(0x300, 1, 0);
    check_no_fault("port bit clear: allowed");
    OUT(0x300, 1, 0);
    check_no_fault("out to the same port: allowed");
    IN(0x300, 2, 0);
    check_fault(13, 0, "inw 0x300 also needs 0x301: #GP(0)");
    allow(0x301, 1);
    IN(0x300, 2, 0);
    check_no_fault("with both bits clear inw is allowed");
    IN(0x301, 1, 0);
    check_no_fault("inb 0x301 alone is allowed");
    IN(0x302, 1, 0);
    check_fault(13, 0, "the neighbouring port 0x302 is still denied");

    /* Accesses whose bits span two bitmap bytes. */
    allow(0x307, 1);
    IN(0x307, 2, 0);
    check_fault(13, 0, "inw 0x307 spans into the next byte (0x308 denied)");
    allow(0x308, 1);
    IN(0x307, 2, 0);
    check_no_fault("inw 0x307 with 0x307 and 0x308 clear");
    allow(0x30e, 1);
    allow(0x30f, 1);
    allow(0x310, 1);
    IN(0x30e, 4, 0);
    check_fault(13, 0, "inl 0x30e needs 0x30e-0x311 (0x311 denied)");
    allow(0x311, 1);
    IN(0x30e, 4, 0);
    check_no_fault("inl 0x30e with all four bits clear");
    OUT(0x30e, 4, 0);
    check_no_fault("outl 0x30e likewise");
    allow(0x310, 0);
    OUT(0x30e, 4, 0);
    check_fault(13, 0, "outl 0x30e with one inner bit set");

    test_section("the end of the bitmap");
    allow(0xffff, 1);
    IN(0xffff, 1, 0);
    check_no_fault("inb 0xffff (last bit of the bitmap) allowed");
    IN(0xffff, 2, 0);
    check_fault(13, 0, "inw 0xffff reads the all-ones byte after the bitmap: #GP(0)");
    allow(0xfffe, 1);
    IN(0xfffe, 2, 0);
    check_no_fault("inw 0xfffe stays inside the bitmap");

    test_section("the TSS limit cuts the bitmap short");
    allow(0x2f8, 1);
    reload_tr(TSS32_SIZE + 0x60 - 1); /* bitmap bytes 0..0x5f (ports 0..0x2ff) */
    IN(0x2f8, 1, 0);
    check_fault(13, 0, "port in the last byte inside the limit: the second byte read is past it, #GP(0)");
    IN(0x300, 1, 0);
    check_fault(13, 0, "port past the limit: #GP(0) though its bit is clear");
    allow(0x2e8, 1);
    IN(0x2e8, 1, 0);
    check_no_fault("port whose two bytes lie inside the limit: allowed");
    reload_tr(sizeof(tss_main) - 1);
    IN(0x300, 1, 0);
    check_no_fault("full limit again: allowed");

    test_section("IOPL at CPL 3 bypasses the bitmap");
    IN(0x302, 1, EFL_IOPL3);
    check_no_fault("a denied port with IOPL 3 is allowed");
}

static uint32_t r1_in(uint32_t port)
{
    uint32_t v = 0;
    __asm__ volatile(TRY("inb %w1, %b0") : "+a"(v) : "d"(port) : "memory");
    return 0;
}

static void other_rings(void)
{
    test_section("ring 1");
    ring_call(1, r1_in, 0x302, 0x2 | EFL_IOPL(1));
    check_no_fault("CPL 1, IOPL 1: allowed without consulting the bitmap");
    ring_call(1, r1_in, 0x302, 0x2);
    check_fault(13, 0, "CPL 1, IOPL 0: the bitmap denies 0x302");
    ring_call(1, r1_in, 0x300, 0x2);
    check_no_fault("CPL 1, IOPL 0: the bitmap allows 0x300");
}

static void string_io(void)
{
    test_section("ins and outs");
    allow(0x318, 0);
    ring_call(3, u_rep_insb, 0x318, 0x2);
    check_fault(13, 0, "rep insb from a denied port: #GP(0)");
    CHECK(ins_edi == (uint32_t)ins_buf && ins_ecx == 4, "before any transfer: EDI and ECX unchanged");
    allow(0x318, 1);
    ring_call(3, u_rep_insb, 0x318, 0x2);
    check_no_fault("rep insb from an allowed port");
    CHECK(ins_edi == (uint32_t)ins_buf + 4 && ins_ecx == 0, "EDI advanced by 4, ECX = 0");
    ring_call(3, u_rep_outsb_down, 0x318, 0x2);
    check_no_fault("rep outsb with DF=1");
    CHECK(ins_edi == (uint32_t)ins_buf + 3 && ins_ecx == 0, "ESI went down by 4");
    allow(0x318, 0);
    ring_call(3, u_rep_outsb_down, 0x318, 0x2);
    check_fault(13, 0, "rep outsb to a denied port: #GP(0)");
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    test_begin("cpu-io");
    iopl();
    bitmap();
    other_rings();
    string_io();
    return test_finish();
}
