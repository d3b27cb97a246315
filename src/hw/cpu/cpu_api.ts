/**
 * The host-side operations behind Cpu's public methods: reset, state writes with their
 * side effects, checked segment loads, control registers, MSRs, event injection, and
 * guest-linear memory access for the hypervisor (copy_to/from_guest).
 *
 * These never throw for guest-caused conditions: a fault the operation would raise is
 * returned as a value, and CPU state is unchanged when it fails.
 */
import type { Cpu } from './cpu.ts';
import { EV_INJECT, EV_INTR } from './cpu.ts';
import { EXC_EXIT, FAULT } from './fault.ts';
import { writeEflags } from './eflags.ts';
import { ACC_USER, ACC_WRITE, translate } from './paging.ts';
import { T_MMIO } from './tlb.ts';
import {
  A_UNUSABLE, descAttr, descBase, descHi, descLimit, descLo, loadSeg, protMode, readDescriptor, refreshAllSegs, setCpl,
  setSeg,
} from './seg.ts';
import { setCr0, setCr3, setCr4 } from './sys.ts';
import { msrRead, msrWrite } from './msr.ts';
import { readTsc } from './sys.ts';

/** A segment register's visible and hidden parts (attr in the VMX access-rights layout). */
export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  attr: number;
}

export type MsrResult = { ok: true; lo: number; hi: number } | { ok: false };

export type TranslateResult =
  | { ok: true; maddr: number; mmio: boolean }
  | { ok: false; vector: number; errorCode: number };

export function cpuReset(cpu: Cpu): void {
  cpu.regs.fill(0);
  const m = cpu.cpuidModel;
  cpu.regs[2] = (m.family << 8) | (m.model << 4) | m.stepping;
  cpu.eip = 0xfff0;
  cpu.flags = 2;
  cpu.lazy = 0;
  cpu.cr0 = 0x60000010;
  cpu.cr2 = 0;
  cpu.cr3 = 0;
  cpu.cr4 = 0;
  cpu.efer = 0;
  cpu.cpl = 0;
  for (let s = 0; s < 6; s++) setSeg(cpu, s, 0, 0, 0xffff, 0x93);
  setSeg(cpu, 1, 0xf000, 0xffff0000, 0xffff, 0x93);
  setSeg(cpu, 6, 0, 0, 0xffff, 0x82);
  setSeg(cpu, 7, 0, 0, 0xffff, 0x8b);
  cpu.gdtBase = 0;
  cpu.gdtLimit = 0xffff;
  cpu.idtBase = 0;
  cpu.idtLimit = 0xffff;
  cpu.dr.fill(0);
  cpu.dr[6] = 0xffff0ff0 | 0;
  cpu.dr[7] = 0x400;
  cpu.sysenterCs = 0;
  cpu.sysenterEsp = 0;
  cpu.sysenterEip = 0;
  cpu.apicBase = 0xfee00900 | 0;
  cpu.msrStore.clear();
  cpu.msrStore.set(0x277, [0x00070406, 0x00070406]);
  cpu.msrStore.set(0x1a0, [1, 0]);
  cpu.pdpte.fill(0);
  cpu.tscOffset = 0;
  cpu.tscOffset = 0 - readTsc(cpu); // TSC = 0 at reset (0 - x, never -0)
  cpu.halted = false;
  cpu.shutdown = false;
  cpu.intShadow = 0;
  cpu.taskTrap = false;
  cpu.nmiBlocked = false;
  cpu.nmiPending = false;
  cpu.injVector = -1;
  cpu.delivering = -1;
  cpu.pendingEvents = 0;
  if (cpu.fpu !== null) cpu.fpu.reset();
  refreshAllSegs(cpu);
  cpu.updateMasks();
  cpu.flushTlb();
}

export function cpuWriteEflags(cpu: Cpu, v: number, mask: number): void {
  writeEflags(cpu, v, mask);
  const pm = (cpu.cr0 & 1) !== 0;
  if (!pm) setCpl(cpu, 0);
}

export function cpuSetSegment(cpu: Cpu, sreg: number, s: SegmentState): void {
  if (!(sreg >= 0 && sreg < 8)) throw new RangeError(`segment register index ${sreg} is not 0..7`);
  setSeg(cpu, sreg, s.selector, s.base | 0, s.limit | 0, s.attr | 0);
  if (sreg === 1) {
    const v86 = (cpu.flags & 0x20000) !== 0;
    setCpl(cpu, (cpu.cr0 & 1) === 0 ? 0 : v86 ? 3 : s.selector & 3);
  }
}

function faultOf(cpu: Cpu, e: unknown): { vector: number; errorCode: number } {
  if (e !== FAULT) throw e;
  return { vector: cpu.excVec, errorCode: cpu.excErr };
}

export function cpuLoadSegment(cpu: Cpu, sreg: number, sel: number): { vector: number; errorCode: number } | null {
  try {
    if (sreg === 1) {
      loadCs(cpu, sel & 0xffff);
    } else if (sreg >= 0 && sreg < 6) {
      loadSeg(cpu, sreg, sel);
    } else {
      throw new RangeError(`loadSegment: ${sreg} is not a data/code segment register`);
    }
    return null;
  } catch (e) {
    return faultOf(cpu, e);
  }
}

