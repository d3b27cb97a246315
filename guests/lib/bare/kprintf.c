/*
 * kprintf: the formatted output the test kernels need on COM1. Conversions: %s %c %d %u
 * %x %X with an optional '0' flag and width (e.g. %08x), %p (0x + 8 hex digits), %%.
 * Anything else is printed literally, so a bad format string shows up in the output.
 */
#include <stdarg.h>
#include "bare/bare.h"

static void put_num(uint32_t v, unsigned base, int neg, int width, char pad, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[12];
    int n = 0;
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (neg) width--;
    if (neg && pad == '0') serial_putc('-');
    for (int i = n; i < width; i++) serial_putc(pad);
    if (neg && pad != '0') serial_putc('-');
    while (n) serial_putc(buf[--n]);
}

void kvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        const char *start = fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            serial_puts(s ? s : "(null)");
            break;
        }
        case 'c': serial_putc((char)va_arg(ap, int)); break;
        case 'd': {
            int v = va_arg(ap, int);
            put_num(v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10, v < 0, width, pad, 0);
            break;
        }
        case 'u': put_num(va_arg(ap, uint32_t), 10, 0, width, pad, 0); break;
        case 'x': put_num(va_arg(ap, uint32_t), 16, 0, width, pad, 0); break;
        case 'X': put_num(va_arg(ap, uint32_t), 16, 0, width, pad, 1); break;
        case 'p':
            serial_puts("0x");
            put_num(va_arg(ap, uint32_t), 16, 0, 8, '0', 0);
            break;
        case '%': serial_putc('%'); break;
        default:
            for (; start <= fmt && *start; start++) serial_putc(*start);
            if (!*fmt) return;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
