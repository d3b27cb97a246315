/*
 * Hypercall wrappers for 32-bit PAE PV guests (Xen 3.0.3+ / 4.x in compat mode).
 *
 * Invariants:
 * - Every wrapper calls through the hypercall page, slot nr at hypercall_page + nr*32,
 *   which the domain builder filled before the guest started (ELF note HYPERCALL_PAGE).
 *   Numbers >= 128 have no slot; xen_hypercall_int82() issues `int $0x82` directly.
 * - Arguments go in EBX, ECX, EDX, ESI, EDI; the result comes back in EAX as a signed
 *   32-bit value (negative = -errno). Debug builds of Xen poison the argument registers a
 *   hypercall used, so every argument register is declared clobbered.
 * - Every call is a compiler memory barrier: Xen reads and writes guest memory.
 * The numbers, structures and flags come from the generated public headers (guests/include/xen);
 * nothing ABI-shaped is spelled out here.
 */
#ifndef XEN_LIB_HYPERCALL_H
#define XEN_LIB_HYPERCALL_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/version.h>
#include <xen/event_channel.h>
#include <xen/vcpu.h>
#include <xen/callback.h>
#include <xen/physdev.h>
#include <xen/nmi.h>
#include <xen/grant_table.h>

/* The page the builder fills with one call stub per hypercall (4096 bytes, page aligned). */
extern uint8_t hypercall_page[4096];

#define XEN_HC_ASM "call hypercall_page + %c[slot]"
#define XEN_HC_SLOT(nr) [slot] "i"((nr) * 32)

#define _xen_hc0(nr)                                                            \
    ({ long __r;                                                                \
       __asm__ volatile(XEN_HC_ASM : "=a"(__r) : XEN_HC_SLOT(nr) : "memory");   \
       __r; })
#define _xen_hc1(nr, a1)                                                        \
    ({ long __r, __b;                                                           \
       __asm__ volatile(XEN_HC_ASM : "=a"(__r), "=b"(__b)                       \
                        : XEN_HC_SLOT(nr), "1"((long)(a1)) : "memory");         \
       __r; })
#define _xen_hc2(nr, a1, a2)                                                    \
    ({ long __r, __b, __c;                                                      \
       __asm__ volatile(XEN_HC_ASM : "=a"(__r), "=b"(__b), "=c"(__c)            \
                        : XEN_HC_SLOT(nr), "1"((long)(a1)), "2"((long)(a2))      \
                        : "memory");                                            \
       __r; })
#define _xen_hc3(nr, a1, a2, a3)                                                \
    ({ long __r, __b, __c, __d;                                                 \
       __asm__ volatile(XEN_HC_ASM : "=a"(__r), "=b"(__b), "=c"(__c), "=d"(__d) \
                        : XEN_HC_SLOT(nr), "1"((long)(a1)), "2"((long)(a2)),     \
                          "3"((long)(a3))                                       \
                        : "memory");                                            \
       __r; })
#define _xen_hc4(nr, a1, a2, a3, a4)                                            \
    ({ long __r, __b, __c, __d, __S;                                            \
       __asm__ volatile(XEN_HC_ASM                                              \
                        : "=a"(__r), "=b"(__b), "=c"(__c), "=d"(__d), "=S"(__S) \
                        : XEN_HC_SLOT(nr), "1"((long)(a1)), "2"((long)(a2)),     \
                          "3"((long)(a3)), "4"((long)(a4))                      \
                        : "memory");                                            \
       __r; })
#define _xen_hc5(nr, a1, a2, a3, a4, a5)                                        \
    ({ long __r, __b, __c, __d, __S, __D;                                       \
       __asm__ volatile(XEN_HC_ASM                                              \
                        : "=a"(__r), "=b"(__b), "=c"(__c), "=d"(__d), "=S"(__S), \
                          "=D"(__D)                                             \
                        : XEN_HC_SLOT(nr), "1"((long)(a1)), "2"((long)(a2)),     \
                          "3"((long)(a3)), "4"((long)(a4)), "5"((long)(a5))     \
                        : "memory");                                            \
       __r; })

/* Any hypercall by number, through its page slot (nr < 128) or `int $0x82`. */
long xen_hypercall(uint32_t nr, long a1, long a2, long a3, long a4, long a5);
/* Always `int $0x82`, bypassing the hypercall page. */
long xen_hypercall_int82(uint32_t nr, long a1, long a2, long a3, long a4, long a5);

static inline long HYPERVISOR_set_trap_table(const struct trap_info *table)
{ return _xen_hc1(__HYPERVISOR_set_trap_table, table); }

static inline long HYPERVISOR_mmu_update(const struct mmu_update *req, unsigned count,
                                         unsigned *done, unsigned foreigndom)
{ return _xen_hc4(__HYPERVISOR_mmu_update, req, count, done, foreigndom); }

static inline long HYPERVISOR_set_gdt(const xen_pfn_t *frames, unsigned entries)
{ return _xen_hc2(__HYPERVISOR_set_gdt, frames, entries); }

