/*
 * Formatted output to the PV console and console helpers. The formatting is lib/fmt's
 * vsnprintf (shared with minios); the pv_ names are the framework's API for the tests.
 *
 * Invariant: output is assembled in a bounded buffer and handed to the console ring in
 * one write per call, so lines from one pv_printf are never split by a trap handler's
 * output except when a line exceeds the buffer.
 */
#include "pvtest.h"
#include "lib/fmt/fmt.h"

int pv_vsnprintf(char *buf, unsigned size, const char *fmt, va_list ap)
{
    return vsnprintf(buf, size, fmt, ap);
}

int pv_snprintf(char *buf, unsigned size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = pv_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void pv_vprintf(const char *fmt, va_list ap)
{
    char buf[512];
    int n = pv_vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n > (int)sizeof(buf) - 1) n = sizeof(buf) - 1;
    xen_console_write(buf, (unsigned)n);
}

void pv_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pv_vprintf(fmt, ap);
    va_end(ap);
}

void pv_puts(const char *s)
{
    xen_console_write(s, strlen(s));
}

int pv_strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) return (unsigned char)a[i] - (unsigned char)b[i];
        if (!a[i]) return 0;
    }
    return 0;
}

const char *pv_strstr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!pv_strncmp(hay, needle, n)) return hay;
    return n ? 0 : hay;
}
