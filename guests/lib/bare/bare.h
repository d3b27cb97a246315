/* Bare-metal helpers for Multiboot test kernels: port I/O, COM1 output, exit. */
#ifndef BARE_H
#define BARE_H
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

void serial_putc(char c);
void serial_puts(const char *s);
void serial_puthex(uint32_t v);
void serial_putdec(uint32_t v);
/* printf subset on COM1: %s %c %d %u %x %X %p, '0' flag and width (kprintf.c). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit through the isa-debug-exit port 0xf4: QEMU exits with (code << 1) | 1. */
__attribute__((noreturn)) void bare_exit(int code);

#define BARE_DEBUG_EXIT_PORT 0xf4
#define BARE_COM1 0x3f8
#endif
