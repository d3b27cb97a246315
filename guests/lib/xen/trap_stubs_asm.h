/*
 * GNU as macros that generate a PV kernel's per-vector trap entry stubs and their address
 * table (include from a .S file; callers switch on .altmacro around the expansions, which
 * count with %(expr)). The stubs make every frame uniform: a zero error code where the
 * CPU pushes none, then the vector number, then a jump to the kernel's common path, which
 * owns the frame layout beyond those two words and the return through HYPERVISOR_iret.
 *
 * Recursion: one macro level per vector, so callers expand at most 64 vectors per call.
 */
#ifndef LIB_XEN_TRAP_STUBS_ASM_H
#define LIB_XEN_TRAP_STUBS_ASM_H

/* Vectors for which the CPU pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP. */
#define X86_HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)

    /* Stubs for vectors from..to, labelled <prefix><vector>, each aligned to align. */
    .macro trap_stub_range prefix, common, align, from, to
    .balign \align
\prefix\from:
    .if X86_HAS_ERROR_CODE(\from)
    .else
    pushl $0
    .endif
    pushl $\from
    jmp \common
    .if \to - \from
    trap_stub_range \prefix, \common, \align, %(\from + 1), \to
    .endif
    .endm

    /* The stubs' addresses for vectors from..to, one .long each (a trap table's source). */
    .macro trap_stub_addr_range prefix, from, to
    .long \prefix\from
    .if \to - \from
    trap_stub_addr_range \prefix, %(\from + 1), \to
    .endif
    .endm

#endif
