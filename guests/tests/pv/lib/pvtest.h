/*
 * The PV test framework: what a 32-bit PAE PV test kernel sees.
 *
 * A test kernel is one C file that declares itself with PVTEST(...) and defines
 * test_main(). The framework boots it (lib/head.S, lib/boot.c), prints through the PV
 * console ring, installs a trap table and event/failsafe callbacks, and after test_main
 * returns prints exactly one verdict line and shuts the domain down:
 *
 *     Test result: SUCCESS
 *     Test result: FAILURE <n> of <m> checks failed; first: <file>:<line> <what>
 *     Test result: ERROR <reason>        (the test could not run: unexpected trap, ...)
 *     Test result: SKIP <reason>         (the feature is absent, e.g. one vCPU only)
 *
 * Invariants:
 * - Exactly one verdict line per boot, always the last line, always followed by
 *   SCHEDOP_shutdown(poweroff) after the console ring has drained (bounded wait).
 * - Every check prints one line ("ok" or "FAIL") naming both values, so the consoles of
 *   two hypervisors can be compared line by line. Checks whose values legitimately differ
 *   between runs (MFNs, times) use CHECK(...) or the _QUIET forms, which print no values.
 * - A trap that no test expected ends the test with ERROR and a full description.
 * - ABI numbers come only from the generated headers in guests/include/xen.
 */
#ifndef PVTEST_H
#define PVTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/xen/hypercall.h"
#include "lib/xen/console.h"
#include "lib/xen/evtchn.h"
#include "lib/xen/time.h"
#include <xen/errno.h>
#include <xen/features.h>
#include "x86.h"

/* ---- Declaring a test ---------------------------------------------------------------
 * PVTEST(name, expect, cfg, summary) emits the kernel's self-description as an ELF note
 * (owner "tsxen.pvtest", type 1, a NUL-terminated string of key=value lines) that the
 * refxen runner and the tsxen comparison read:
 *   name=<name>  expect=<SUCCESS|CRASH>  hostile=<0|1>  cfg=<xl.cfg lines, ';'-separated>
 *   summary=<one line>
 * expect=CRASH means Xen must crash the domain on purpose (no verdict line follows).
 */
#define PVTEST_NOTE_OWNER "tsxen.pvtest"
#define PVTEST_NOTE_TYPE 1

#define PVTEST_NOTE_(text)                                                           \
    __asm__(".pushsection .note.tsxen, \"a\", @note\n"                               \
            ".balign 4\n"                                                            \
            ".long 2f - 1f\n"                                                        \
            ".long 4f - 3f\n"                                                        \
            ".long " PVTEST_STR(PVTEST_NOTE_TYPE) "\n"                               \
            "1: .asciz \"" PVTEST_NOTE_OWNER "\"\n"                                  \
            "2: .balign 4\n"                                                         \
            "3: .asciz \"" text "\"\n"                                               \
            "4: .balign 4\n"                                                         \
            ".popsection\n")
#define PVTEST_STR_(x) #x
#define PVTEST_STR(x) PVTEST_STR_(x)

#define PVTEST(name, expect, hostile, cfg, summary)                                  \
    PVTEST_NOTE_("name=" name "\\nexpect=" expect "\\nhostile=" #hostile             \
                 "\\ncfg=" cfg "\\nsummary=" summary "\\n");                          \
    const char pvtest_name[] = name;                                                 \
    const char pvtest_summary[] = summary;                                           \
    const int pvtest_expect_crash = (sizeof(expect) == sizeof("CRASH"))

extern const char pvtest_name[];
extern const char pvtest_summary[];
extern const int pvtest_expect_crash;

/* Defined by each test kernel. */
void test_main(void);

