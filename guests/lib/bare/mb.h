/* The Multiboot v1 information the kernels read: the command line (iters=N and such). */
#ifndef BARE_MB_H
#define BARE_MB_H
#include <stdint.h>

#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_INFO_CMDLINE (1u << 2)

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

/* The command line, or "" when the loader gave none (or the magic is wrong). */
const char *mb_cmdline(uint32_t magic, uint32_t info);
/* The decimal value of key=N on the command line, or dflt when absent or malformed. */
uint32_t cmdline_uint(const char *cmdline, const char *key, uint32_t dflt);
#endif
