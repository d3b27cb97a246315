/*
 * Exceptions: every vector 0-19 (except NMI, which has its own callback type) goes to
 * do_trap, which reports the fault with registers and a raw stack dump and crashes the
 * domain (SHUTDOWN_crash): minios has no recoverable faults, and a crash shows up in the
 * toolstack and in tests as a failure instead of a hang.
 *
 * Trap entries mask events (TI_IF_FLAG), so no upcall runs while a fault is reported.
 */
#include "minios/arch/x86_32/traps.h"
#include "minios/kernel/smp.h"
#include "minios/xen/console.h"

extern const uint32_t trap_stubs[20];

static const char *const trap_names[20] = {
    "divide error", "debug", "NMI", "int3", "overflow", "bound", "invalid opcode",
    "device not available", "double fault", "coprocessor segment overrun", "invalid TSS",
    "segment not present", "stack fault", "general protection", "page fault", "reserved",
    "x87 FPU error", "alignment check", "machine check", "SIMD error",
};

static struct trap_info trap_table[21];

void trap_init(void)
{
    unsigned n = 0;
    for (unsigned v = 0; v < 20; v++) {
        if (v == X86_EXC_NMI) continue;
        trap_table[n].vector = (uint8_t)v;
        trap_table[n].flags = TI_IF_FLAG | ((v == X86_EXC_BP || v == X86_EXC_OF) ? 3 : 0);
        trap_table[n].cs = FLAT_KERNEL_CS;
        trap_table[n].address = trap_stubs[v];
        n++;
    }
    trap_table[n].address = 0;
    long rc = HYPERVISOR_set_trap_table(trap_table);
    if (rc) panic("set_trap_table: %ld", rc);
    rc = HYPERVISOR_set_callbacks(FLAT_KERNEL_CS, (unsigned long)hypervisor_callback,
                                  FLAT_KERNEL_CS, (unsigned long)failsafe_callback);
    if (rc) panic("set_callbacks: %ld", rc);
}

void trap_fill_context(struct trap_info *ctxt)
{
    for (unsigned i = 0; trap_table[i].address; i++) ctxt[trap_table[i].vector] = trap_table[i];
}

void do_trap(struct trap_frame *f);
void do_trap(struct trap_frame *f)
{
    struct cpu *c = this_cpu();
    const char *name = f->vector < 20 ? trap_names[f->vector] : "?";
    emergency_printk("\nTRAP %u (%s) on cpu %u: eip=%08x cs=%04x eflags=%08x err=%08x\n",
                     f->vector, name, c ? c->id : 0, f->eip, f->cs & 0xFFFF, f->eflags,
                     f->error_code);
    if (f->vector == X86_EXC_PF && c && c->vi)
        emergency_printk("  cr2=%08lx (%s %s)\n", c->vi->arch.cr2,
                         (f->error_code & 2) ? "write" : "read",
                         (f->error_code & 1) ? "protection" : "not present");
    emergency_printk("  eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x esp=%08x\n",
                     f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp,
                     (uint32_t)(uintptr_t)(f + 1));
    const uint32_t *sp = (const uint32_t *)(f + 1);
    uint32_t limit = ((uint32_t)(uintptr_t)sp | (STACK_SIZE - 1)) + 1;
    emergency_printk("  stack:");
    for (int i = 0; i < 24 && (uint32_t)(uintptr_t)(sp + i) < limit; i++)
        emergency_printk("%s%08x", (i % 8) ? " " : "\n   ", sp[i]);
    emergency_printk("\nTest result: ERROR (trap %u %s at %08x)\n", f->vector, name, f->eip);
    console_flush();
    for (;;) xen_shutdown(SHUTDOWN_crash);
}

void do_failsafe(uint32_t *frame);
void do_failsafe(uint32_t *frame)
{
    emergency_printk("\nFAILSAFE callback: ds=%04x es=%04x fs=%04x gs=%04x eip=%08x\n",
                     frame[0] & 0xFFFF, frame[1] & 0xFFFF, frame[2] & 0xFFFF, frame[3] & 0xFFFF,
                     frame[4]);
    emergency_printk("Test result: ERROR (failsafe callback)\n");
    console_flush();
    for (;;) xen_shutdown(SHUTDOWN_crash);
}