/** Host load of CS: a present code segment; CPL becomes the selector's RPL. */
function loadCs(cpu: Cpu, sel: number): void {
  if (!protMode(cpu)) {
    setSeg(cpu, 1, sel, sel << 4, cpu.segLimit[1]!, cpu.segAttr[1]! & ~A_UNUSABLE);
    return;
  }
  const err = sel & 0xfffc;
  if (err === 0 || !readDescriptor(cpu, sel)) throw fault(cpu, 13, err);
  if ((descHi & 0x1800) !== 0x1800) throw fault(cpu, 13, err);
  if ((descHi & 0x8000) === 0) throw fault(cpu, 11, err);
  setSeg(cpu, 1, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
  setCpl(cpu, sel & 3);
}

function fault(cpu: Cpu, v: number, e: number): typeof FAULT {
  cpu.excVec = v;
  cpu.excErr = e;
  return FAULT;
}

function guarded(cpu: Cpu, f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e !== FAULT) throw e;
    return false;
  }
}

export function cpuSetCr0(cpu: Cpu, v: number): boolean {
  return guarded(cpu, () => setCr0(cpu, v));
}

export function cpuSetCr3(cpu: Cpu, v: number): boolean {
  return guarded(cpu, () => setCr3(cpu, v));
}

export function cpuSetCr4(cpu: Cpu, v: number): boolean {
  return guarded(cpu, () => setCr4(cpu, v));
}

export function cpuReadMsr(cpu: Cpu, idx: number): MsrResult {
  return msrRead(cpu, idx >>> 0) ? { ok: true, lo: cpu.msrLo >>> 0, hi: cpu.msrHi >>> 0 } : { ok: false };
}

export function cpuWriteMsr(cpu: Cpu, idx: number, lo: number, hi: number): boolean {
  return msrWrite(cpu, idx >>> 0, lo | 0, hi | 0);
}

export function cpuInjectEvent(cpu: Cpu, vector: number, type: number, errorCode: number, len: number): void {
  if (!(vector >= 0 && vector < 256)) throw new RangeError(`injectEvent: vector ${vector} is not 0..255`);
  if (![0, 2, 3, 4, 6].includes(type)) throw new RangeError(`injectEvent: type ${type} is not 0, 2, 3, 4 or 6`);
  cpu.injVector = vector;
  cpu.injType = type;
  cpu.injError = errorCode;
  cpu.injLength = len;
  cpu.pendingEvents |= EV_INJECT | EV_INTR;
}

export function cpuTranslate(cpu: Cpu, lin: number, write: boolean, user: boolean): TranslateResult {
  try {
    const e = translate(cpu, lin | 0, (write ? ACC_WRITE : 0) | (user ? ACC_USER : 0));
    return { ok: true, maddr: (((e & ~0xfff) ^ lin) >>> 0), mmio: (e & T_MMIO) !== 0 };
  } catch (e) {
    if (e !== FAULT) throw e;
    if (cpu.excVec === EXC_EXIT) return { ok: false, vector: -1, errorCode: -1 };
    return { ok: false, vector: cpu.excVec, errorCode: cpu.excErr };
  }
}

export function cpuReadLinear(cpu: Cpu, lin: number, out: Uint8Array, user: boolean): boolean {
  let done = 0;
  while (done < out.length) {
    const a = (lin + done) | 0;
    const n = Math.min(out.length - done, 0x1000 - (a & 0xfff));
    const t = cpuTranslate(cpu, a, false, user);
    if (!t.ok) return false;
    if (t.mmio) {
      for (let k = 0; k < n; k++) out[done + k] = cpu.mmio.read(t.maddr + k, 1);
    } else {
      out.set(cpu.memU8.subarray(t.maddr, t.maddr + n), done);
    }
    done += n;
  }
  return true;
}

export function cpuWriteLinear(cpu: Cpu, lin: number, data: Uint8Array, user: boolean): boolean {
  // translate every page first so a failure writes nothing
  for (let done = 0; done < data.length;) {
    const a = (lin + done) | 0;
    const n = Math.min(data.length - done, 0x1000 - (a & 0xfff));
    if (!cpuTranslate(cpu, a, true, user).ok) return false;
    done += n;
  }
  for (let done = 0; done < data.length;) {
    const a = (lin + done) | 0;
    const n = Math.min(data.length - done, 0x1000 - (a & 0xfff));
    const t = cpuTranslate(cpu, a, true, user);
    if (!t.ok) return false;
    if (t.mmio) {
      for (let k = 0; k < n; k++) cpu.mmio.write(t.maddr + k, 1, data[done + k]!);
    } else {
      cpu.memU8.set(data.subarray(done, done + n), t.maddr);
      cpu.mem.notifyWritten(t.maddr, n);
    }
    done += n;
  }
  return true;
}
