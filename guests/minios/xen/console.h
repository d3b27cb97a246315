/*
 * The PV console frontend: the xencons_interface ring named by start_info
 * (console.domU.mfn / evtchn), output and keyboard input.
 *
 * Invariants: this side writes only out[], out_prod and in_cons; indices are
 * free-running and checked for sanity (a backend that publishes prod - cons beyond the
 * buffer size is treated as broken: output is dropped, input discarded). Output never
 * blocks forever: when the backend stops draining, bytes are dropped and counted.
 * "\n" is sent as "\r\n" (the backend hands bytes to a terminal unchanged).
 */
#ifndef MINIOS_CONSOLE_H
#define MINIOS_CONSOLE_H
#include "minios/kernel/kernel.h"

void console_init(void);
void console_resume(void);
void console_prepare_suspend(void);
void console_write(const char *s, unsigned len);
void console_write_emergency(const char *s, unsigned len);
void console_flush(void);
/* Also copy all output to Xen's console (console_io), for debugging. */
extern int console_mirror_xen;
/* Keyboard input collected by the console poller; -1 when none. */
int console_getc(void);
int console_has_input(void *unused);
extern uint32_t console_dropped;

#endif
