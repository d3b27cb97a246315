/*
 * The benchmark kernel: runs the workload (workload.c) for iters=N iterations from the
 * Multiboot command line (default WORKLOAD_DEFAULT_ITERS) in 10 chunks and reports on COM1:
 *     BENCH START iters=N
 *     progress k/10
 *     BENCH DONE <checksum, 8 hex digits>
 * then exits through the debug-exit port with 0. The checksum for a given N is recorded
 * in guests/bench/expected.json (computed by QEMU and the native build alike).
 */
#include "bare/bare.h"
#include "bare/mb.h"
#include "bench/workload.h"

int kmain(uint32_t magic, uint32_t info);

int kmain(uint32_t magic, uint32_t info)
{
    uint32_t iters = cmdline_uint(mb_cmdline(magic, info), "iters", WORKLOAD_DEFAULT_ITERS);
    kprintf("BENCH START iters=%u\n", iters);
    workload_init();
    uint32_t state = 0;
    for (uint32_t c = 0; c < WORKLOAD_CHUNKS; c++) {
        uint32_t lo = (uint32_t)((uint64_t)iters * c / WORKLOAD_CHUNKS);
        uint32_t hi = (uint32_t)((uint64_t)iters * (c + 1) / WORKLOAD_CHUNKS);
        state = workload_run(state, hi - lo);
        kprintf("progress %u/%u\n", c + 1, WORKLOAD_CHUNKS);
    }
    kprintf("BENCH DONE %08x\n", state);
    return 0;
}
