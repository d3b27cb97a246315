/*
 * set_trap_table and exception bouncing: for each exception a ring-1 kernel can raise,
 * the vector, error code, EIP (the faulting instruction for faults, the next one for
 * traps), CS (FLAT_KERNEL_CS, saved upcall mask in bits 23:16) and EFLAGS.IF (= !mask)
 * of the frame Xen builds; INT n through the virtual IDT's DPL; #DB from single-step.
 */
#include "lib/pvtest.h"

PVTEST("trap_bounce", "SUCCESS", 0, "", "exception frames: #DE #DB #BP #OF #BR #UD #GP #PF #MF, INT n");

#define T pvt_last_trap

static void expect(const char *what, unsigned vector, unsigned ec, unsigned fixed_up)
{
    pv_printf("%s:\n", what);
    CHECK_EQ(T.count, 1);
    CHECK_EQ(T.vector, vector);
    CHECK_EQ(T.error_code, ec);
    CHECK_EQ(T.fixed_up, fixed_up);
    CHECK_EQ(T.cs, FLAT_KERNEL_CS);
    CHECK_EQ(T.from_user, 0);
}

static int clear_tf(struct pvt_frame *f)
{
    if (f->vector == X86_EXC_DB) f->eflags &= ~X86_EFLAGS_TF;
    return 0;
}

static volatile uint8_t mask_in_handler;
static int peek_mask(struct pvt_frame *f)
{
    (void)f;
    mask_in_handler = pvt_vcpu(0)->evtchn_upcall_mask;
    return 0;
}

void test_main(void)
{
    pvt_trap_reset();
    PVT_TRY("divl %%ecx", : : "a"(1), "d"(0), "c"(0));
    expect("#DE (divide by zero)", X86_EXC_DE, 0, 1);
    CHECK_EQ(T.saved_mask, 1);
    CHECK_EQ(T.eflags & X86_EFLAGS_IF, 0);

    pvt_trap_reset();
    PVT_TRY("int3");
    expect("#BP (int3)", X86_EXC_BP, 0, 2);

    pvt_trap_reset();
    PVT_TRY("int $3");
    expect("#BP (int $3)", X86_EXC_BP, 0, 2);

    pvt_trap_reset();
    __asm__ volatile("movb $0x7f, %%al; addb $1, %%al\n" /* sets OF */
                     "1: into\n2:\n" PVT_EXTABLE_ENTRY("1b", "2b") : : : "eax", "cc");
    expect("#OF (into with OF=1)", X86_EXC_OF, 0, 2);

    static int32_t bounds[2] = { 0, 1 };
    pvt_trap_reset();
    PVT_TRY("boundl %%eax, (%0)", : : "r"(bounds), "a"(5));
    expect("#BR (bound)", X86_EXC_BR, 0, 1);

    pvt_trap_reset();
    PVT_TRY("ud2");
    expect("#UD (ud2)", X86_EXC_UD, 0, 1);

    pvt_trap_reset();
    PVT_TRY("hlt");
    expect("#GP (hlt in ring 1)", X86_EXC_GP, 0, 1);

    pvt_trap_reset();
    PVT_TRY("movl (0), %%eax", : : : "eax");
    expect("#PF (read of NULL)", X86_EXC_PF, 0, 1);
    CHECK_EQ(T.cr2, 0);

    /* x87: unmask divide-by-zero, divide, the next waiting instruction raises #MF. */
    static const uint16_t cw = 0x037b;
    pvt_trap_reset();
    __asm__ volatile("fninit; fldcw %0; fld1; fldz; fdivrp" : : "m"(cw));
    PVT_TRY("fwait");
    expect("#MF (pending x87 #Z)", X86_EXC_MF, 0, 1);
    __asm__ volatile("fninit");

    /* Single-step: set TF, the next instruction completes, then #DB (a trap). */
    pvt_trap_hook = clear_tf;
    pvt_trap_reset();
    __asm__ volatile("pushfl; orl $0x100, (%%esp); popfl\n"
                     "1: nop\n2:\n" PVT_EXTABLE_ENTRY("1b", "2b") : : : "cc", "memory");
    pvt_trap_hook = 0;
    expect("#DB (single step)", X86_EXC_DB, 0, 2);
    CHECK_NE(T.eflags & X86_EFLAGS_TF, 0);
    long dr6 = HYPERVISOR_get_debugreg(6);
    CHECK_NE(dr6 & 0x4000, 0);  /* DR6.BS */

    /* INT n: DPL 1 lets ring 1 raise it (no error code, EIP after); DPL 0 turns it into
     * #GP with error code (n << 3) | 2 at the INT. */
    CHECK_EQ(pvt_set_trap(0x41, 1, 0), 0);
    CHECK_EQ(pvt_set_trap(0x42, 0, 0), 0);
    pvt_trap_reset();
    PVT_TRY("int $0x41");
    expect("INT $0x41 (DPL 1)", 0x41, 0, 2);
    pvt_trap_reset();
    PVT_TRY("int $0x42");
    expect("INT $0x42 (DPL 0)", X86_EXC_GP, (0x42 << 3) | 2, 1);
    pvt_trap_reset();
    PVT_TRY("int $0x43");  /* no entry at all */
    expect("INT $0x43 (no entry)", X86_EXC_GP, (0x43 << 3) | 2, 1);

    /* With events unmasked, the frame carries mask 0 and IF=1; an entry with the IF flag
     * masks events for the handler. */
    CHECK_EQ(pvt_set_trap(X86_EXC_UD, 0, 1), 0);
    pvt_trap_hook = peek_mask;
    pvt_vcpu(0)->evtchn_upcall_mask = 0;
    pvt_trap_reset();
    PVT_TRY("ud2");
    pvt_vcpu(0)->evtchn_upcall_mask = 1;
    pvt_trap_hook = 0;
    expect("#UD with events unmasked, IF-flagged entry", X86_EXC_UD, 0, 1);
    CHECK_EQ(T.saved_mask, 0);
    CHECK_NE(T.eflags & X86_EFLAGS_IF, 0);
    CHECK_EQ(mask_in_handler, 1);
    CHECK_EQ(pvt_set_trap(X86_EXC_UD, 0, 0), 0);
    pvt_vcpu(0)->evtchn_upcall_mask = 0;
    pvt_trap_hook = peek_mask;
    pvt_trap_reset();
    PVT_TRY("ud2");
    pvt_vcpu(0)->evtchn_upcall_mask = 1;
    pvt_trap_hook = 0;
    CHECK_EQ(mask_in_handler, 0);
}
