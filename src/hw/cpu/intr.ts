/**
 * Event delivery: exceptions, external interrupts, NMI and software interrupts, in real,
 * protected and virtual-8086 mode, with double and triple fault, and the PV/HVM exits.
 *
 * The caller sets Cpu.eip first: the faulting instruction for faults, the next instruction
 * for traps and INT n (and `softLen` to the INT instruction's length). deliverEvent then:
 *  - PV: records an EXCEPTION or SOFT_INT exit (after the INT n gate-DPL check from
 *    ExecControls.softIntDpl) and sets EV_EXIT; no IDT is read. For #PF, CR2 is loaded.
 *  - HVM with the vector in the exception bitmap: records EXCEPTION and exits (CR2 is not
 *    touched; the exit carries the address).
 *  - otherwise delivers through the IVT/IDT.
 *
 * Invariants:
 *  - Delivery commits nothing until every check and every push has succeeded; a fault in
 *    between leaves registers as they were (the new stack may hold partial pushes).
 *  - A fault while delivering combines per SDM table 6-5: contributory (0, 10-13) after
 *    contributory, or #PF/contributory after #PF, gives #DF(0); anything during #DF is a
 *    triple fault (SHUTDOWN exit, the CPU stays halted); all other pairs deliver the second
 *    exception. Faults raised by the delivery itself carry EXT (bit 0) in selector error
 *    codes when the event was not a software interrupt.
 *  - NMI delivery blocks NMIs until the next IRET.
 */
import type { Cpu } from './cpu.ts';
import { EV_EXIT, EV_INTR } from './cpu.ts';
import { EXC_EXIT, FAULT, raise } from './fault.ts';
import { getEflags } from './flags.ts';
import { sysRd, sysWr, writeLinSlow } from './mem.ts';
import { ACC_USER } from './paging.ts';
import {
  A_UNUSABLE, descAttr, descBase, descHi, descLimit, descLo, readDescriptor, setCpl, setSeg, refreshAllSegs,
} from './seg.ts';
import { taskSwitch, TS_INT, readTssStack } from './task.ts';
import { ExecMode, ExitReason } from './exit.ts';

/** Event kinds. */
export const EK_EXC = 0;
export const EK_EXT = 1;
export const EK_NMI = 2;
/** INT n (CD ib): gate DPL checked, IOPL checked by the caller in VM86. */
export const EK_SOFT = 3;
/** INT3, INTO: software exceptions, gate DPL checked. */
export const EK_SOFTEXC = 4;
/** INT1 / ICEBP (F1): a #DB trap without the DPL check. */
export const EK_ICEBP = 5;

const HAS_ERROR = (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 17);
const CONTRIBUTORY = (1 << 0) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13);

/** Scratch frame for pushes (values in push order). */
const frame = new Int32Array(12);

/** Deliver an event (see the module comment). Returns normally when done or exiting. */
export function deliverEvent(cpu: Cpu, vec: number, err: number, kind: number): void {
  cpu.deliveries++;
  if (cpu.eventHook !== null) cpu.eventHook(vec, err, kind, cpu.eip);
  const mode = cpu.controls.mode;
  if (mode === ExecMode.PV) {
    pvExit(cpu, vec, err, kind);
    return;
  }
  // EXT: the event is not a software interrupt (INT n, INT3, INTO) the program asked for
  let ext = kind !== EK_SOFT && kind !== EK_SOFTEXC;
  for (;;) {
    if (mode === ExecMode.HVM && kind === EK_EXC && ((cpu.controls.exceptionBitmap >>> vec) & 1) !== 0) {
      const x = cpu.exit;
      x.reset(ExitReason.EXCEPTION);
      x.vector = vec;
      x.errorCode = HAS_ERROR >>> vec & 1 ? err : -1;
      x.cr2 = vec === 14 ? cpu.excCr2 : 0;
      cpu.pendingEvents |= EV_EXIT;
      cpu.delivering = -1;
      return;
    }
    try {
      cpu.delivering = vec;
      deliver(cpu, vec, err, kind, ext);
      cpu.delivering = -1;
      if (kind === EK_NMI) cpu.nmiBlocked = true;
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
      cpu.delivering = -1;
      if (cpu.excVec === EXC_EXIT) throw e;
      // a fault while delivering INT n / INT3 / INTO / INT1 is reported at that instruction
      if (kind === EK_SOFT || kind === EK_SOFTEXC || kind === EK_ICEBP) cpu.eip = (cpu.eip - cpu.softLen) & cpu.ipMask;
      const v2 = cpu.excVec;
      if (vec === 8) {
        shutdown(cpu);
        return;
      }
      const c1 = (CONTRIBUTORY >>> vec) & 1, c2 = (CONTRIBUTORY >>> v2) & 1;
      if ((kind === EK_EXC || kind === EK_SOFTEXC) &&
        ((c1 && c2) || (vec === 14 && (c2 || v2 === 14)))) {
        vec = 8;
        err = 0;
      } else {
        vec = v2;
        err = cpu.excErr;
      }
      kind = EK_EXC;
      ext = true;
      if (cpu.eventHook !== null) cpu.eventHook(vec, err, -1, cpu.eip);
    }
  }
}

