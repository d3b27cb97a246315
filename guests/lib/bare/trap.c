/*
 * The C side of trap entry (see trap.h): per-vector handlers first, then the armed
 * expected-fault resume point, else the test ends with ERROR and the frame printed.
 */
#include "bare/bare.h"
#include "bare/desc.h"
#include "bare/test.h"
#include "bare/trap.h"
#include "bare/x86.h"

volatile struct trap_record trap_last = { .vector = TRAP_NONE };
volatile uint32_t trap_resume_eip;
volatile uint32_t trap_insn_eip;
volatile uint32_t trap_done_eip;
volatile uint32_t trap_count;
volatile uint32_t trap_task_vector = 8;

static trap_handler_t handlers[256];

void trap_set_handler(int vec, trap_handler_t h) { handlers[vec] = h; }

static void put_field(const char *name, uint32_t v)
{
    serial_puts(name);
    serial_puthex(v);
}

void trap_fatal(struct trap_frame *f, const char *why)
{
    serial_puts("unexpected trap:");
    put_field(" vector=", f->vector);
    put_field(" error=", f->error);
    put_field(" eip=", f->eip);
    put_field(" cs=", f->cs);
    put_field(" eflags=", f->eflags);
    put_field(" cr2=", read_cr2());
    serial_puts("\n");
    test_error(why);
}

static int from_outer(const struct trap_frame *f) { return (f->eflags & EFL_VM) || (f->cs & 3) != 0; }

void trap_dispatch(struct trap_frame *f)
{
    if (handlers[f->vector]) {
        handlers[f->vector](f);
        return;
    }
    trap_default(f);
}

void trap_default(struct trap_frame *f)
{
    if (trap_resume_eip) {
        trap_last.vector = f->vector;
        trap_last.error = f->error;
        trap_last.eip = f->eip;
        trap_last.cs = f->cs;
        trap_last.eflags = f->eflags;
        trap_last.cr2 = read_cr2();
        trap_last.esp = from_outer(f) ? f->esp : (uint32_t)&f->esp; /* same ring: the frame ended here */
        trap_last.ss = from_outer(f) ? f->ss : read_ss();
        trap_count++;
        f->eip = trap_resume_eip;
        f->eflags &= ~EFL_TF; /* a single-step test ends with its first #DB */
        trap_resume_eip = 0;
        return;
    }
    trap_fatal(f, "unexpected exception");
}

/*
 * Runs in the #DF task (or any exception a test routed to SEL_TSS_DF with a task gate,
 * naming its vector in trap_task_vector). The interrupted task is the back-link of tss_df (normally the
 * main task): on an armed TRY, point its saved EIP at the resume point so the iret back
 * continues after the instruction that double-faulted.
 */
void trap_double_fault(uint32_t error)
{
    uint16_t back = tss_df.link;
    if (trap_resume_eip && back == SEL_TSS) {
        trap_last.vector = trap_task_vector;
        trap_last.error = error;
        trap_last.eip = tss_main.t.eip;
        trap_last.cs = tss_main.t.cs;
        trap_last.eflags = tss_main.t.eflags;
        trap_last.cr2 = read_cr2();
        trap_last.esp = tss_main.t.esp;
        trap_last.ss = tss_main.t.ss;
        trap_count++;
        tss_main.t.eip = trap_resume_eip;
        trap_resume_eip = 0;
        return;
    }
    serial_puts("double fault:");
    put_field(" error=", error);
    put_field(" back-link=", back);
    put_field(" resume=", trap_resume_eip);
    put_field(" eip=", tss_main.t.eip);
    put_field(" cr2=", read_cr2());
    serial_puts("\n");
    test_error("unexpected double fault");
}