/* ---- The world as the framework found it --------------------------------------------- */
extern start_info_t *pvt_si;                   /* ESI at entry */
extern volatile shared_info_t *pvt_shared;     /* mapped at boot */
extern const xen_pfn_t *pvt_p2m;               /* start_info.mfn_list */
extern const volatile uint32_t *pvt_m2p;       /* XENMEM_machphys_mapping v_start */
extern unsigned long pvt_m2p_end;              /* ... v_end */
extern unsigned long pvt_max_mfn;              /* ... max_mfn */
extern unsigned long pvt_boot_end;             /* end of the builder's mapped region */
extern unsigned long pvt_l3_va;                /* VA of the L3 in use (pt_base at boot) */
extern uint32_t pvt_boot_esp;                  /* ESP at entry (end of the boot stack page) */

/* Registers as the builder handed them over at _start (selectors zero-extended). */
struct pvt_entry_regs {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp, eflags;
    uint32_t cs, ds, es, fs, gs, ss;
};
extern const struct pvt_entry_regs pvt_entry_regs;

static inline volatile struct vcpu_info *pvt_vcpu(unsigned id)
{ return &pvt_shared->vcpu_info[id]; }

/* ---- Output ---------------------------------------------------------------------------- */
void pv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pv_vprintf(const char *fmt, va_list ap);
int pv_snprintf(char *buf, unsigned size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pv_vsnprintf(char *buf, unsigned size, const char *fmt, va_list ap);
void pv_puts(const char *s);

/* ---- Checks and verdicts -------------------------------------------------------------- */
void pvt_check(int ok, const char *file, int line, const char *what, int show,
               long long actual, long long expected, const char *op);
__attribute__((noreturn)) void pvtest_finish(void);
__attribute__((noreturn, format(printf, 1, 2))) void pvtest_skip(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void pvtest_error(const char *fmt, ...);
/* Announce an action Xen must answer by crashing the domain (expect=CRASH tests). */
void pvtest_expect_crash_now(const char *why);
/* After an action that should have crashed us: report that it did not. */
__attribute__((noreturn)) void pvtest_survived(const char *what);
unsigned pvt_checks_failed(void);

#define PVT_CMP_(a, b, op, show, name)                                               \
    do {                                                                             \
        long long _a = (long long)(a), _b = (long long)(b);                          \
        pvt_check(_a op _b, __FILE__, __LINE__, name, show, _a, _b, #op);            \
    } while (0)

#define CHECK_EQ(a, b) PVT_CMP_(a, b, ==, 1, #a)
#define CHECK_NE(a, b) PVT_CMP_(a, b, !=, 1, #a)
#define CHECK_GE(a, b) PVT_CMP_(a, b, >=, 1, #a)
#define CHECK_LE(a, b) PVT_CMP_(a, b, <=, 1, #a)
#define CHECK_GT(a, b) PVT_CMP_(a, b, >, 1, #a)
#define CHECK_LT(a, b) PVT_CMP_(a, b, <, 1, #a)
/* Same comparison, values shown only when it fails (run-dependent values). */
#define CHECK_EQ_QUIET(a, b) PVT_CMP_(a, b, ==, 0, #a)
#define CHECK_NE_QUIET(a, b) PVT_CMP_(a, b, !=, 0, #a)
#define CHECK_GE_QUIET(a, b) PVT_CMP_(a, b, >=, 0, #a)
#define CHECK_LE_QUIET(a, b) PVT_CMP_(a, b, <=, 0, #a)
#define CHECK_GT_QUIET(a, b) PVT_CMP_(a, b, >, 0, #a)
#define CHECK_LT_QUIET(a, b) PVT_CMP_(a, b, <, 0, #a)
#define CHECK(cond) pvt_check(!!(cond), __FILE__, __LINE__, #cond, 0, 0, 0, "")
/* A named check: CHECK_EQ with a label instead of the expression text. */
#define CHECK_EQ_NAMED(name, a, b) PVT_CMP_(a, b, ==, 1, name)

/* ---- Traps -----------------------------------------------------------------------------
 * Every trap the framework's handlers take is recorded in pvt_last_trap. A test that
 * expects a fault wraps the one faulting instruction with PVT_TRY(...): on a fault at that
 * instruction execution resumes right after it. Traps that report the EIP after the
 * instruction (int3, int n) resume there anyway. Anything else is an ERROR verdict.
 */
struct pvt_frame {              /* as the entry stubs build it, lowest address first */
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    uint32_t ds, es, fs, gs;
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags;   /* the bounce frame Xen wrote */
    uint32_t esp, ss;           /* only when the trap came from ring 2/3 */
};

struct pvt_trap {
    uint32_t count;             /* traps taken since the last pvt_trap_reset() */
    uint32_t vector, error_code, eip, cs, eflags, esp, ss, cr2;
    uint32_t saved_mask;        /* bits 23:16 of the CS word: the saved upcall mask */
    uint32_t from_user;
    uint32_t fixed_up;          /* 1: EIP was a PVT_TRY instruction (fault); 2: EIP was just
                                   past one (trap); 0: neither */
};
extern volatile struct pvt_trap pvt_last_trap;
void pvt_trap_reset(void);

/* The pseudo-vectors of callbacks, as recorded in pvt_frame.vector. */
#define PVT_VEC_EVENT 0x100
#define PVT_VEC_FAILSAFE 0x101
/* A DPL-3 vector user code raises to return to the kernel (pvt_user_call). */
#define PVT_VEC_USER_RET 0x81

/* A hook sees every trap first; returning nonzero means "handled, resume at f->eip". */
typedef int (*pvt_trap_hook_t)(struct pvt_frame *f);
extern pvt_trap_hook_t pvt_trap_hook;

/* Install/replace one virtual-IDT entry through set_trap_table (DPL 0-3, IF = mask
 * events on entry), pointing at the framework's stub for that vector. */
long pvt_set_trap(unsigned vector, unsigned dpl, int mask_events);
/* Install the framework's virtual IDT on the calling vCPU (boot does it for vCPU 0). */
void pvt_install_traps(void);
/* The framework's entry stub for a vector (256 of them), the callbacks' entries. */
extern const uint32_t pvt_trap_stubs[256];
void pvt_event_entry(void);
void pvt_failsafe_entry(void);

#define PVT_EXTABLE_ENTRY(from, to)                                                 \
    ".pushsection .pvt_extable, \"a\"\n .balign 4\n .long " from ", " to "\n .popsection\n"
/* One instruction that may fault: asm text, then the usual asm operand lists. */
#define PVT_TRY(insn, ...)                                                           \
    __asm__ volatile("1: " insn "\n2:\n" PVT_EXTABLE_ENTRY("1b", "2b") __VA_ARGS__)

/* ---- Events ----------------------------------------------------------------------------- */
typedef void (*pvt_event_handler_t)(evtchn_port_t port);
/* The frame of the most recent event upcall, and the CS the callback ran with. */
struct pvt_upcall {
    uint32_t eip, cs, saved_mask, eflags, handler_cs, mask_in_handler;
};
extern volatile struct pvt_upcall pvt_last_upcall;
extern volatile uint32_t pvt_upcalls;                   /* event callbacks taken */
extern volatile uint32_t pvt_events_seen[32];           /* ports the callback found pending */
void pvt_set_event_handler(evtchn_port_t port, pvt_event_handler_t h);
/* Clear every pending bit and the selectors/upcall flag of vCPU 0. */
void pvt_events_clear_all(void);
static inline void pvt_events_mask(void) { pvt_vcpu(0)->evtchn_upcall_mask = 1; __asm__ volatile("" ::: "memory"); }
/* Unmask delivery; a pending upcall is then taken (force_evtchn_callback via xen_version). */
void pvt_events_unmask(void);
/* SCHEDOP_poll on one port until it is pending (1) or Xen system time passes deadline
 * (0); early wake-ups (any event kicks a polling vCPU) are polled again. */
int pvt_poll_port(evtchn_port_t port, uint64_t deadline);
/* Sleep (SCHEDOP_poll with no ports) until Xen system time reaches deadline. */
void pvt_sleep_until(uint64_t deadline);
/* Current Xen system time of vCPU 0, ns. */
static inline uint64_t pvt_now(void) { return xen_system_time(&pvt_vcpu(0)->time); }

/* ---- Memory ----------------------------------------------------------------------------
 * VIRT_BASE is 0, so a page of the builder's region [0, pvt_boot_end) has VA = PFN << 12.
 * Free pages come from that region above the boot stack (the builder's >= 512 KiB pad);
 * "loose" frames are PFNs above pvt_boot_end, owned by us but mapped nowhere.
 */
#define PVT_PTE_ADDR_MASK 0x000ffffffffff000ULL

unsigned long pvt_m2p_lookup(unsigned long mfn);
static inline unsigned long pvt_pfn_to_mfn(unsigned long pfn) { return pvt_p2m[pfn]; }
/* Walk the live page tables: the PTE (L1 entry) of va, and its machine address. */
uint64_t pvt_pte(unsigned long va);
uint64_t pvt_pte_maddr(unsigned long va);
uint64_t pvt_l2e_maddr(unsigned long va);
uint64_t pvt_l2e(unsigned long va);
uint64_t pvt_l3e(unsigned long va);
unsigned long pvt_va_to_mfn(unsigned long va);
/* The VA of a frame of the builder's region (0 if the MFN is not in it). */
void *pvt_mfn_to_va(unsigned long mfn);
/* Machine address of the current L3 (from the walk of CR3 as Xen reports it). */
unsigned long pvt_l3_mfn(void);

/* A zeroed, writable, page-aligned page from the pool; pvtest_error when exhausted. */
void *pvt_alloc_page(void);
/* A PFN above the mapped region (its frame is ours, mapped nowhere); returns its MFN. */
unsigned long pvt_alloc_loose_mfn(unsigned long *pfn_out);

/* Single-PTE changes through update_va_mapping with UVMF_INVLPG. */
long pvt_map(unsigned long va, unsigned long mfn, uint64_t flags);
long pvt_unmap(unsigned long va);
long pvt_set_writable(unsigned long va, int writable);
/* One mmu_update request; *done (if given) receives the success count. */
long pvt_mmu_update1(uint64_t ptr, uint64_t val, unsigned *done, unsigned foreigndom);
/* One mmuext_op; cmd with arg1 and arg2. */
long pvt_mmuext1(unsigned cmd, unsigned long arg1, unsigned long arg2, unsigned *done);
/* Make a pool page read-only everywhere and pin it as a table of the given level (1-3). */
long pvt_pin(unsigned level, unsigned long mfn);
long pvt_unpin(unsigned long mfn);
void pvt_flush_tlb(void);

/* ---- Ring 3 ---------------------------------------------------------------------------
 * pvt_user_call(fn, arg) runs fn(arg) in ring 3 on a user stack and returns its result.
 * If the user code takes a trap without a PVT_TRY entry, the call returns
 * PVT_USER_FAULTED and pvt_last_trap describes the trap. Code and data user functions
 * touch must live in the user sections (PVT_USER_TEXT / PVT_USER_DATA): those pages, and
 * only those, are mapped with _PAGE_USER.
 */
#define PVT_USER_TEXT __attribute__((section(".user.text"), noinline, used))
#define PVT_USER_DATA __attribute__((section(".user.data")))
#define PVT_USER_FAULTED 0xdeadfa17u
uint32_t pvt_user_call(uint32_t (*fn)(uint32_t), uint32_t arg);
/* Nonzero: enter ring 3 with the native iret instruction instead of the iret hypercall. */
extern uint32_t pvt_user_native_iret;
/* The kernel stack pointer pvt_user_call gave stack_switch (traps from ring 3 land below). */
extern uint32_t pvt_user_saved_esp;
/* The SS pvt_user_call gives stack_switch (default FLAT_KERNEL_SS). */
extern uint32_t pvt_user_kernel_ss;

/* ---- Small utilities -------------------------------------------------------------------- */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int pv_strncmp(const char *a, const char *b, size_t n);
const char *pv_strstr(const char *hay, const char *needle);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PVT_PAGE_SIZE 4096u

#endif
