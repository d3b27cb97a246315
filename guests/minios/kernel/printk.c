/*
 * Formatted output: printk to the PV console, and the lock-free emergency path for traps
 * and panics. The formatting itself (vsnprintf/snprintf) is lib/fmt, shared with the PV
 * test framework.
 *
 * Invariant: a message longer than its buffer is truncated, never split or overrun.
 */
#include "minios/kernel/kernel.h"
#include "minios/kernel/spinlock.h"
#include "minios/xen/console.h"

static spinlock_t printk_lock = SPINLOCK_INIT;
static char printk_buf[1024];

void printk(const char *fmt, ...)
{
    va_list ap;
    spin_lock(&printk_lock);
    va_start(ap, fmt);
    int n = vsnprintf(printk_buf, sizeof(printk_buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(printk_buf) - 1) n = sizeof(printk_buf) - 1;
    console_write(printk_buf, (unsigned)n);
    spin_unlock(&printk_lock);
}

void emergency_printk(const char *fmt, ...)
{
    static char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1) n = sizeof(buf) - 1;
    console_write_emergency(buf, (unsigned)n);
}

void panic(const char *fmt, ...)
{
    static char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1) n = sizeof(buf) - 1;
    console_write_emergency("PANIC: ", 7);
    console_write_emergency(buf, (unsigned)n);
    console_write_emergency("\nTest result: ERROR (panic)\n", 28);
    console_flush();
    for (;;) xen_shutdown(SHUTDOWN_crash);
}
