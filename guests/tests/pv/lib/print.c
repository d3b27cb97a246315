/*
 * Formatted output to the PV console: a small vsnprintf (%d %i %u %x %X %p %s %c %%, with
 * flags '-' and '0', a width, and the l / ll length modifiers) and console helpers.
 *
 * Invariant: output is assembled in a bounded buffer and handed to the console ring in
 * one write per call, so lines from one pv_printf are never split by a trap handler's
 * output except when a line exceeds the buffer.
 */
#include "pvtest.h"

struct out {
    char *buf;
    unsigned size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size) o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, int upper, int neg,
                    int width, int zero, int left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + neg;
    if (!left && !zero)
        for (; width > len; width--) put(o, ' ');
    if (neg) put(o, '-');
    if (!left && zero)
        for (; width > len; width--) put(o, '0');
    while (n) put(o, tmp[--n]);
    if (left)
        for (; width > len; width--) put(o, ' ');
}

int pv_vsnprintf(char *buf, unsigned size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        int left = 0, zero = 0, width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') zero = 1;
            else break;
        }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') { lng++; fmt++; }
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
            put_num(&o, u, 10, 0, v < 0, width, zero, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long)
                                 : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0, width, zero, left);
            break;
        }
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, 8, 1, 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int len = (int)strlen(s);
            if (!left)
                for (; width > len; width--) put(&o, ' ');
            while (*s) put(&o, *s++);
            if (left)
                for (; width > len; width--) put(&o, ' ');
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put(&o, '%');
            break;
        case 0:
            fmt--;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
        }
    }
    if (size) buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
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