static inline long HYPERVISOR_stack_switch(unsigned long ss, unsigned long esp)
{ return _xen_hc2(__HYPERVISOR_stack_switch, ss, esp); }

static inline long HYPERVISOR_set_callbacks(unsigned long event_cs, unsigned long event_eip,
                                            unsigned long failsafe_cs,
                                            unsigned long failsafe_eip)
{ return _xen_hc4(__HYPERVISOR_set_callbacks, event_cs, event_eip, failsafe_cs, failsafe_eip); }

static inline long HYPERVISOR_fpu_taskswitch(int set)
{ return _xen_hc1(__HYPERVISOR_fpu_taskswitch, set); }

static inline long HYPERVISOR_sched_op_compat(int cmd, unsigned long arg)
{ return _xen_hc2(__HYPERVISOR_sched_op_compat, cmd, arg); }

static inline long HYPERVISOR_set_debugreg(int reg, unsigned long value)
{ return _xen_hc2(__HYPERVISOR_set_debugreg, reg, value); }

static inline long HYPERVISOR_get_debugreg(int reg)
{ return _xen_hc1(__HYPERVISOR_get_debugreg, reg); }

/* 64-bit machine address and descriptor, each split low word first. */
static inline long HYPERVISOR_update_descriptor(uint64_t maddr, uint64_t desc)
{
    return _xen_hc4(__HYPERVISOR_update_descriptor, (uint32_t)maddr, (uint32_t)(maddr >> 32),
                    (uint32_t)desc, (uint32_t)(desc >> 32));
}

static inline long HYPERVISOR_memory_op(unsigned cmd, void *arg)
{ return _xen_hc2(__HYPERVISOR_memory_op, cmd, arg); }

static inline long HYPERVISOR_multicall(struct multicall_entry *calls, unsigned count)
{ return _xen_hc2(__HYPERVISOR_multicall, calls, count); }

static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t pte,
                                                unsigned long flags)
{
    return _xen_hc4(__HYPERVISOR_update_va_mapping, va, (uint32_t)pte,
                    (uint32_t)(pte >> 32), flags);
}

static inline long HYPERVISOR_update_va_mapping_otherdomain(unsigned long va, uint64_t pte,
                                                            unsigned long flags,
                                                            domid_t domid)
{
    return _xen_hc5(__HYPERVISOR_update_va_mapping_otherdomain, va, (uint32_t)pte,
                    (uint32_t)(pte >> 32), flags, domid);
}

static inline long HYPERVISOR_set_timer_op(uint64_t timeout_abs_ns)
{
    return _xen_hc2(__HYPERVISOR_set_timer_op, (uint32_t)timeout_abs_ns,
                    (uint32_t)(timeout_abs_ns >> 32));
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{ return _xen_hc2(__HYPERVISOR_xen_version, cmd, arg); }

static inline long HYPERVISOR_console_io(int cmd, unsigned count, const char *buf)
{ return _xen_hc3(__HYPERVISOR_console_io, cmd, count, buf); }

static inline long HYPERVISOR_grant_table_op(unsigned cmd, void *uop, unsigned count)
{ return _xen_hc3(__HYPERVISOR_grant_table_op, cmd, uop, count); }

static inline long HYPERVISOR_vm_assist(unsigned cmd, unsigned type)
{ return _xen_hc2(__HYPERVISOR_vm_assist, cmd, type); }

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned vcpu, void *arg)
{ return _xen_hc3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg); }

static inline long HYPERVISOR_mmuext_op(const struct mmuext_op *op, unsigned count,
                                        unsigned *done, unsigned foreigndom)
{ return _xen_hc4(__HYPERVISOR_mmuext_op, op, count, done, foreigndom); }

static inline long HYPERVISOR_nmi_op(unsigned cmd, void *arg)
{ return _xen_hc2(__HYPERVISOR_nmi_op, cmd, arg); }

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{ return _xen_hc2(__HYPERVISOR_sched_op, cmd, arg); }

static inline long HYPERVISOR_callback_op(int cmd, const void *arg)
{ return _xen_hc2(__HYPERVISOR_callback_op, cmd, arg); }

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{ return _xen_hc2(__HYPERVISOR_event_channel_op, cmd, arg); }

static inline long HYPERVISOR_physdev_op(int cmd, void *arg)
{ return _xen_hc2(__HYPERVISOR_physdev_op, cmd, arg); }

static inline long HYPERVISOR_sysctl(void *arg)
{ return _xen_hc1(__HYPERVISOR_sysctl, arg); }

static inline long HYPERVISOR_domctl(void *arg)
{ return _xen_hc1(__HYPERVISOR_domctl, arg); }

static inline long HYPERVISOR_platform_op(void *arg)
{ return _xen_hc1(__HYPERVISOR_platform_op, arg); }

/* Convenience forms of the most common calls. */
static inline long xen_yield(void) { return HYPERVISOR_sched_op(SCHEDOP_yield, 0); }
static inline long xen_block(void) { return HYPERVISOR_sched_op(SCHEDOP_block, 0); }
long xen_shutdown(unsigned reason);

#endif
