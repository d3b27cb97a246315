/*
 * Trap dispatch, the exception table, the virtual IDT, and event delivery.
 *
 * Invariants:
 * - pvt_last_trap is written for every trap before any hook runs, so a test sees the
 *   exact frame Xen bounced (vector, error code, EIP, CS incl. the saved upcall mask in
 *   bits 23:16, EFLAGS, ESP/SS from ring 3, CR2 from vcpu_info.arch.cr2 for #PF).
 * - A trap is resumed only through an explicit PVT_TRY entry, a trap-style EIP (already
 *   past the instruction), a hook, or the ring-3 call machinery; otherwise the test ends
 *   with ERROR, printing the frame.
 * - The event callback clears evtchn_upcall_pending before scanning the selector words
 *   (Xen's protocol), so an event arriving during the scan is not lost.
 */
#include "pvtest.h"

struct pvt_extable_entry { uint32_t from, to; };
extern const struct pvt_extable_entry __pvt_extable_start[], __pvt_extable_end[];

volatile struct pvt_trap pvt_last_trap;
pvt_trap_hook_t pvt_trap_hook;
volatile uint32_t pvt_failsafe_segs[4];
volatile uint32_t pvt_upcalls;
volatile uint32_t pvt_events_seen[32];
static pvt_event_handler_t event_handlers[64];

/* Implemented in user.c: leave ring 3 back to pvt_user_call's caller. */
__attribute__((noreturn)) void pvt_user_leave(uint32_t result);

void pvt_trap_reset(void)
{
    memset((void *)&pvt_last_trap, 0, sizeof(pvt_last_trap));
}

long pvt_set_trap(unsigned vector, unsigned dpl, int mask_events)
{
    struct trap_info t[2];
    memset(t, 0, sizeof(t));
    t[0].vector = (uint8_t)vector;
    t[0].flags = (uint8_t)(dpl & 3);
    if (mask_events) TI_SET_IF(&t[0], 1);
    t[0].cs = FLAT_KERNEL_CS;
    t[0].address = pvt_trap_stubs[vector & 255];
    return HYPERVISOR_set_trap_table(t);
}

void pvt_set_event_handler(evtchn_port_t port, pvt_event_handler_t h)
{
    if (port < ARRAY_SIZE(event_handlers)) event_handlers[port] = h;
}

void pvt_events_clear_all(void)
{
    volatile struct vcpu_info *v = pvt_vcpu(0);
    v->evtchn_upcall_pending = 0;
    xen_test_and_clear_bit(0, &v->evtchn_pending_sel); /* cheap barrier on the word */
    v->evtchn_pending_sel = 0;
    for (unsigned w = 0; w < 32; w++) pvt_shared->evtchn_pending[w] = 0;
}

void pvt_events_unmask(void)
{
    volatile struct vcpu_info *v = pvt_vcpu(0);
    v->evtchn_upcall_mask = 0;
    __asm__ volatile("" ::: "memory");
    /* An upcall that became pending while masked is delivered on the next exit from Xen. */
    if (v->evtchn_upcall_pending) HYPERVISOR_xen_version(XENVER_version, 0);
}

volatile struct pvt_upcall pvt_last_upcall;

static void do_events(const struct pvt_frame *f)
{
    volatile struct vcpu_info *v = pvt_vcpu(0);
    pvt_upcalls++;
    pvt_last_upcall.eip = f->eip;
    pvt_last_upcall.cs = f->cs & 0xffff;
    pvt_last_upcall.saved_mask = (f->cs >> 16) & 0xff;
    pvt_last_upcall.eflags = f->eflags;
    pvt_last_upcall.handler_cs = x86_read_cs();
    pvt_last_upcall.mask_in_handler = v->evtchn_upcall_mask;
    for (unsigned loops = 0; loops < 64 && v->evtchn_upcall_pending; loops++) {
        v->evtchn_upcall_pending = 0;
        uint32_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
        while (sel) {
            unsigned w = __builtin_ctz(sel);
            sel &= sel - 1;
            uint32_t bits = pvt_shared->evtchn_pending[w] & ~pvt_shared->evtchn_mask[w];
            while (bits) {
                unsigned b = __builtin_ctz(bits);
                bits &= bits - 1;
                evtchn_port_t port = w * 32 + b;
                xen_test_and_clear_bit(b, &pvt_shared->evtchn_pending[w]);
                pvt_events_seen[w] |= 1u << b;
                if (port < ARRAY_SIZE(event_handlers) && event_handlers[port])
                    event_handlers[port](port);
            }
        }
    }
}

