/*
 * The CPU-bound benchmark workload. The same object file (build/obj/bench/workload.c.o)
 * is linked into the Multiboot kernel (bench.elf) and into a native Linux i386 program
 * (bench-native32), so an instruction count taken natively with callgrind holds for the
 * kernel too. Nothing in the result depends on where the code or data were loaded.
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H
#include <stdint.h>

#define WORKLOAD_DEFAULT_ITERS 1000000u
#define WORKLOAD_CHUNKS 10u

/* Resets every table the workload uses; call once before the first workload_run. */
void workload_init(void);
/* Runs iters iterations continuing from state; returns the new state (the checksum after
 * the last call). Splitting N iterations over several calls gives the same result. */
uint32_t workload_run(uint32_t state, uint32_t iters);
/* Bytes moved by REP MOVSB in the first n iterations (callgrind counts each one). */
uint64_t workload_rep_bytes(uint64_t n);
#endif
