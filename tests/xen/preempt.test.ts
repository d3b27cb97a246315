/**
 * Long hypercalls are preempted and continued as on Xen (hypercall_create_continuation):
 * a 50000-request mmu_update and a 10000-entry multicall run to completion with the right
 * results, but in many slices, so timers, other vCPUs and the host keep running.
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import type { GuestExit } from '../../src/dom0/toolstack/toolstack.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { asm, LOAD_ADDR, pvKernel, shutdown } from '../../bench/xen_kernel.ts';
import { HC_PREEMPT_UNITS } from '../../src/xen/arch/x86/hypercall.ts';

const ARRAY = 0x200000; // in the boot region: 2 MiB mapped read-write
const PDONE = LOAD_ADDR + 0x1000, RESULT = LOAD_ADDR + 0x1004, REASON = LOAD_ADDR + 0x2000;
const movToMem = (va: number): number[] => [0xa3, va & 0xff, (va >>> 8) & 0xff, (va >>> 16) & 0xff, va >>> 24];

async function runOne(code: number[], fill: (h: Host, domid: number) => void): Promise<{ h: Host; domid: number; slices: number }> {
  const h = new Host({ memoryMiB: 64, wallclockBaseNs: 1_700_000_000e9 });
  const g = h.toolstack.createPv(pvConfig(parseXlConfig('name="p"\nkernel="p"\nmemory=16\non_poweroff="preserve"')),
    pvKernel([...code, ...movToMem(RESULT), ...shutdown(REASON)], 2), { paused: true });
  fill(h, g.domid);
  let slices = 0;
  const pv = h.xen.pv;
  const run = pv.runVcpu.bind(pv);
  pv.runVcpu = (v, b): void => {
    slices++;
    run(v, b);
  };
  let exit: GuestExit | null = null;
  g.onExit((e) => (exit = e));
  h.toolstack.unpause(g.domid);
  await h.runUntil(() => exit !== null, { timeoutMs: 60_000 });
  expect(exit).toEqual({ reason: 0, action: 'preserve' });
  return { h, domid: g.domid, slices };
}

/** Guest word at `va` (through its own tables). */
function peek(h: Host, domid: number, va: number): number {
  const v = h.xen.domain(domid)!.vcpus[0]!;
  const ma = h.xen.pv.l1eMaddr(v, va);
  const mfn = h.xen.mem.view.getUint32(ma, true) >>> 12;
  return h.xen.mem.view.getUint32(mfn * 4096 + (va & 0xfff), true);
}

function poke(h: Host, domid: number, va: number, x: number): void {
  const v = h.xen.domain(domid)!.vcpus[0]!;
  const ma = h.xen.pv.l1eMaddr(v, va);
  const mfn = h.xen.mem.view.getUint32(ma, true) >>> 12;
  h.xen.mem.view.setUint32(mfn * 4096 + (va & 0xfff), x >>> 0, true);
}

describe('hypercall continuations', () => {
  it('continues a long mmu_update and reports every request done', async () => {
    const N = 50_000;
    const code = [...asm.movEax(1), ...asm.movEbx(ARRAY), ...asm.movEcx(N), 0xba, ...[PDONE & 0xff, (PDONE >>> 8) & 0xff,
      (PDONE >>> 16) & 0xff, PDONE >>> 24], ...asm.movEsi(0x7ff0), ...asm.int82];
    const { h, domid, slices } = await runOne(code, (hh, id) => {
      const p2m = hh.toolstack.guest(id)!.built.p2m;
      for (let i = 0; i < N; i++) {
        const pfn = i % p2m.length;
        // MMU_MACHPHYS_UPDATE of a frame to its own PFN: valid and harmless.
        poke(hh, id, ARRAY + i * 16, (p2m[pfn]! * 4096) | 1);
        poke(hh, id, ARRAY + i * 16 + 4, 0);
        poke(hh, id, ARRAY + i * 16 + 8, pfn);
        poke(hh, id, ARRAY + i * 16 + 12, 0);
      }
    });
    expect(peek(h, domid, RESULT)).toBe(0);
    expect(peek(h, domid, PDONE)).toBe(N);
    expect(slices).toBeGreaterThanOrEqual(Math.floor(N / HC_PREEMPT_UNITS));
    expect(auditMemory(h.xen)).toEqual([]);
  }, 120_000);

  it('continues a long multicall between entries', async () => {
    const N = 10_000;
    const code = [...asm.movEax(13), ...asm.movEbx(ARRAY), ...asm.movEcx(N), ...asm.int82];
    const { h, domid, slices } = await runOne(code, (hh, id) => {
      for (let i = 0; i < N; i++) {
        // xen_version(XENVER_version, NULL): 0x0004_0011.
        poke(hh, id, ARRAY + i * 32, 17);
        for (let k = 1; k < 8; k++) poke(hh, id, ARRAY + i * 32 + k * 4, k === 1 ? 0xdead : 0);
      }
    });
    expect(peek(h, domid, RESULT)).toBe(0);
    for (const i of [0, 1, 4095, 4096, 4097, N - 1]) expect(peek(h, domid, ARRAY + i * 32 + 4)).toBe(0x40011);
    expect(slices).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
