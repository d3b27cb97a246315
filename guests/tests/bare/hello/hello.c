/* The smallest bare-metal kernel: greet on COM1 and exit 0 through the debug-exit port. */
#include "bare/bare.h"

int kmain(uint32_t magic, uint32_t info);

int kmain(uint32_t magic, uint32_t info)
{
    (void)info;
    serial_puts("hello from a bare-metal tsxen guest\n");
    if (magic != 0x2BADB002) {
        serial_puts("Test result: FAILURE bad multiboot magic\n");
        return 1;
    }
    /* 64-bit division goes through lib/rt. */
    volatile uint64_t big = 0x123456789abcdefULL;
    volatile uint64_t div = 1000003;
    serial_puts("64-bit quotient: ");
    serial_putdec((uint32_t)(big / div));
    serial_puts("\nTest result: SUCCESS\n");
    return 0;
}
