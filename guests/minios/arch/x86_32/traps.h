/* Trap table, exception reports and the upcall frame (see entry.S for the layout). */
#ifndef MINIOS_TRAPS_H
#define MINIOS_TRAPS_H
#include "minios/kernel/kernel.h"

struct trap_frame {
    uint32_t edi, esi, ebp, esp_at_pushal, ebx, edx, ecx, eax;   /* pushal */
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags;                                     /* Xen's bounce frame */
};

void trap_init(void);
/* The 20-entry exception table, for VCPUOP_initialise of secondary vCPUs. */
void trap_fill_context(struct trap_info *ctxt256);
void hypervisor_callback(void);
void failsafe_callback(void);

#endif
