/*
 * The kernel command line (start_info.cmd_line, xl's `extra=`), syntax in docs/minios.md:
 * space-separated `key=value` options (a value may be "double quoted"); every other word
 * joins the command list, as does `cmd="..."`. Commands are separated by ';'.
 *
 * Invariant: parsing copies out of start_info (rewritten on resume) once, at boot.
 */
#ifndef MINIOS_CMDLINE_H
#define MINIOS_CMDLINE_H
#include "minios/kernel/kernel.h"

#define CMDLINE_MAX 1024

void cmdline_parse(const char *line);
/* The value of option key, or 0 when absent. */
const char *cmdline_get(const char *key);
/* The command list ("" when none: interactive shell). */
const char *cmdline_commands(void);

#endif
