/*
 * Start of day: from the builder's state to the shell.
 *
 * Order matters: the hypercall page is checked before any hypercall; traps are
 * installed before anything can fault; memory (the 1:1 map, the map area) before
 * shared_info can be mapped; shared_info before events; events before the console ring
 * can be used (until then output goes to Xen's console_io); the console before anything
 * is reported; xenbus before any device. Failures before the console exists crash the
 * domain with a message on Xen's console.
 */
#include "minios/kernel/kernel.h"
#include "minios/kernel/smp.h"
#include "minios/kernel/events.h"
#include "minios/kernel/sched.h"
#include "minios/kernel/cmdline.h"
#include "minios/kernel/control.h"
#include "minios/arch/x86_32/traps.h"
#include "minios/mm/mm.h"
#include "minios/mm/balloon.h"
#include "minios/xen/console.h"
#include "minios/xen/gnttab.h"
#include "minios/xen/xenbus.h"
#include "minios/drivers/blkfront.h"
#include "minios/drivers/netfront.h"
#include "minios/net/net.h"
#include "minios/shell/shell.h"
#include <xen/version.h>

start_info_t *start_info;
volatile shared_info_t *shared_info;
extern unsigned long boot_esp;

struct cpu cpus[MAX_CPUS];
char cpu_stacks[MAX_CPUS][STACK_SIZE] __attribute__((aligned(STACK_SIZE), section(".bss.stacks")));

void check_stack(void)
{
    struct cpu *c = this_cpu();
    if (c->stack_base && c->stack_base[1] != STACK_CANARY)
        panic("stack overflow on cpu %u", c->id);
}

static void print_banner(void)
{
    char extra[XEN_EXTRAVERSION_LEN];
    long ver = HYPERVISOR_xen_version(XENVER_version, 0);
    memset(extra, 0, sizeof(extra));
    HYPERVISOR_xen_version(XENVER_extraversion, extra);
    printk("minios: tsxen's PV kernel on Xen %ld.%ld%s\n", ver >> 16, ver & 0xFFFF, extra);
    printk("minios: %lu pages (%lu MiB), %lu free, kernel+boot %lu pages, cmdline \"%s\"\n",
           nr_pages, nr_pages >> 8, free_page_count(), kernel_pages, start_info->cmd_line);
}

void start_kernel(start_info_t *si);
void start_kernel(start_info_t *si)
{
    if (hypercall_page[0] == 0xc3) for (;;) __asm__ volatile("ud2");
    start_info = si;
    struct cpu *c = &cpus[0];
    c->id = 0;
    c->stack_base = (uint32_t *)cpu_stacks[0];
    c->stack_base[1] = STACK_CANARY;
    c->online = 1;
    if (strncmp(si->magic, "xen-3.0-x86_32p", 15))
        panic("start_info magic \"%.32s\" is not a PAE PV guest's", si->magic);

    trap_init();
    arch_mm_init(boot_esp);
    shared_info = map_frame(si->shared_info >> PAGE_SHIFT, 1);
    if (!shared_info) panic("cannot map shared_info (maddr %lx)", si->shared_info);
    for (unsigned i = 0; i < MAX_CPUS; i++) cpus[i].vi = &shared_info->vcpu_info[i];

    events_init();
    console_init();
    cmdline_parse(si->cmd_line);
    if (cmdline_get("xencons")) console_mirror_xen = 1;
    print_banner();

    time_init_cpu();
    local_irq_enable();
    gnttab_init();
    xenbus_init();
    p2m_publish();
    control_init();
    balloon_init();
    smp_init();
    blkfront_init();
    netfront_init();
    net_init();
    shell_run(cmdline_commands());
}