/** Triple fault: the processor shuts down. */
export function shutdown(cpu: Cpu): void {
  cpu.exit.reset(ExitReason.SHUTDOWN);
  cpu.pendingEvents |= EV_EXIT;
  cpu.halted = true;
  cpu.shutdown = true;
}

function pvExit(cpu: Cpu, vec: number, err: number, kind: number): void {
  const x = cpu.exit;
  if (kind === EK_SOFT || kind === EK_SOFTEXC) {
    if (cpu.cpl > cpu.controls.softIntDpl[vec]!) {
      // #GP(vector*8+2), reported at the INT instruction
      cpu.eip = (cpu.eip - cpu.softLen) & cpu.ipMask;
      pvExit(cpu, 13, vec * 8 + 2, EK_EXC);
      return;
    }
    x.reset(ExitReason.SOFT_INT);
    x.vector = vec;
    x.insnLength = cpu.softLen;
    x.nextEip = cpu.eip >>> 0;
    x.software = true;
  } else {
    x.reset(ExitReason.EXCEPTION);
    x.vector = vec;
    x.errorCode = kind === EK_EXC && ((HAS_ERROR >>> vec) & 1) !== 0 ? err : -1;
    x.external = kind === EK_EXT || kind === EK_NMI;
    x.software = kind === EK_ICEBP;
    if (vec === 14) {
      cpu.cr2 = cpu.excCr2;
      x.cr2 = cpu.excCr2 >>> 0;
      x.pfHole = kind === EK_EXC && cpu.excHole;
    }
    if (kind === EK_NMI) cpu.nmiBlocked = true;
  }
  cpu.pendingEvents |= EV_EXIT;
}

function deliver(cpu: Cpu, vec: number, err: number, kind: number, ext: boolean): void {
  if (vec === 14 && kind === EK_EXC) cpu.cr2 = cpu.excCr2;
  if ((cpu.cr0 & 1) === 0) {
    deliverReal(cpu, vec);
    return;
  }
  deliverProt(cpu, vec, err, kind, ext);
}

function deliverReal(cpu: Cpu, vec: number): void {
  if (vec * 4 + 3 > (cpu.idtLimit >>> 0)) raise(cpu, 13, vec * 8 + 2);
  const ent = sysRd(cpu, (cpu.idtBase + vec * 4) | 0, 4);
  const fl = getEflags(cpu);
  // Three 16-bit pushes; check the whole frame before writing (SP wraps at 64 KiB).
  const ssBase = cpu.segBase[2]!;
  const sp = cpu.regs[4]!;
  const mask = cpu.stack32 ? -1 : 0xffff;
  const lim = cpu.segLimit[2]! >>> 0;
  const n = (sp - 6) & mask;
  if (((n + 5) >>> 0) > lim && lim !== 0xffffffff) raise(cpu, 12, 0);
  frame[0] = fl & 0xffff;
  frame[1] = cpu.segSel[1]! & 0xffff;
  frame[2] = cpu.eip & 0xffff;
  for (let k = 0; k < 3; k++) writeLinSlow(cpu, (ssBase + ((sp - 2 * (k + 1)) & mask)) | 0, 2, frame[k]!, 0);
  if (cpu.stack32) cpu.regs[4] = n;
  else cpu.regs16[8] = n;
  cpu.flags = (fl & ~(0x100 | 0x200 | 0x40000)) | 2;
  cpu.lazy = 0;
  setSeg(cpu, 1, ent >>> 16, (ent >>> 16) << 4, cpu.segLimit[1]!, cpu.segAttr[1]! & ~A_UNUSABLE);
  cpu.eip = ent & 0xffff;
}

