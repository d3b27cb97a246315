/* The check library (see test.h for the output format and exit codes). */
#include "bare/test.h"
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/pic.h"
#include "bare/trap.h"

int test_failed;
static int test_n, test_ok, test_dev;

void test_begin(const char *name)
{
    kprintf("=== %s ===\n", name);
    desc_init();
    /* Whatever the firmware left unmasked would arrive on exception vectors. */
    pic_init();
}

void test_section(const char *name) { kprintf("# %s\n", name); }
void test_note(const char *what) { kprintf("# %s\n", what); }
void test_note_hex(const char *what, uint32_t v) { kprintf("# %s: 0x%08x\n", what, v); }

int test_check(int ok, const char *what)
{
    test_n++;
    if (ok) {
        test_ok++;
        kprintf("ok %d - %s\n", test_n, what);
    } else {
        test_failed++;
        kprintf("not ok %d - %s\n", test_n, what);
    }
    return ok;
}

int test_check_eq(uint32_t got, uint32_t want, const char *what)
{
    if (got == want) return test_check(1, what);
    test_n++;
    test_failed++;
    kprintf("not ok %d - %s: got 0x%08x, want 0x%08x\n", test_n, what, got, want);
    return 0;
}

static void deviation_tail(void) { kprintf(" (QEMU is known to differ; the manual decides)\n"); }

int test_check_arch(int ok, const char *what)
{
    if (ok) return test_check(1, what);
    test_n++;
    test_dev++;
    kprintf("deviation %d - %s", test_n, what);
    deviation_tail();
    return 0;
}

int test_check_eq_arch(uint32_t got, uint32_t want, const char *what)
{
    if (got == want) return test_check(1, what);
    test_n++;
    test_dev++;
    kprintf("deviation %d - %s: got 0x%08x, want 0x%08x", test_n, what, got, want);
    deviation_tail();
    return 0;
}

int test_finish(void)
{
    kprintf("checks: %d ok, %d failed, %d deviations\n", test_ok, test_failed, test_dev);
    if (test_failed) {
        kprintf("Test result: FAILURE %d checks failed\n", test_failed);
        return EXIT_FAILURE_CODE;
    }
    kprintf("Test result: SUCCESS\n");
    return EXIT_SUCCESS_CODE;
}

void test_skip(const char *why)
{
    kprintf("Test result: SKIP %s\n", why);
    bare_exit(EXIT_SKIP_CODE);
}

void test_error(const char *why)
{
    kprintf("Test result: ERROR %s\n", why);
    bare_exit(EXIT_ERROR_CODE);
}

static int fault_matches(uint32_t vector, uint32_t error, uint32_t eip)
{
    return trap_last.vector == vector && trap_last.error == error && trap_last.eip == eip;
}

static int fault_report(int ok, int arch, uint32_t vector, uint32_t error, uint32_t eip, const char *what)
{
    if (ok) return test_check(1, what);
    test_n++;
    if (arch) {
        test_dev++;
        kprintf("deviation %d - %s", test_n, what);
    } else {
        test_failed++;
        kprintf("not ok %d - %s", test_n, what);
    }
    if (trap_last.vector == TRAP_NONE) kprintf(": no exception");
    else
        kprintf(": got vector %u error 0x%x eip 0x%08x cr2 0x%08x", trap_last.vector, trap_last.error,
                trap_last.eip, trap_last.cr2);
    kprintf(", want vector %u error 0x%x eip 0x%08x", vector, error, eip);
    if (arch) deviation_tail();
    else kprintf("\n");
    return 0;
}

int check_fault(uint32_t vector, uint32_t error, const char *what)
{
    return fault_report(fault_matches(vector, error, trap_insn_eip), 0, vector, error, trap_insn_eip, what);
}

int check_fault_arch(uint32_t vector, uint32_t error, const char *what)
{
    return fault_report(fault_matches(vector, error, trap_insn_eip), 1, vector, error, trap_insn_eip, what);
}

int check_trap(uint32_t vector, const char *what)
{
    return fault_report(fault_matches(vector, 0, trap_done_eip), 0, vector, 0, trap_done_eip, what);
}

int check_no_fault(const char *what)
{
    if (trap_last.vector == TRAP_NONE) return test_check(1, what);
    test_n++;
    test_failed++;
    kprintf("not ok %d - %s: got vector %u error 0x%x eip 0x%08x\n", test_n, what, trap_last.vector,
            trap_last.error, trap_last.eip);
    return 0;
}

static int pf_report(uint32_t error, uint32_t addr, int arch, const char *what)
{
    int ok = fault_matches(14, error, trap_insn_eip) && trap_last.cr2 == addr;
    if (ok) return test_check(1, what);
    test_n++;
    if (arch) {
        test_dev++;
        kprintf("deviation %d - %s", test_n, what);
    } else {
        test_failed++;
        kprintf("not ok %d - %s", test_n, what);
    }
    if (trap_last.vector == TRAP_NONE) kprintf(": no exception");
    else
        kprintf(": got vector %u error 0x%x cr2 0x%08x eip 0x%08x", trap_last.vector, trap_last.error,
                trap_last.cr2, trap_last.eip);
    kprintf(", want #PF error 0x%x cr2 0x%08x eip 0x%08x", error, addr, trap_insn_eip);
    if (arch) deviation_tail();
    else kprintf("\n");
    return 0;
}

int check_pf(uint32_t error, uint32_t addr, const char *what) { return pf_report(error, addr, 0, what); }
int check_pf_arch(uint32_t error, uint32_t addr, const char *what) { return pf_report(error, addr, 1, what); }
