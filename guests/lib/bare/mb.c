/* Multiboot command line access (see mb.h). */
#include "bare/mb.h"

const char *mb_cmdline(uint32_t magic, uint32_t info)
{
    if (magic != MB_BOOT_MAGIC || !info) return "";
    const struct mb_info *mb = (const struct mb_info *)info;
    if (!(mb->flags & MB_INFO_CMDLINE) || !mb->cmdline) return "";
    return (const char *)mb->cmdline;
}

uint32_t cmdline_uint(const char *s, const char *key, uint32_t dflt)
{
    for (const char *w = s; *w; w++) {
        if (w != s && w[-1] != ' ') continue; /* keys start a word */
        const char *k = key, *p = w;
        while (*k && *p == *k) {
            k++;
            p++;
        }
        if (*k || *p != '=') continue;
        p++;
        if (*p < '0' || *p > '9') return dflt;
        uint32_t v = 0;
        while (*p >= '0' && *p <= '9') {
            uint32_t d = (uint32_t)(*p++ - '0');
            if (v > (0xffffffffu - d) / 10) return dflt; /* overflow */
            v = v * 10 + d;
        }
        return (*p && *p != ' ') ? dflt : v;
    }
    return dflt;
}
