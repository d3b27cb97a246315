/*
 * Freestanding string, parsing and checksum helpers (memcpy/memset/memcmp/strlen come
 * from lib/rt). Parsers reject trailing garbage and overflow instead of truncating.
 */
#include "minios/kernel/kernel.h"

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
        if (!*a) return 0;
    }
    return 0;
}

char *strcpy_s(char *dst, const char *src, size_t size)
{
    size_t i = 0;
    if (!size) return dst;
    for (; i + 1 < size && src[i]; i++) dst[i] = src[i];
    dst[i] = 0;
    return dst;
}

char *strchr(const char *s, int c)
{
    for (; *s; s++)
        if (*s == (char)c) return (char *)s;
    return c ? 0 : (char *)s;
}

int strstarts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (!s || !*s) return -XEN_EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s) return -XEN_EINVAL;
    }
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = (unsigned)(*s - 'A' + 10);
        else return -XEN_EINVAL;
        if (v > (~0ULL - d) / base) return -XEN_EINVAL;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    int rc = parse_u64(s, &v);
    if (rc) return rc;
    if (v > 0xFFFFFFFFULL) return -XEN_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

int parse_ipv4(const char *s, uint32_t *out)
{
    uint32_t ip = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || v > 255) return -XEN_EINVAL;
        }
        if (!digits) return -XEN_EINVAL;
        ip = (ip << 8) | v;
        if (part < 3 && *s++ != '.') return -XEN_EINVAL;
    }
    if (*s) return -XEN_EINVAL;
    *out = ip;
    return 0;
}

static uint32_t crc_table[256];

uint32_t crc32(uint32_t crc, const void *buf, size_t len)
{
    if (!crc_table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    }
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--) crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
