/**
 * CPU state snapshots for save/restore and migration: a named, versioned plain object
 * (JSON-safe numbers only; unsigned 32-bit values as non-negative numbers). Decoded code,
 * the TLB and other caches are not state: loading a snapshot flushes them.
 */
import type { Cpu } from './cpu.ts';
import type { FpuSnapshot } from './fpu/fpu.ts';
import { getEflags } from './flags.ts';
import { refreshAllSegs, setSeg } from './seg.ts';

export interface SegmentSnapshot {
  readonly selector: number;
  readonly base: number;
  readonly limit: number;
  readonly attr: number;
}

export interface CpuSnapshot {
  readonly kind: 'ia32-cpu';
  readonly version: 1;
  readonly regs: readonly number[];
  readonly eip: number;
  readonly eflags: number;
  /** ES CS SS DS FS GS LDTR TR */
  readonly segs: readonly SegmentSnapshot[];
  readonly gdt: { readonly base: number; readonly limit: number };
  readonly idt: { readonly base: number; readonly limit: number };
  readonly cr0: number;
  readonly cr2: number;
  readonly cr3: number;
  readonly cr4: number;
  readonly dr: readonly number[];
  readonly efer: number;
  readonly sysenter: { readonly cs: number; readonly esp: number; readonly eip: number };
  readonly apicBase: number;
  readonly msrs: readonly (readonly [number, number, number])[];
  readonly tscOffset: number;
  /** Clock cycles at the last TSC read (RDTSC never repeats); absent or null: none yet. */
  readonly tscCycles?: number | null;
  readonly cpl: number;
  readonly a20: boolean;
  readonly pdpte: readonly number[];
  readonly halted: boolean;
  readonly shutdown: boolean;
  readonly intShadow: number;
  readonly nmiBlocked: boolean;
  readonly nmiPending: boolean;
  readonly injection: { readonly vector: number; readonly type: number; readonly errorCode: number; readonly length: number } | null;
  readonly instructions: number;
  readonly fpu: FpuSnapshot | null;
}

const u = (n: number): number => n >>> 0;

export function saveCpuState(cpu: Cpu): CpuSnapshot {
  const segs: SegmentSnapshot[] = [];
  for (let s = 0; s < 8; s++) {
    segs.push({ selector: cpu.segSel[s]! & 0xffff, base: u(cpu.segBase[s]!), limit: u(cpu.segLimit[s]!), attr: cpu.segAttr[s]! });
  }
  return {
    kind: 'ia32-cpu',
    version: 1,
    regs: Array.from(cpu.regs, u),
    eip: u(cpu.eip),
    eflags: u(getEflags(cpu)),
    segs,
    gdt: { base: u(cpu.gdtBase), limit: cpu.gdtLimit & 0xffff },
    idt: { base: u(cpu.idtBase), limit: cpu.idtLimit & 0xffff },
    cr0: u(cpu.cr0), cr2: u(cpu.cr2), cr3: u(cpu.cr3), cr4: u(cpu.cr4),
    dr: Array.from(cpu.dr, u),
    efer: u(cpu.efer),
    sysenter: { cs: cpu.sysenterCs & 0xffff, esp: u(cpu.sysenterEsp), eip: u(cpu.sysenterEip) },
    apicBase: u(cpu.apicBase),
    msrs: [...cpu.msrStore.entries()].map(([k, v]) => [k, u(v[0]), u(v[1])] as const),
    tscOffset: cpu.tscOffset,
    tscCycles: Number.isFinite(cpu.tscCycles) ? cpu.tscCycles : null,
    cpl: cpu.cpl,
    a20: cpu.a20Mask === -1,
    pdpte: Array.from(cpu.pdpte, u),
    halted: cpu.halted,
    shutdown: cpu.shutdown,
    intShadow: cpu.intShadow,
    nmiBlocked: cpu.nmiBlocked,
    nmiPending: cpu.nmiPending,
    injection: cpu.injVector >= 0
      ? { vector: cpu.injVector, type: cpu.injType, errorCode: cpu.injError, length: cpu.injLength }
      : null,
    instructions: cpu.instructions,
    fpu: cpu.fpu !== null ? cpu.fpu.serialize() : null,
  };
}

function need(cond: boolean, what: string): void {
  if (!cond) throw new Error(`CPU snapshot: ${what}`);
}

export function loadCpuState(cpu: Cpu, s: CpuSnapshot): void {
  need(s.kind === 'ia32-cpu' && s.version === 1, `unsupported kind/version ${String(s.kind)}/${String(s.version)}`);
  need(s.regs.length === 8 && s.segs.length === 8 && s.dr.length === 8 && s.pdpte.length === 8, 'array lengths');
  need(s.cpl >= 0 && s.cpl <= 3, `cpl ${s.cpl}`);
  need((s.fpu === null) === (cpu.fpu === null), 'x87 presence differs from this CPU');
  for (let i = 0; i < 8; i++) cpu.regs[i] = s.regs[i]! | 0;
  cpu.eip = s.eip | 0;
  cpu.flags = (s.eflags | 2) & 0x3f7fd7;
  cpu.lazy = 0;
  cpu.cr0 = s.cr0 | 0; cpu.cr2 = s.cr2 | 0; cpu.cr3 = s.cr3 | 0; cpu.cr4 = s.cr4 | 0;
  for (let i = 0; i < 8; i++) {
    const g = s.segs[i]!;
    setSeg(cpu, i, g.selector, g.base | 0, g.limit | 0, g.attr | 0);
  }
  cpu.gdtBase = s.gdt.base | 0; cpu.gdtLimit = s.gdt.limit & 0xffff;
  cpu.idtBase = s.idt.base | 0; cpu.idtLimit = s.idt.limit & 0xffff;
  for (let i = 0; i < 8; i++) cpu.dr[i] = s.dr[i]! | 0;
  cpu.efer = s.efer | 0;
  cpu.sysenterCs = s.sysenter.cs; cpu.sysenterEsp = s.sysenter.esp | 0; cpu.sysenterEip = s.sysenter.eip | 0;
  cpu.apicBase = s.apicBase | 0;
  cpu.msrStore.clear();
  for (const [k, lo, hi] of s.msrs) cpu.msrStore.set(k, [lo | 0, hi | 0]);
  cpu.tscOffset = s.tscOffset;
  cpu.tscCycles = typeof s.tscCycles === 'number' ? s.tscCycles : -Infinity;
  cpu.cpl = s.cpl;
  cpu.a20Mask = s.a20 ? -1 : ~(1 << 20);
  for (let i = 0; i < 8; i++) cpu.pdpte[i] = s.pdpte[i]! | 0;
  cpu.halted = s.halted;
  cpu.shutdown = s.shutdown;
  cpu.intShadow = s.intShadow;
  cpu.nmiBlocked = s.nmiBlocked;
  cpu.nmiPending = s.nmiPending;
  if (s.injection) {
    cpu.injVector = s.injection.vector; cpu.injType = s.injection.type;
    cpu.injError = s.injection.errorCode; cpu.injLength = s.injection.length;
  } else {
    cpu.injVector = -1;
  }
  cpu.instructions = s.instructions;
  if (cpu.fpu !== null && s.fpu !== null) cpu.fpu.restore(s.fpu);
  refreshAllSegs(cpu);
  cpu.updateMasks();
  cpu.flushTlb();
  cpu.pendingEvents = 0x1 | 0x2 | 0x10 | 0x20 | (cpu.halted ? 0x80 : 0); // re-examine everything
}
