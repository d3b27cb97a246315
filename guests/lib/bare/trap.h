/*
 * Traps for bare-metal test kernels: one entry stub per vector, a common entry that saves
 * the interrupted state as a struct trap_frame, per-vector C handlers, and the "expected
 * fault" mechanism the checks are built on.
 *
 * Expected faults. TRY(insn) arms a resume point, runs insn, and disarms. If insn (or
 * anything it causes) raises an exception and no handler is installed for that vector,
 * the common entry records vector, error code, CR2, EIP and CS in trap_last, and resumes
 * at the instruction after insn with the faulting instruction's effects undone (the
 * architecture guarantees a fault leaves state as before the instruction). trap_last
 * .vector is TRAP_NONE when nothing fired. trap_insn_eip is the address of insn and
 * trap_done_eip the address after it, so a check can confirm the saved EIP of a fault (the
 * instruction) or a trap (the next one). Resuming clears EFLAGS.TF in the frame, so a
 * single-step test ends at its first #DB. Only registers are put back by the fault, not
 * ESP changes made by earlier instructions inside insn (or by a CALL whose target then
 * faults): such a TRY restores ESP itself.
 *
 * Faults not expected (no handler, nothing armed) print the frame and end the test with
 * "Test result: ERROR". Software INT n to a vector whose exception pushes an error code
 * (8, 10-14, 17) would unbalance the frame: tests use vectors >= 32 for INT n or install
 * their own stub.
 *
 * The resume point and record live in kernel data reached through SS (TRY uses %ss:
 * overrides), so a test may leave DS/ES pointing at odd segments across a TRY.
 */
#ifndef BARE_TRAP_H
#define BARE_TRAP_H
#define RING_RETURN_VECTOR 0x30 /* INT 0x30 (DPL 3) ends a ring_call */
#ifndef __ASSEMBLY__
#include <stdint.h>
#define TRAP_NONE 0xffffffffu

struct trap_frame {
    uint32_t edi, esi, ebp, esp_at_entry, ebx, edx, ecx, eax; /* pushal */
    uint32_t gs, fs, es, ds;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;                          /* only from an outer ring or v86 */
    uint32_t v86_es, v86_ds, v86_fs, v86_gs;   /* only from v86 */
};

struct trap_record {
    uint32_t vector, error, eip, cs, eflags, cr2, esp, ss;
};

extern volatile struct trap_record trap_last;
extern volatile uint32_t trap_resume_eip;
extern volatile uint32_t trap_insn_eip;
extern volatile uint32_t trap_count; /* exceptions taken through the expected-fault path */
/* The vector the #DF task records (a test may route another exception's task gate to
 * SEL_TSS_DF, e.g. #TS when the TSS ring-0 stack is broken, and name it here). */
extern volatile uint32_t trap_task_vector;

typedef void (*trap_handler_t)(struct trap_frame *f);
void trap_set_handler(int vec, trap_handler_t h);
/* Print a frame and end the test with "Test result: ERROR <why>". */
__attribute__((noreturn)) void trap_fatal(struct trap_frame *f, const char *why);
/* The C side of the common entry (called from trap.S). */
void trap_dispatch(struct trap_frame *f);
/* What the entry does without a handler: resume at an armed TRY, else trap_fatal. A
 * handler may call it for the cases it does not handle itself. */
void trap_default(struct trap_frame *f);
/* The #DF task's C side (called from trap.S on the double-fault task's stack). */
void trap_double_fault(uint32_t error);

/*
 * TRY("insn ...") as a GNU asm template fragment. %= makes the labels unique per asm
 * statement; operands of the enclosing asm are available to insn.
 */
#define TRY(insn)                                                                        \
    "movl $-1, %%ss:trap_last\n\t"                                                       \
    "movl $.Ltry_done%=, %%ss:trap_resume_eip\n\t"                                       \
    "movl $.Ltry_done%=, %%ss:trap_done_eip\n\t"                                         \
    "movl $.Ltry_insn%=, %%ss:trap_insn_eip\n"                                           \
    ".Ltry_insn%=:\n\t" insn "\n"                                                        \
    ".Ltry_done%=:\n\t"                                                                  \
    "movl $0, %%ss:trap_resume_eip\n\t"

/* The end of the instruction(s) in the last TRY: where a trap's saved EIP points. */
extern volatile uint32_t trap_done_eip;

/*
 * Run fn(arg) at CPL ring (1..3) on that ring's stack with the given EFLAGS (IF and IOPL
 * as the test wants; VM must be clear), and return its result. fn returns with INT 0x30
 * through a trampoline; the kernel state (ESP, callee-saved registers) is restored.
 */
uint32_t ring_call(int ring, uint32_t (*fn)(uint32_t), uint32_t arg, uint32_t eflags);
/* The trampoline's return point; exported so the v86 kernel can reuse the return path. */
void ring_return(void);
extern uint32_t ring_stack_top[4];

/* Default entry stubs: stub for vector v is at trap_stubs + 16 * v. */
extern char trap_stubs[];
void df_task_entry(void);
#endif /* __ASSEMBLY__ */
#endif
