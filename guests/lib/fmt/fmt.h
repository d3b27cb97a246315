/*
 * The printf formatting core for freestanding guest kernels: C99 vsnprintf/snprintf
 * semantics for the subset the guests use (see vsnprintf.c). No output device: callers
 * format into a buffer and hand it to their own console.
 */
#ifndef LIB_FMT_FMT_H
#define LIB_FMT_FMT_H

#include <stdarg.h>
#include <stddef.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
