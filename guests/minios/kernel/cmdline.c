/* Kernel command line parsing (see cmdline.h). */
#include "minios/kernel/cmdline.h"

#define MAX_OPTS 24

static char buf[CMDLINE_MAX];
static char commands[CMDLINE_MAX];
static struct { const char *key, *val; } opts[MAX_OPTS];
static unsigned nr_opts;

static void append_cmd(const char *word)
{
    size_t len = strlen(commands), add = strlen(word);
    if (len + add + 2 > sizeof(commands)) {
        printk("cmdline: command list too long, dropping \"%s\"\n", word);
        return;
    }
    if (len) commands[len++] = ' ';
    memcpy(commands + len, word, add + 1);
}

void cmdline_parse(const char *line)
{
    strcpy_s(buf, line, sizeof(buf));
    char *p = buf;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        /* One token: key=value (value maybe quoted) or a bare word. */
        char *start = p, *eq = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '"') {
            if (*p == '=' && !eq) eq = p;
            p++;
        }
        char *val = 0;
        if (eq && *p == '"' && p == eq + 1) {
            val = ++p;
            while (*p && *p != '"') p++;
            if (*p) *p++ = 0;
        } else if (eq) {
            val = eq + 1;
            if (*p == '"') {   /* stray quote inside a value: keep it literal */
                while (*p && *p != ' ' && *p != '\t') p++;
            }
            if (*p) *p++ = 0;
        } else {
            if (*p == '"') {   /* a quoted bare word */
                while (*p && *p != ' ' && *p != '\t') p++;
            }
            if (*p) *p++ = 0;
            append_cmd(start);
            continue;
        }
        *eq = 0;
        if (!strcmp(start, "cmd")) {
            append_cmd(val);
            if (commands[0]) {
                size_t l = strlen(commands);
                if (l + 1 < sizeof(commands) && commands[l - 1] != ';') strcpy_s(commands + l, ";", 2);
            }
        } else if (nr_opts < MAX_OPTS) {
            opts[nr_opts].key = start;
            opts[nr_opts].val = val;
            nr_opts++;
        } else {
            printk("cmdline: too many options, ignoring %s\n", start);
        }
    }
}

const char *cmdline_get(const char *key)
{
    for (unsigned i = nr_opts; i-- > 0;)
        if (!strcmp(opts[i].key, key)) return opts[i].val;
    return 0;
}

const char *cmdline_commands(void)
{
    return commands;
}
