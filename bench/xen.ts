/**
 * xen: the hypervisor's hot paths, measured with tiny PV kernels (bench/xen_kernel.ts) on
 * the embedded host (virtual clock, one guest, dom0 idle):
 *
 *   baseline     the same loop with `int $0x82` replaced by two NOPs: what the CPU alone
 *                costs per iteration (mov/xor/dec/jnz)
 *   xen_version  the null hypercall round trip: int 0x82 exit, dispatch, XENVER_version,
 *                back into the guest (ns per call = loop ns - baseline ns)
 *   mmu_update   batched page-table updates: 256 requests per call, each re-pointing an
 *                L1 entry at another data frame (get_page_from_l1e of the new frame, put of
 *                the old), alternating between two request arrays
 *
 * Times are host wall time from unpausing the guest to its shutdown, best of
 * TSXEN_BENCH_RUNS (default 3) runs. Iterations: TSXEN_XEN_ITERS (default 2000000 calls; enough for the CPU JIT to warm up).
 */
import type { BenchSuite } from './index.ts';
import { Host } from '../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../src/dom0/toolstack/xl_config.ts';
import type { GuestExit } from '../src/dom0/toolstack/toolstack.ts';
import { asm, LOAD_ADDR, pvKernel, shutdown } from './xen_kernel.ts';

const DOMID_SELF = 0x7ff0;
const MMU_BATCH = 256;
/** Scratch pages in the kernel's bss: request arrays and the zero shutdown reason. */
const REQ_A = LOAD_ADDR + 0x1000, REQ_B = REQ_A + 0x1000, REASON = REQ_B + 0x1000;
/** Pages whose PTEs the mmu_update loop rewrites, and the frames it points them at. */
const TARGET_VA = 0x200000, OTHER_VA = 0x300000;

/** A loop of `iters` iterations around `body`, then shutdown. */
function loopKernel(iters: number, body: readonly number[]): Uint8Array {
  const code: number[] = [...asm.movEdi(iters)];
  const top = code.length;
  code.push(...body, ...asm.decEdi);
  code.push(...asm.jnz(code.length, top));
  code.push(...shutdown(REASON));
  return pvKernel(code, 3);
}

const nullCall = [...asm.movEax(17), ...asm.xorEbx, ...asm.xorEcx, ...asm.int82];
const nullLoop = [...asm.movEax(17), ...asm.xorEbx, ...asm.xorEcx, ...asm.nop2];
const mmuCall = (reqs: number): number[] =>
  [...asm.movEax(1), ...asm.movEbx(reqs), ...asm.movEcx(MMU_BATCH), ...asm.xorEdx, ...asm.movEsi(DOMID_SELF), ...asm.int82];

interface Run {
  readonly ms: number;
  readonly instructions: number;
}

async function run(kernel: Uint8Array, prepare?: (h: Host, domid: number) => void): Promise<Run> {
  const h = new Host({ memoryMiB: 64, wallclockBaseNs: 1_700_000_000e9 });
  const cfg = pvConfig(parseXlConfig('name="bench"\nkernel="bench"\nmemory=16'));
  const g = h.toolstack.createPv(cfg, kernel, { paused: true });
  prepare?.(h, g.domid);
  let exit: GuestExit | null = null;
  g.onExit((e) => (exit = e));
  const i0 = h.xen.pv.instructions;
  const t0 = performance.now();
  h.toolstack.unpause(g.domid);
  const end = await h.runUntil(() => exit !== null, { sliceNs: 50_000_000 });
  const ms = performance.now() - t0;
  if (end !== 'done' || exit === null || (exit as GuestExit).reason !== 0) {
    throw new Error(`bench guest did not power off: ${end} ${JSON.stringify(exit)}\n${h.xen.console.text()}`);
  }
  return { ms, instructions: h.xen.pv.instructions - i0 };
}

/** Fill the two request arrays: A points each target PTE at its own frame, B at another's. */
function prepareMmu(h: Host, domid: number): void {
  const d = h.xen.domain(domid)!;
  const v = d.vcpus[0]!;
  const mem = h.xen.mem.view;
  const mfnOf = (va: number): number => {
    const ma = h.xen.pv.l1eMaddr(v, va);
    return mem.getUint32(ma, true) >>> 12;
  };
  const writeReqs = (arrayVa: number, frameFor: (i: number) => number): void => {
    const base = mfnOf(arrayVa) * 4096;
    for (let i = 0; i < MMU_BATCH; i++) {
      const pteMa = h.xen.pv.l1eMaddr(v, TARGET_VA + i * 4096);
      mem.setUint32(base + i * 16, pteMa, true); // MMU_NORMAL_PT_UPDATE (0) | machine address
      mem.setUint32(base + i * 16 + 4, 0, true);
      mem.setUint32(base + i * 16 + 8, (frameFor(i) * 4096) | 0x67, true); // P RW US A D
      mem.setUint32(base + i * 16 + 12, 0, true);
    }
  };
  writeReqs(REQ_A, (i) => mfnOf(TARGET_VA + i * 4096));
  writeReqs(REQ_B, (i) => mfnOf(OTHER_VA + i * 4096));
}

async function best(runs: number, f: () => Promise<Run>): Promise<Run> {
  let b: Run | null = null;
  for (let i = 0; i < runs; i++) {
    const r = await f();
    if (b === null || r.ms < b.ms) b = r;
  }
  return b!;
}

export const xenSuite: BenchSuite = {
  name: 'xen',
  description: 'null hypercall round trip (xen_version) and batched mmu_update, against the bare CPU loop',
  async run(log) {
    const iters = Number(process.env.TSXEN_XEN_ITERS ?? 2_000_000);
    const runs = Number(process.env.TSXEN_BENCH_RUNS ?? 3);
    const base = await best(runs, () => run(loopKernel(iters, nullLoop)));
    const call = await best(runs, () => run(loopKernel(iters, nullCall)));
    const baseNs = (base.ms * 1e6) / iters;
    const callNs = (call.ms * 1e6) / iters;
    log(`baseline loop: ${baseNs.toFixed(1)} ns/iteration (${(base.instructions / iters).toFixed(1)} instructions, ` +
      `${(base.instructions / base.ms / 1000).toFixed(1)} MIPS)`);
    log(`xen_version: ${(callNs - baseNs).toFixed(0)} ns per hypercall round trip ` +
      `(${callNs.toFixed(0)} ns with the loop; ${((iters / call.ms) * 1000 / 1e6).toFixed(2)} M calls/s)`);
    const mmuIters = Math.max(1, Math.floor(iters / 200));
    const mmu = await best(runs, () => run(loopKernel(mmuIters, [...mmuCall(REQ_B), ...mmuCall(REQ_A)]), prepareMmu));
    const updates = mmuIters * 2 * MMU_BATCH;
    log(`mmu_update: ${((updates / mmu.ms) * 1000 / 1e6).toFixed(2)} M updates/s (${((mmu.ms * 1e6) / updates).toFixed(0)} ns ` +
      `per validated PTE update, batches of ${MMU_BATCH}; ${mmuIters * 2} calls)`);
  },
};
