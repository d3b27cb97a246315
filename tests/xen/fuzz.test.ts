/**
 * Seeded fuzzing of the hypercall interface: a real PV domain (a PV test kernel built by
 * the toolstack, so it has page tables, a GDT, a console and event channels) receives
 * thousands of hypercalls with random numbers and arguments, issued from its own vCPU as
 * if by `int $0x82`, with its free memory filled with random but plausible structures
 * (machine frames of its own, PTE-shaped words, pointers into itself, the hypervisor hole).
 * Between batches the guest runs (and may well crash). Whatever happens, the hypervisor
 * must neither throw nor hang, the memory audit must stay clean, and after the domain is
 * destroyed every frame must be back in the heap.
 *
 *   FUZZ_SEED=n FUZZ_CALLS=n   reproduce / lengthen a run
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import { dispatch } from '../../src/xen/arch/x86/hypercall.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import type { Guest } from '../../src/dom0/toolstack/toolstack.ts';

const KERNEL = join(import.meta.dirname, '..', '..', 'guests', 'build', 'pv-mmu_update.elf');

/** xorshift32: small, fast, reproducible. */
class Rng {
  constructor(private _s: number) {
    if (this._s === 0) this._s = 0x9e3779b9;
  }
  u32(): number {
    let x = this._s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this._s = x >>> 0;
    return this._s;
  }
  below(n: number): number {
    return this.u32() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.below(a.length)]!;
  }
}

interface Target {
  readonly guest: Guest;
  readonly freeStart: number;
  readonly freeEnd: number;
  readonly mfns: readonly number[];
}

function create(host: Host, n: number): Target {
  const cfg = pvConfig(parseXlConfig(`name="fuzz${n}"\nkernel="${KERNEL}"\nmemory=32\nvcpus=2\non_crash="destroy"`));
  const guest = host.toolstack.createPv(cfg, new Uint8Array(readFileSync(KERNEL)), { paused: true });
  const l = guest.built.layout!;
  // Arguments point into 64 free pages above the boot stack (the rest of memory is
  // reachable through the machine addresses and PTEs the words name).
  const freeStart = l.stackVa + 4096;
  return { guest, freeStart, freeEnd: Math.min(l.bootEnd, freeStart + 64 * 4096), mfns: guest.built.p2m };
}

/** A word a hypercall argument or a struct field might plausibly hold. */
function word(r: Rng, t: Target): number {
  switch (r.below(10)) {
    case 0: return 0;
    case 1: return r.below(64);
    case 2: return (r.pick(t.mfns) * 4096 + r.below(512) * 8) | r.below(8); // an entry's address + cmd
    case 3: return (r.pick(t.mfns) * 4096) | r.pick([0x1, 0x3, 0x23, 0x63, 0x67, 0x7, 0x9f, 0x101]); // a PTE
    case 4: return r.pick(t.mfns);
    case 5: return t.freeStart + r.below(t.freeEnd - t.freeStart);
    case 6: return r.pick([0xf5800000, 0xffe00000, 0xfffff000, 0xfffffffc, 0x100000, 0x1000, 0x7ff0, 0x0fff]);
    case 7: return r.pick([0x7fff, 0x7ff0, 0xfff0, 0x8000, 0x7ffe]); // domids incl. DOMID_SELF/IO/XEN
    case 8: return -r.below(5) >>> 0;
    default: return r.u32();
  }
}

/** Fill the guest's free region with structures made of plausible words. */
function scribble(host: Host, r: Rng, t: Target): void {
  const mem = host.xen.mem;
  const v0 = t.guest.built.layout!.virtBase;
  for (let va = t.freeStart; va < t.freeEnd; va += 4096) {
    const mfn = t.mfns[(va - v0) / 4096]!;
    for (let o = 0; o < 4096; o += 4) mem.view.setUint32(mfn * 4096 + o, word(r, t), true);
  }
}

function gone(host: Host, t: Target): boolean {
  const d = host.xen.domain(t.guest.domid);
  return d === undefined || d.dying || d.isShutDown;
}

describe('hypercall fuzzing', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20261128);
  const calls = Number(process.env.FUZZ_CALLS ?? 20000);
  it.skipIf(!existsSync(KERNEL))(`survives ${calls} random hypercalls (seed ${seed})`, async () => {
    const r = new Rng(seed);
    const host = new Host({ memoryMiB: 128, wallclockBaseNs: 1_700_000_000e9 });
    const freeAtStart = host.xen.mm.freePages;
    let t = create(host, 0);
    let domains = 1;
    let slowest = 0;
    scribble(host, r, t);
    for (let i = 0; i < calls; i++) {
      if (gone(host, t)) {
        host.toolstack.destroy(t.guest.domid);
        expect(auditMemory(host.xen), `audit after destroying domain ${domains}`).toEqual([]);
        t = create(host, domains++);
        scribble(host, r, t);
      }
      const d = host.xen.domain(t.guest.domid)!;
      const v = d.vcpus[r.below(8) === 0 && d.vcpus.length > 1 ? 1 : 0]!;
      const nr = r.below(20) === 0 ? r.u32() % 256 : r.below(48);
      const a = [word(r, t), word(r, t), word(r, t), word(r, t), word(r, t)];
      if (r.below(3) === 0) a[0] = r.below(40); // sub-op
      const t0 = performance.now();
      try {
        dispatch(host.xen, v, nr, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!);
      } catch (e) {
        throw new Error(`hypercall ${nr}(${a.map((x) => x.toString(16)).join(', ')}) #${i} threw: ${(e as Error).stack}`);
      }
      slowest = Math.max(slowest, performance.now() - t0);
      if (i % 250 === 249) {
        host.xen.unpauseDomain(d);
        await host.runUntil(() => true, { sliceNs: 200_000 });
        host.step(500_000);
        if (!gone(host, t)) host.xen.pauseDomain(d);
        expect(auditMemory(host.xen), `audit after call ${i}`).toEqual([]);
        if (r.below(4) === 0) scribble(host, r, t);
      }
    }
    host.toolstack.destroy(t.guest.domid);
    expect(auditMemory(host.xen)).toEqual([]);
    expect([...host.xen.domains].map((x) => x.domid)).toEqual([0]);
    expect(host.xen.mm.freePages).toBe(freeAtStart);
    // No single call may take long (a hang in disguise).
    expect(slowest).toBeLessThan(2000);
  }, 300_000);
});
