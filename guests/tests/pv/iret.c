/*
 * Returning from the kernel: the iret hypercall (frame EAX, EIP, CS, EFLAGS from the
 * ring-1 stack; EAX restored; IOPL stripped; the event mask taken from the frame's IF),
 * the CPU's own iret ring 1 -> ring 1 (allowed, but cannot change the mask), and both
 * kinds of iret into ring 3 (pvt_user_call).
 */
#include "lib/pvtest.h"

PVTEST("iret", "SUCCESS", 0, "", "iret hypercall and native iret, to ring 1 and ring 3");

static uint32_t hypercall_iret(uint32_t eflags, uint32_t eax, uint32_t *eflags_after)
{
    uint32_t out, fl;
    __asm__ volatile("pushl %[fl]\n"
                     "pushl %[cs]\n"
                     "pushl $1f\n"
                     "movl %[ax], %%eax\n"
                     "jmp hypercall_page + %c[slot]\n"
                     "1: pushfl\n"
                     "popl %[flo]\n"
                     : "=a"(out), [flo] "=r"(fl)
                     : [fl] "r"(eflags), [cs] "i"(FLAT_KERNEL_CS), [ax] "r"(eax),
                       [slot] "i"(__HYPERVISOR_iret * 32)
                     : "memory", "cc");
    *eflags_after = fl;
    return out;
}

static uint32_t native_iret(uint32_t eflags)
{
    uint32_t out;
    __asm__ volatile("pushl %[fl]\n"
                     "pushl %%cs\n"
                     "pushl $1f\n"
                     "iret\n"
                     "1: movl $0x600d, %%eax\n"
                     : "=a"(out) : [fl] "r"(eflags) : "memory", "cc");
    return out;
}

PVT_USER_TEXT static uint32_t user_segments(uint32_t arg)
{
    uint32_t cs, ss;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
    return (cs << 16) | (ss & 0xffff) | (arg & 0);
}

PVT_USER_TEXT static uint32_t user_double(uint32_t arg)
{
    return arg * 2;
}

void test_main(void)
{
    volatile struct vcpu_info *v = pvt_vcpu(0);
    uint32_t fl;

    /* IF clear in the frame: events stay masked; EAX comes from the frame. */
    CHECK_EQ(hypercall_iret(X86_EFLAGS_MBS, 0x1234abcd, &fl), 0x1234abcd);
    CHECK_EQ(v->evtchn_upcall_mask, 1);
    CHECK_EQ(fl & X86_EFLAGS_IOPL, 0);

    /* IF set: events unmasked on return. IOPL in the frame is dropped. */
    CHECK_EQ(hypercall_iret(X86_EFLAGS_MBS | X86_EFLAGS_IF | X86_EFLAGS_IOPL, 42, &fl), 42);
    CHECK_EQ(v->evtchn_upcall_mask, 0);
    CHECK_EQ(fl & X86_EFLAGS_IOPL, 0);
    CHECK_NE(fl & X86_EFLAGS_IF, 0);
    pvt_events_mask();

    /* Arithmetic flags in the frame are restored. */
    CHECK_EQ(hypercall_iret(X86_EFLAGS_MBS | X86_EFLAGS_CF, 1, &fl), 1);
    CHECK_NE(fl & X86_EFLAGS_CF, 0);

    /* The CPU's iret at CPL 1 with IOPL 0 leaves IF (and so nothing of the mask) alone. */
    CHECK_EQ(native_iret(X86_EFLAGS_MBS), 0x600d);
    CHECK_EQ(v->evtchn_upcall_mask, 1);
    CHECK_EQ(native_iret(X86_EFLAGS_MBS | X86_EFLAGS_IF), 0x600d);
    CHECK_EQ(v->evtchn_upcall_mask, 1);

    /* Into ring 3 and back, both ways of entering. */
    CHECK_EQ(pvt_user_call(user_double, 21), 42);
    CHECK_EQ(pvt_user_call(user_segments, 0), ((uint32_t)FLAT_USER_CS << 16) | FLAT_USER_SS);
    pvt_user_native_iret = 1;
    CHECK_EQ(pvt_user_call(user_double, 50), 100);
    CHECK_EQ(pvt_user_call(user_segments, 0), ((uint32_t)FLAT_USER_CS << 16) | FLAT_USER_SS);
    pvt_user_native_iret = 0;
    CHECK_EQ(x86_read_cs(), FLAT_KERNEL_CS);
}
