/*
 * Shell core: the command table, tokenizer, line editor and the non-interactive runner
 * (see shell.h).
 *
 * Invariants: a command line is split in place (words separated by blanks, "double
 * quotes" group words); at most MAX_ARGS words, more is an error, not a truncation.
 * The verdict counts every command run so far, interactive or not.
 */
#include "minios/shell/shell.h"
#include "minios/kernel/sched.h"
#include "minios/kernel/control.h"
#include "minios/xen/console.h"

static const struct command *const groups[] = { sys_commands, mem_commands, disk_commands, net_commands };

static unsigned nr_run, nr_failed, nr_skipped;
static char failed_names[160];
static int verdict_printed;

int cmd_fail(const char *what, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("FAIL %s: %s\n", what, msg);
    return CMD_FAIL;
}

int arg_u64(const char *s, const char *name, uint64_t *out)
{
    if (parse_u64(s, out)) {
        printk("FAIL bad %s \"%s\"\n", name, s);
        return -1;
    }
    return 0;
}

int arg_u32(const char *s, const char *name, uint32_t *out)
{
    if (parse_u32(s, out)) {
        printk("FAIL bad %s \"%s\"\n", name, s);
        return -1;
    }
    return 0;
}

static const struct command *find(const char *name)
{
    for (unsigned g = 0; g < ARRAY_SIZE(groups); g++)
        for (const struct command *c = groups[g]; c->name; c++)
            if (!strcmp(c->name, name)) return c;
    return 0;
}

static int split(char *line, char **argv)
{
    int argc = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        if (argc == MAX_ARGS) return -1;
        if (*p == '"') {
            argv[argc++] = ++p;
            while (*p && *p != '"') p++;
        } else {
            argv[argc++] = p;
            while (*p && *p != ' ' && *p != '\t') p++;
        }
        if (*p) *p++ = 0;
    }
    return argc;
}

static void note_result(const char *name, int rc)
{
    nr_run++;
    if (rc == CMD_SKIP) nr_skipped++;
    if (rc < 0) {
        nr_failed++;
        size_t l = strlen(failed_names);
        if (l + 27 < sizeof(failed_names))   /* names are cut at 24 characters */
            snprintf(failed_names + l, sizeof(failed_names) - l, "%s%.24s", l ? ", " : "", name);
    }
}

int shell_exec(char *line)
{
    char *argv[MAX_ARGS];
    int argc = split(line, argv);
    if (argc == 0) return CMD_OK;
    if (argc < 0) {
        note_result("(too many arguments)", CMD_FAIL);
        printk("FAIL too many arguments (max %d)\n", MAX_ARGS);
        return CMD_FAIL;
    }
    const struct command *c = find(argv[0]);
    if (!c) {
        printk("FAIL unknown command \"%s\" (try help)\n", argv[0]);
        note_result(argv[0], CMD_FAIL);
        return CMD_FAIL;
    }
    int rc = c->fn(argc, argv);
    note_result(argv[0], rc);
    return rc;
}

void shell_print_verdict(const char *why)
{
    if (verdict_printed) return;
    verdict_printed = 1;
    printk("SUMMARY commands=%u failed=%u skipped=%u%s%s\n", nr_run, nr_failed, nr_skipped,
           why ? " end=" : "", why ? why : "");
    if (nr_failed)
        printk("Test result: FAILURE (%u of %u commands failed: %s)\n", nr_failed, nr_run, failed_names);
    else
        printk("Test result: SUCCESS\n");
}

/* Help lists every command; used by the `help` command in cmd_sys.c. */
void shell_help(void);
void shell_help(void)
{
    for (unsigned g = 0; g < ARRAY_SIZE(groups); g++)
        for (const struct command *c = groups[g]; c->name; c++)
            printk("  %-8s %-34s %s\n", c->name, c->args, c->help);
}

static int read_line(char *buf, unsigned size)
{
    unsigned n = 0;
    for (;;) {
        wait_for(console_has_input, 0, 0);
        int ch;
        while ((ch = console_getc()) >= 0) {
            if (ch == '\r' || ch == '\n') {
                printk("\n");
                buf[n] = 0;
                return (int)n;
            }
            if (ch == 0x7f || ch == 0x08) {
                if (n) {
                    n--;
                    printk("\b \b");
                }
            } else if (ch == 0x03) {          /* ^C: drop the line */
                printk("^C\n");
                buf[0] = 0;
                return 0;
            } else if (ch >= 0x20 && n + 1 < size) {
                buf[n++] = (char)ch;
                printk("%c", ch);
            }
        }
    }
}

static NORETURN void interactive(void)
{
    static char line[256];
    printk("minios shell: type help for commands\n");
    for (;;) {
        printk("minios> ");
        read_line(line, sizeof(line));
        shell_exec(line);
    }
}

void shell_run(const char *commands)
{
    static char list[1024];
    if (!commands || !*commands) interactive();
    strcpy_s(list, commands, sizeof(list));
    printk("minios: running \"%s\"\n", list);
    char *p = list;
    while (*p) {
        char *end = strchr(p, ';');
        if (end) *end = 0;
        while (*p == ' ') p++;
        if (*p) {
            if (!strcmp(p, "shell")) interactive();
            printk("> %s\n", p);
            static char cmd[256];
            strcpy_s(cmd, p, sizeof(cmd));
            shell_exec(cmd);
        }
        if (!end) break;
        p = end + 1;
    }
    kernel_shutdown(SHUTDOWN_poweroff, "commands done");
}
