/*
 * Checks and the verdict line.
 *
 * Invariants: pvt_check prints one line per check; the verdict line is printed exactly
 * once (pvtest_finish/skip/error all end in pvt_shutdown, which never returns); the
 * console is drained before SCHEDOP_shutdown so the runner sees the verdict.
 */
#include "pvtest.h"

static unsigned checks, failed;
static char first_failure[160];

unsigned pvt_checks_failed(void) { return failed; }

/* Hex of a value as a 32-bit guest sees it: negative int32 results print as 0xffffffea. */
static unsigned long long hex32(long long v)
{
    return (v >= -0x80000000LL && v < 0) ? (unsigned long long)(uint32_t)v : (unsigned long long)v;
}

void pvt_check(int ok, const char *file, int line, const char *what, int show,
               long long actual, long long expected, const char *op)
{
    checks++;
    const char *base = file;
    for (const char *p = file; *p; p++)
        if (*p == '/') base = p + 1;
    if (ok) {
        if (show)
            pv_printf("  ok   %s %s %lld (0x%llx)\n", what, op, expected, hex32(actual));
        else
            pv_printf("  ok   %s\n", what);
        return;
    }
    failed++;
    if (show || op[0])
        pv_printf("  FAIL %s:%d: %s = %lld (0x%llx), expected %s %lld (0x%llx)\n", base, line, what,
                  actual, hex32(actual), op, expected, hex32(expected));
    else
        pv_printf("  FAIL %s:%d: %s\n", base, line, what);
    if (failed == 1)
        pv_snprintf(first_failure, sizeof(first_failure), "%s:%d %s = %lld", base, line, what,
                    actual);
}

__attribute__((noreturn)) static void pvt_shutdown(void)
{
    xen_console_flush();
    for (;;) {
        xen_shutdown(SHUTDOWN_poweroff);
        /* A refused shutdown leaves nothing else to do: yield forever. */
        xen_yield();
    }
}

void pvtest_finish(void)
{
    if (pvtest_expect_crash) {
        pv_printf("Test result: FAILURE the domain was expected to be crashed by Xen\n");
    } else if (failed) {
        pv_printf("Test result: FAILURE %u of %u checks failed; first: %s\n", failed, checks,
                  first_failure);
    } else if (checks == 0) {
        pv_printf("Test result: ERROR the test made no checks\n");
    } else {
        pv_printf("Test result: SUCCESS\n");
    }
    pvt_shutdown();
}

void pvtest_skip(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pv_printf("Test result: SKIP %s\n", buf);
    pvt_shutdown();
}

void pvtest_error(const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pv_printf("Test result: ERROR %s\n", buf);
    pvt_shutdown();
}

void pvtest_expect_crash_now(const char *why)
{
    pv_printf("expecting Xen to crash this domain now: %s\n", why);
    xen_console_flush();
}

void pvtest_survived(const char *what)
{
    pv_printf("Test result: FAILURE the domain survived %s\n", what);
    pvt_shutdown();
}
