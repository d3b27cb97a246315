/**
 * Test scaffolding for hypervisor unit tests: a small machine with a virtual clock, a
 * hypervisor on it, and helpers to build PV domains and write page-table entries directly
 * into machine memory (what a guest would have written before asking Xen to validate).
 * Used only by *.test.ts files and system tests; nothing in the hypervisor imports it.
 */
import { MachineMemory } from '../../hw/memory/machine_memory.ts';
import { VirtualClock } from '../../hw/clock.ts';
import { Xen } from '../xen.ts';
import type { Domain } from '../common/domain.ts';
import { assert } from '../util/assert.ts';

export function makeXen(mib = 16): Xen {
  const memory = new MachineMemory(mib * 1024 * 1024);
  return new Xen({ memory, clock: new VirtualClock(), wallclockBaseNs: 1_700_000_000e9 });
}

/** A PV domain with `vcpus` vCPUs and room for `maxPages` frames. */
export function makePvDomain(xen: Xen, maxPages = 1024, vcpus = 1): Domain {
  const d = xen.createDomain({ kind: 'pv' });
  assert(typeof d !== 'number', () => `createDomain failed: ${String(d)}`);
  d.maxPages = maxPages;
  assert(xen.setMaxVcpus(d, vcpus) === 0, 'setMaxVcpus');
  return d;
}

/** One fresh, zeroed frame of `d`. */
export function frame(xen: Xen, d: Domain): number {
  const f = xen.mm.allocDomainPages(d, 0);
  assert(f >= 0, 'out of memory');
  return f;
}

/** Write PAE entry `i` of table frame `t`. */
export function setEntry(xen: Xen, t: number, i: number, lo: number, hi = 0): void {
  xen.mem.view.setInt32(t * 4096 + i * 8, lo | 0, true);
  xen.mem.view.setInt32(t * 4096 + i * 8 + 4, hi | 0, true);
}

export function entryLo(xen: Xen, t: number, i: number): number {
  return xen.mem.view.getInt32(t * 4096 + i * 8, true);
}

/** A PTE naming frame `mfn` with the low flag bits `flags`. */
export const pte = (mfn: number, flags: number): number => (mfn * 4096) | flags;
