/**
 * Put a CPU straight into a flat protected-mode state without a GDT walk: the state a
 * Multiboot loader hands over (ring 0), or the user-mode state a differential test starts
 * from (ring 3). Segment hidden parts are loaded verbatim; selectors are the conventional
 * ones (code 0x08/0x1b, data 0x10/0x23) and need no descriptors in memory until the guest
 * reloads them. Paging stays as it is (off after reset).
 */
import type { Cpu } from './cpu.ts';
import { refreshAllSegs, setCpl, setSeg } from './seg.ts';

export interface FlatModeOptions {
  /** Privilege level 0..3 (default 0). */
  cpl?: number;
  /** EFLAGS to set (default 0x2: interrupts off). */
  eflags?: number;
}

export function setFlatProtectedMode(cpu: Cpu, opts: FlatModeOptions = {}): void {
  const cpl = opts.cpl ?? 0;
  if (!(cpl >= 0 && cpl <= 3)) throw new RangeError(`cpl ${cpl} is not 0..3`);
  cpu.cr0 = (cpu.cr0 | 1) & ~0x60000000;
  cpu.flags = ((opts.eflags ?? 2) | 2) & ~0x20000;
  cpu.lazy = 0;
  const dpl = cpl << 5;
  const code = 0xc09b | dpl; // present, code exec/read accessed, 32-bit, 4 KiB granular
  const data = 0xc093 | dpl; // present, data read/write accessed, big, 4 KiB granular
  const csSel = cpl === 0 ? 0x08 : 0x18 | cpl;
  const dsSel = cpl === 0 ? 0x10 : 0x20 | cpl;
  setSeg(cpu, 1, csSel, 0, -1, code);
  for (const s of [0, 2, 3, 4, 5]) setSeg(cpu, s, dsSel, 0, -1, data);
  setCpl(cpu, cpl);
  refreshAllSegs(cpu);
  cpu.updateMasks();
  cpu.flushTlb();
}
