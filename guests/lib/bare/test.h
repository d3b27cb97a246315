/*
 * A small check library for bare-metal test kernels. Every check prints one line, so
 * two runs of the same image (QEMU, tsxen) can be compared line by line:
 *
 *     ok 12 - what
 *     not ok 13 - what: got 0x00000001, want 0x00000000
 *     deviation 14 - what: got ..., want ... (QEMU is known to differ; the manual decides)
 *
 * CHECK_ARCH marks a check where QEMU's TCG is known to depart from the architecture
 * (e.g. it does not enforce data segment limits): a failure there prints "deviation"
 * and does not fail the kernel, so the QEMU run passes; the tsxen harness demands that
 * every deviation line reads "ok" on tsxen. The kernel ends with
 *
 *     checks: N ok, F failed, D deviations
 *     Test result: SUCCESS | FAILURE <n> checks failed | SKIP <why> | ERROR <why>
 *
 * and exits through the debug-exit port with 0 (success), 1 (failure), 2 (skip) or
 * 3 (error).
 */
#ifndef BARE_TEST_H
#define BARE_TEST_H
#include <stdint.h>

#define EXIT_SUCCESS_CODE 0
#define EXIT_FAILURE_CODE 1
#define EXIT_SKIP_CODE 2
#define EXIT_ERROR_CODE 3

/* Prints the banner and sets up descriptor tables and traps (desc_init). */
void test_begin(const char *name);
void test_section(const char *name);
int test_check(int ok, const char *what);
int test_check_eq(uint32_t got, uint32_t want, const char *what);
int test_check_arch(int ok, const char *what);
int test_check_eq_arch(uint32_t got, uint32_t want, const char *what);
/* Informational line ("# ...") that both runs must print the same. */
void test_note(const char *what);
void test_note_hex(const char *what, uint32_t v);
/* Summary and the closing line; returns the exit code for kmain to return. */
int test_finish(void);
__attribute__((noreturn)) void test_skip(const char *why);
__attribute__((noreturn)) void test_error(const char *why);
/* Number of failed checks so far. */
extern int test_failed;

#define CHECK(cond, what) test_check(!!(cond), what)
#define CHECK_EQ(got, want, what) test_check_eq((uint32_t)(got), (uint32_t)(want), what)
#define CHECK_ARCH(cond, what) test_check_arch(!!(cond), what)
#define CHECK_EQ_ARCH(got, want, what) test_check_eq_arch((uint32_t)(got), (uint32_t)(want), what)

/* Fault checks against trap_last (trap.h), after a TRY. */
int check_fault(uint32_t vector, uint32_t error, const char *what);
int check_fault_arch(uint32_t vector, uint32_t error, const char *what);
int check_no_fault(const char *what);
/* A #PF with the given error code at the faulting instruction with CR2 = addr. */
int check_pf(uint32_t error, uint32_t addr, const char *what);
int check_pf_arch(uint32_t error, uint32_t addr, const char *what);
/* A trap (e.g. #BP, #OF, #DB single-step): saved EIP is after the TRY'd instruction. */
int check_trap(uint32_t vector, const char *what);
#endif
