#include "bare.h"

static int serial_ready;

static void serial_init(void)
{
    outb(BARE_COM1 + 1, 0x00); /* no interrupts */
    outb(BARE_COM1 + 3, 0x80); /* DLAB */
    outb(BARE_COM1 + 0, 0x01); /* 115200 baud */
    outb(BARE_COM1 + 1, 0x00);
    outb(BARE_COM1 + 3, 0x03); /* 8N1 */
    outb(BARE_COM1 + 2, 0xC7); /* FIFO */
    serial_ready = 1;
}

void serial_putc(char c)
{
    if (!serial_ready) serial_init();
    if (c == '\n') serial_putc('\r');
    while (!(inb(BARE_COM1 + 5) & 0x20)) { }
    outb(BARE_COM1, (uint8_t)c);
}

void serial_puts(const char *s)
{
    while (*s) serial_putc(*s++);
}

void serial_puthex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    serial_puts("0x");
    for (int i = 28; i >= 0; i -= 4) serial_putc(digits[(v >> i) & 15]);
}

void serial_putdec(uint32_t v)
{
    char buf[11];
    int n = 0;
    do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) serial_putc(buf[--n]);
}

void bare_exit(int code)
{
    outb(BARE_DEBUG_EXIT_PORT, (uint8_t)code);
    /* Without an exit device (real hardware), stop here. */
    for (;;) __asm__ volatile("cli; hlt");
}