static const struct pvt_extable_entry *extable_find(uint32_t eip, int by_fixup)
{
    for (const struct pvt_extable_entry *e = __pvt_extable_start; e < __pvt_extable_end; e++)
        if ((by_fixup ? e->to : e->from) == eip) return e;
    return 0;
}

static const char *vector_name(unsigned v)
{
    static const char *const names[] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vec9", "#TS",
        "#NP", "#SS", "#GP", "#PF", "vec15", "#MF", "#AC", "#MC", "#XM",
    };
    if (v < ARRAY_SIZE(names)) return names[v];
    if (v == PVT_VEC_EVENT) return "event";
    if (v == PVT_VEC_FAILSAFE) return "failsafe";
    return "int";
}

void pvt_trap_dispatch(struct pvt_frame *f);
void pvt_trap_dispatch(struct pvt_frame *f)
{
    if (f->vector == PVT_VEC_EVENT) {
        do_events(f);
        return;
    }
    /* The return from ring 3 is the framework's own, not a trap a test looks at. */
    if (f->vector == PVT_VEC_USER_RET && (f->cs & 3) == 3) pvt_user_leave(f->eax);

    volatile struct pvt_trap *t = &pvt_last_trap;
    t->count++;
    t->vector = f->vector;
    t->error_code = f->error_code;
    t->eip = f->eip;
    t->cs = f->cs & 0xffff;
    t->saved_mask = (f->cs >> 16) & 0xff;
    t->eflags = f->eflags;
    t->from_user = (f->cs & 3) == 3;
    t->esp = t->from_user ? f->esp : 0;
    t->ss = t->from_user ? f->ss & 0xffff : 0;
    t->cr2 = f->vector == X86_EXC_PF ? pvt_vcpu(0)->arch.cr2 : 0;
    t->fixed_up = 0;

    if (pvt_trap_hook && pvt_trap_hook(f)) return;

    const struct pvt_extable_entry *e = extable_find(f->eip, 0);
    if (e) {
        f->eip = e->to;
        t->fixed_up = 1;
        return;
    }
    if (extable_find(f->eip, 1)) {  /* a trap: EIP is already past the instruction */
        t->fixed_up = 2;
        return;
    }

    if (t->from_user) pvt_user_leave(PVT_USER_FAULTED);

    pv_printf("unexpected trap %s (vector %u) error code 0x%x at %04x:%08x eflags %08x cr2 %08x\n",
              vector_name(f->vector), f->vector, f->error_code, f->cs & 0xffff, f->eip, f->eflags,
              t->cr2);
    pv_printf("  eax %08x ebx %08x ecx %08x edx %08x esi %08x edi %08x ebp %08x esp %08x\n",
              f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp, f->esp0 + 12);
    if (f->vector == PVT_VEC_FAILSAFE)
        pv_printf("  failsafe segments ds %04x es %04x fs %04x gs %04x\n", pvt_failsafe_segs[0],
                  pvt_failsafe_segs[1], pvt_failsafe_segs[2], pvt_failsafe_segs[3]);
    pvtest_error("unexpected %s at eip %08x", vector_name(f->vector), f->eip);
}

int pvt_poll_port(evtchn_port_t port, uint64_t deadline)
{
    struct sched_poll poll;
    evtchn_port_t ports[1] = { port };
    set_xen_guest_handle(poll.ports, ports);
    poll.nr_ports = 1;
    poll.timeout = deadline;
    /* Any event for this vCPU may end a poll early; poll again until done. */
    for (unsigned i = 0; i < 100000; i++) {
        if (xen_evtchn_pending(pvt_shared, port)) return 1;
        if (pvt_now() >= deadline) return 0;
        HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    }
    return xen_evtchn_pending(pvt_shared, port);
}

void pvt_sleep_until(uint64_t deadline)
{
    struct sched_poll poll;
    memset(&poll, 0, sizeof(poll));
    poll.timeout = deadline;
    for (unsigned i = 0; i < 100000 && pvt_now() < deadline; i++)
        HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
}
