/*
 * The shell: commands typed on the console, or taken from the kernel command line
 * (non-interactive mode: run them in order, print the verdict, power off).
 *
 * Output convention (machine-checkable, see docs/minios.md): every command prints one
 * result line starting with "OK ", "FAIL " or "SKIP " followed by the command name;
 * measurements are key=value pairs on that line. The last line of a non-interactive run
 * is "Test result: SUCCESS" or "Test result: FAILURE (...)".
 */
#ifndef MINIOS_SHELL_H
#define MINIOS_SHELL_H
#include "minios/kernel/kernel.h"

#define CMD_OK 0
#define CMD_SKIP 1
#define CMD_FAIL (-1)
#define MAX_ARGS 16

struct command {
    const char *name;
    const char *args;
    const char *help;
    int (*fn)(int argc, char **argv);
};

NORETURN void shell_run(const char *commands);
int shell_exec(char *line);
void shell_print_verdict(const char *why);

/* Helpers for commands. */
int cmd_fail(const char *what, const char *fmt, ...) PRINTF(2, 3);
int arg_u32(const char *s, const char *name, uint32_t *out);
int arg_u64(const char *s, const char *name, uint64_t *out);

extern const struct command sys_commands[];
extern const struct command mem_commands[];
extern const struct command disk_commands[];
extern const struct command net_commands[];

#endif
