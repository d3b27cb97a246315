/* Shutdown, reboot and suspend (see control.h). */
#include "minios/kernel/control.h"
#include "minios/kernel/events.h"
#include "minios/kernel/sched.h"
#include "minios/kernel/smp.h"
#include "minios/xen/xenbus.h"
#include "minios/xen/console.h"
#include "minios/xen/gnttab.h"
#include "minios/mm/mm.h"
#include "minios/shell/shell.h"
#include <xen/io/xs_paths.h>

#define MAX_LIFECYCLE 8

static const struct lifecycle_ops *lifecycle[MAX_LIFECYCLE];
static unsigned nr_lifecycle;
static struct xb_watch shutdown_watch = { .path = XS_KEY_CONTROL_SHUTDOWN, .token = "control" };
static uint32_t shutdown_seen;
volatile uint32_t resume_count, resume_new_domain;
volatile int control_suspending;

void control_register(const struct lifecycle_ops *ops)
{
    if (nr_lifecycle >= MAX_LIFECYCLE) panic("too many lifecycle participants");
    lifecycle[nr_lifecycle++] = ops;
}

NORETURN void kernel_shutdown(unsigned reason, const char *why)
{
    for (unsigned i = nr_lifecycle; i-- > 0;)
        if (lifecycle[i]->shutdown) lifecycle[i]->shutdown();
    shell_print_verdict(why);
    console_flush();
    for (;;) xen_shutdown(reason);
}

static void remap_shared_info(void)
{
    shared_info = map_frame(start_info->shared_info >> PAGE_SHIFT, 1);
    if (!shared_info) panic("cannot map shared_info at %lx", start_info->shared_info);
    for (unsigned i = 0; i < MAX_CPUS; i++) cpus[i].vi = &shared_info->vcpu_info[i];
}

long kernel_suspend(void)
{
    printk("SUSPEND: quiescing\n");
    control_suspending = 1;
    for (unsigned i = 0; i < nr_lifecycle; i++)
        if (lifecycle[i]->suspend) lifecycle[i]->suspend();
    uint64_t t0 = now_ns();
    smp_park_secondaries();
    uint64_t park_ns = now_ns() - t0;
    xenbus_prepare_suspend();
    console_prepare_suspend();

    unsigned long flags = local_irq_save();
    /* vcpu_info lives in shared_info: no event may be looked at until it is back. */
    gnttab_suspend();
    unmap_frame((void *)shared_info);
    shared_info = 0;
    unsigned long store_pfn = mfn_to_pfn(start_info->store_mfn);
    unsigned long cons_pfn = mfn_to_pfn(start_info->console.domU.mfn);
    start_info->store_mfn = store_pfn;
    start_info->console.domU.mfn = cons_pfn;

    struct sched_shutdown sd = { .reason = SHUTDOWN_suspend };
    long rc = _xen_hc3(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &sd, virt_to_mfn(start_info));

    int new_domain = rc == 0;
    if (!new_domain) {          /* cancelled: same domain, same frames */
        start_info->store_mfn = pfn_to_mfn(store_pfn);
        start_info->console.domU.mfn = pfn_to_mfn(cons_pfn);
    }
    remap_shared_info();
    if (new_domain) {
        evtchn_forget_all();
        p2m_publish();
    }
    gnttab_resume(new_domain);
    if (new_domain) {
        time_init_cpu();
        console_resume();
    }
    local_irq_restore(flags);
    if (new_domain) xenbus_resume(1);
    else xenbus_resume(0);
    t0 = now_ns();
    smp_unpark_secondaries(new_domain);
    uint64_t unpark_ns = now_ns() - t0;
    for (unsigned i = 0; i < nr_lifecycle; i++)
        if (lifecycle[i]->resume) lifecycle[i]->resume(new_domain);
    control_suspending = 0;
    resume_count++;
    if (new_domain) resume_new_domain++;
    /* park_us/unpark_us: how long CPU 0 waited for the secondaries (tests bound them). */
    printk("RESUME: rc=%ld (%s) park_us=%llu unpark_us=%llu\n", rc,
           new_domain ? "new domain" : "suspend cancelled", (unsigned long long)(park_ns / 1000),
           (unsigned long long)(unpark_ns / 1000));
    return rc;
}

static void control_poll(void)
{
    if (shutdown_watch.fired == shutdown_seen) return;
    shutdown_seen = shutdown_watch.fired;
    char req[32];
    int rc = xb_read(XBT_NIL, XS_KEY_CONTROL_SHUTDOWN, req, sizeof(req));
    if (rc <= 0) return;            /* absent or empty: nothing asked */
    /* Acknowledge first: the toolstack waits for the key to be cleared. */
    xb_write(XBT_NIL, XS_KEY_CONTROL_SHUTDOWN, "");
    printk("CONTROL: shutdown request \"%s\"\n", req);
    if (!strcmp(req, XS_SHUTDOWN_POWEROFF) || !strcmp(req, XS_SHUTDOWN_HALT))
        kernel_shutdown(SHUTDOWN_poweroff, "toolstack poweroff");
    else if (!strcmp(req, XS_SHUTDOWN_REBOOT))
        kernel_shutdown(SHUTDOWN_reboot, "toolstack reboot");
    else if (!strcmp(req, XS_SHUTDOWN_SUSPEND))
        kernel_suspend();
    else
        printk("CONTROL: unknown request \"%s\" ignored\n", req);
}

void control_init(void)
{
    xb_write(XBT_NIL, XS_KEY_CONTROL_FEATURE_POWEROFF, "1");
    xb_write(XBT_NIL, XS_KEY_CONTROL_FEATURE_REBOOT, "1");
    xb_write(XBT_NIL, XS_KEY_CONTROL_FEATURE_SUSPEND, "1");
    int rc = xb_watch(&shutdown_watch);
    if (rc) printk("control: cannot watch %s: %s\n", XS_KEY_CONTROL_SHUTDOWN, xb_strerror(rc));
    poller_register("control", control_poll);
}