/** Check that [lo, hi] (offsets, inclusive) fits the stack segment (base/limit/attr). */
function stackFits(attr: number, limit: number, lo: number, hi: number): boolean {
  limit >>>= 0;
  if ((attr & 0x1c) === 0x14) {
    const top = (attr & 0x4000) !== 0 ? 0xffffffff : 0xffff;
    return (lo >>> 0) > limit && (hi >>> 0) <= top && (lo >>> 0) <= (hi >>> 0);
  }
  return (hi >>> 0) <= limit && (lo >>> 0) <= (hi >>> 0);
}

function deliverProt(cpu: Cpu, vec: number, err: number, kind: number, ext: boolean): void {
  const e1 = ext ? 1 : 0;
  const soft = kind === EK_SOFT || kind === EK_SOFTEXC;
  if (vec * 8 + 7 > (cpu.idtLimit >>> 0)) raise(cpu, 13, vec * 8 + 2 + e1);
  const ga = (cpu.idtBase + vec * 8) | 0;
  const glo = sysRd(cpu, ga, 4);
  const ghi = sysRd(cpu, (ga + 4) | 0, 4);
  const gtype = (ghi >>> 8) & 0x1f;
  if (gtype !== 0x05 && gtype !== 0x06 && gtype !== 0x07 && gtype !== 0x0e && gtype !== 0x0f) {
    raise(cpu, 13, vec * 8 + 2 + e1);
  }
  const gdpl = (ghi >>> 13) & 3;
  if (soft && gdpl < cpu.cpl) raise(cpu, 13, vec * 8 + 2);
  if ((ghi & 0x8000) === 0) raise(cpu, 11, vec * 8 + 2 + e1);
  const hasErr = kind === EK_EXC && ((HAS_ERROR >>> vec) & 1) !== 0;
  if (gtype === 0x05) {
    taskSwitch(cpu, glo >>> 16, TS_INT, hasErr ? err : -1, e1);
    return;
  }
  const sel = glo >>> 16;
  const gate32 = (gtype & 8) !== 0;
  const off = gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) : glo & 0xffff;
  if ((sel & 0xfffc) === 0) raise(cpu, 13, e1);
  if (!readDescriptor(cpu, sel)) raise(cpu, 13, (sel & 0xfffc) + e1);
  const clo = descLo, chi = descHi;
  const ctype = (chi >>> 8) & 0x1f;
  const cdpl = (chi >>> 13) & 3;
  if ((ctype & 0x18) !== 0x18 || cdpl > cpu.cpl) raise(cpu, 13, (sel & 0xfffc) + e1);
  if ((chi & 0x8000) === 0) raise(cpu, 11, (sel & 0xfffc) + e1);
  const conforming = (ctype & 4) !== 0;
  const v86 = (cpu.flags & 0x20000) !== 0;
  const fl = getEflags(cpu);
  const cBase = descBase(clo, chi), cLimit = descLimit(clo, chi), cAttr = descAttr(chi);
  if ((off >>> 0) > (cLimit >>> 0)) raise(cpu, 13, e1);
  const w = gate32 ? 4 : 2;
  let n = 0;
  if (!conforming && cdpl < cpu.cpl) {
    // Inter-privilege: new stack from the TSS.
    if (v86 && cdpl !== 0) raise(cpu, 13, (sel & 0xfffc) + e1);
    readTssStack(cpu, cdpl, e1);
    const nss = cpu.tssSs, nesp = cpu.tssEsp;
    if ((nss & 0xfffc) === 0) raise(cpu, 10, e1);
    if ((nss & 3) !== cdpl) raise(cpu, 10, (nss & 0xfffc) + e1);
    if (!readDescriptor(cpu, nss)) raise(cpu, 10, (nss & 0xfffc) + e1);
    const slo = descLo, shi = descHi;
    if (((shi >>> 13) & 3) !== cdpl || ((shi >>> 8) & 0x1a) !== 0x12) raise(cpu, 10, (nss & 0xfffc) + e1);
    if ((shi & 0x8000) === 0) raise(cpu, 12, (nss & 0xfffc) + e1);
    const sBase = descBase(slo, shi), sLimit = descLimit(slo, shi), sAttr = descAttr(shi);
    if (v86) {
      frame[n++] = cpu.segSel[5]!;
      frame[n++] = cpu.segSel[4]!;
      frame[n++] = cpu.segSel[3]!;
      frame[n++] = cpu.segSel[0]!;
    }
    frame[n++] = cpu.segSel[2]!;
    frame[n++] = cpu.regs[4]!;
    frame[n++] = fl;
    frame[n++] = cpu.segSel[1]!;
    frame[n++] = cpu.eip;
    if (hasErr) frame[n++] = err;
    const big = (sAttr & 0x4000) !== 0;
    const spMask = big ? -1 : 0xffff;
    const top = big ? nesp : nesp & 0xffff;
    const lo = (top - n * w) & spMask;
    if (!stackFits(sAttr, sLimit, lo, (top - 1) & spMask)) raise(cpu, 12, (nss & 0xfffc) + e1);
    const acc = cdpl === 3 ? ACC_USER : 0;
    for (let k = 0; k < n; k++) {
      writeLinSlow(cpu, (sBase + ((top - (k + 1) * w) & spMask)) | 0, w, frame[k]!, acc);
    }
    // Commit.
    touchCode(cpu, sel);
    if (v86) {
      for (const s of [0, 3, 4, 5]) setSeg(cpu, s, 0, 0, 0, A_UNUSABLE);
    }
    setSeg(cpu, 2, nss, sBase, sLimit, sAttr);
    if (big) cpu.regs[4] = lo;
    else cpu.regs16[8] = lo;
    setCpl(cpu, cdpl);
  } else {
    if (v86) raise(cpu, 13, (sel & 0xfffc) + e1);
    frame[n++] = fl;
    frame[n++] = cpu.segSel[1]!;
    frame[n++] = cpu.eip;
    if (hasErr) frame[n++] = err;
    const big = cpu.stack32;
    const spMask = big ? -1 : 0xffff;
    const top = cpu.regs[4]! & spMask;
    const lo = (top - n * w) & spMask;
    if (!stackFits(cpu.segAttr[2]!, cpu.segLimit[2]!, lo, (top - 1) & spMask)) raise(cpu, 12, e1);
    const acc = cpu.cpl === 3 ? ACC_USER : 0;
    const ssBase = cpu.segBase[2]!;
    for (let k = 0; k < n; k++) {
      writeLinSlow(cpu, (ssBase + ((top - (k + 1) * w) & spMask)) | 0, w, frame[k]!, acc);
    }
    touchCode(cpu, sel);
    if (big) cpu.regs[4] = lo;
    else cpu.regs16[8] = lo;
  }
  // CS:EIP and flags
  const newCpl = conforming ? cpu.cpl : cdpl;
  setSeg(cpu, 1, (sel & 0xfffc) | newCpl, cBase, cLimit, cAttr | 1);
  setCpl(cpu, newCpl);
  let nf = fl & ~(0x100 | 0x4000 | 0x10000 | 0x20000);
  if ((gtype & 1) === 0) nf &= ~0x200;
  cpu.flags = nf | 2;
  cpu.lazy = 0;
  if (v86) refreshAllSegs(cpu);
  cpu.eip = gate32 ? off : off & 0xffff;
}

/** Set the accessed bit of the code descriptor we are about to load (re-read: cheap, rare). */
function touchCode(cpu: Cpu, sel: number): void {
  if (readDescriptor(cpu, sel) && (descHi & 0x100) === 0) {
    // accessed bit through the same supervisor path the read used
    sysWr(cpu, (((sel & 4) !== 0 ? cpu.segBase[6]! : cpu.gdtBase) + (sel & 0xfff8) + 4) | 0, 4, descHi | 0x100);
  }
}

/** EFLAGS.IF (or an injected event) may allow delivery: re-check at the next boundary. */
export function ifMayHaveRisen(cpu: Cpu): void {
  if ((cpu.flags & 0x200) !== 0) cpu.pendingEvents |= EV_INTR;
}
