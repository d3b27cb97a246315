/**
 * Far control transfers: JMP/CALL far (code segments, call gates with stack switch and
 * parameter copy, task gates and TSS descriptors), RETF and IRET at and across privilege
 * levels, IRET to and from virtual-8086 mode and nested-task return, SYSENTER/SYSEXIT.
 *
 * Invariants:
 *  - Every check precedes every commit; stack frames are written before ESP, CS or CPL
 *    change, so a fault (#GP/#NP/#SS/#TS/#PF) leaves the registers as before the instruction.
 *  - Pushes and pops use the operand size for plain transfers and the gate size (286: 16,
 *    386: 32 bits) for transfers through a call gate.
 *  - A return to an outer ring nulls the data segments the new CPL may not use.
 */
import type { Cpu } from './cpu.ts';
import { raise } from './fault.ts';
import { getEflags } from './flags.ts';
import { rd16, rd32, wr16, wr32, writeLinSlow, sysRd } from './mem.ts';
import { ACC_USER } from './paging.ts';
import {
  descAttr, descBase, descHi, descLimit, descLo, loadSegReal, loadSegV86, nullifyDataSegs, protMode, readDescriptor,
  setCpl, setSeg, touchAccessed, refreshAllSegs,
} from './seg.ts';
import { TS_CALL, TS_IRET, TS_JMP, taskSwitch, readTssStack } from './task.ts';
import { writeEflags, popfMask } from './eflags.ts';
import { checkVirtualFlags, loadVirtualIf, vmeApplies } from './vme.ts';

const frame = new Int32Array(40);

/** Write frame[0..n) downward from SS:top with width w, then set ESP (current stack). */
function pushFrame(cpu: Cpu, n: number, w: number): void {
  const mask = cpu.stack32 ? -1 : 0xffff;
  const top = cpu.regs[4]!;
  for (let k = 0; k < n; k++) {
    const off = (top - (k + 1) * w) & mask;
    if (w === 4) wr32(cpu, 2, off, frame[k]!);
    else wr16(cpu, 2, off, frame[k]!);
  }
  const nsp = (top - n * w) & mask;
  if (cpu.stack32) cpu.regs[4] = nsp;
  else cpu.regs16[8] = nsp;
}

/** Read w bytes at SS:(ESP + off) (stack-size wrap). */
function peekW(cpu: Cpu, off: number, w: number): number {
  const sp = cpu.stack32 ? (cpu.regs[4]! + off) | 0 : (cpu.regs[4]! + off) & 0xffff;
  return w === 4 ? rd32(cpu, 2, sp) : rd16(cpu, 2, sp);
}

function addSp(cpu: Cpu, n: number): void {
  if (cpu.stack32) cpu.regs[4] = (cpu.regs[4]! + n) | 0;
  else cpu.regs16[8] = (cpu.regs[4]! + n) & 0xffff;
}

/** Load CS from the descriptor in descLo/descHi with RPL = cpl (sets the accessed bit). */
function commitCs(cpu: Cpu, sel: number, cpl: number): void {
  touchAccessed(cpu);
  setSeg(cpu, 1, (sel & 0xfffc) | cpl, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
  setCpl(cpu, cpl);
}

/** Checks for a direct far JMP/CALL to code segment `sel` (descriptor already read). */
function checkDirectCode(cpu: Cpu, sel: number): void {
  const hi = descHi;
  const dpl = (hi >>> 13) & 3;
  if ((hi & 0x400) !== 0) {
    if (dpl > cpu.cpl) raise(cpu, 13, sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || dpl !== cpu.cpl) {
    raise(cpu, 13, sel & 0xfffc);
  }
  if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
}

// ---------------------------------------------------------------- JMP far

/** Far JMP; `next` is the EIP a task switch saves in the outgoing TSS. */
export function jmpFar(cpu: Cpu, sel: number, off: number, op16: boolean, next: number): void {
  sel &= 0xffff;
  if (op16) off &= 0xffff;
  if (!protMode(cpu)) {
    if ((off >>> 0) > (cpu.segLimit[1]! >>> 0) && (cpu.cr0 & 1) === 0) raise(cpu, 13, 0);
    loadSegReal(cpu, 1, sel);
    cpu.eip = off;
    return;
  }
  if ((sel & 0xfffc) === 0) raise(cpu, 13, 0);
  if (!readDescriptor(cpu, sel)) raise(cpu, 13, sel & 0xfffc);
  const hi = descHi;
  if ((hi & 0x1000) !== 0) {
    if ((hi & 0x800) === 0) raise(cpu, 13, sel & 0xfffc);
    checkDirectCode(cpu, sel);
    if ((off >>> 0) > (descLimit(descLo, descHi) >>> 0)) raise(cpu, 13, 0);
    commitCs(cpu, sel, cpu.cpl);
    cpu.eip = off;
    return;
  }
  const type = (hi >>> 8) & 0xf;
  const dpl = (hi >>> 13) & 3;
  switch (type) {
    case 0x4: case 0xc: {
      if (dpl < cpu.cpl || dpl < (sel & 3)) raise(cpu, 13, sel & 0xfffc);
      if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
      const tsel = descLo >>> 16;
      let toff = (descLo & 0xffff) | (type === 0xc ? hi & 0xffff0000 : 0);
      if ((tsel & 0xfffc) === 0) raise(cpu, 13, 0);
      if (!readDescriptor(cpu, tsel)) raise(cpu, 13, tsel & 0xfffc);
      const th = descHi;
      const tdpl = (th >>> 13) & 3;
      if ((th & 0x1800) !== 0x1800) raise(cpu, 13, tsel & 0xfffc);
      if ((th & 0x400) !== 0 ? tdpl > cpu.cpl : tdpl !== cpu.cpl) raise(cpu, 13, tsel & 0xfffc);
      if ((th & 0x8000) === 0) raise(cpu, 11, tsel & 0xfffc);
      if (type === 0x4) toff &= 0xffff;
      if ((toff >>> 0) > (descLimit(descLo, descHi) >>> 0)) raise(cpu, 13, 0);
      commitCs(cpu, tsel, cpu.cpl);
      cpu.eip = toff;
      return;
    }
    case 0x5:
      if (dpl < cpu.cpl || dpl < (sel & 3)) raise(cpu, 13, sel & 0xfffc);
      if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
      cpu.eip = next;
      taskSwitch(cpu, descLo >>> 16, TS_JMP, -1, 0);
      return;
    case 0x1: case 0x9:
      if (dpl < cpu.cpl || dpl < (sel & 3)) raise(cpu, 13, sel & 0xfffc);
      if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
      cpu.eip = next;
      taskSwitch(cpu, sel, TS_JMP, -1, 0);
      return;
    default:
      raise(cpu, 13, sel & 0xfffc);
  }
}

// ---------------------------------------------------------------- CALL far

/** Far CALL; `next` is the return EIP (cpu.eip is the CALL instruction). */
export function callFar(cpu: Cpu, sel: number, off: number, op16: boolean, next: number): void {
  sel &= 0xffff;
  const w = op16 ? 2 : 4;
  if (op16) off &= 0xffff;
  if (!protMode(cpu)) {
    if ((off >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
    frame[0] = cpu.segSel[1]!;
    frame[1] = next;
    pushFrame(cpu, 2, w);
    loadSegReal(cpu, 1, sel);
    cpu.eip = off;
    return;
  }
  if ((sel & 0xfffc) === 0) raise(cpu, 13, 0);
  if (!readDescriptor(cpu, sel)) raise(cpu, 13, sel & 0xfffc);
  const hi = descHi, lo = descLo;
  if ((hi & 0x1000) !== 0) {
    if ((hi & 0x800) === 0) raise(cpu, 13, sel & 0xfffc);
    checkDirectCode(cpu, sel);
    if ((off >>> 0) > (descLimit(lo, hi) >>> 0)) raise(cpu, 13, 0);
    frame[0] = cpu.segSel[1]!;
    frame[1] = next;
    pushFrame(cpu, 2, w);
    readDescriptor(cpu, sel);
    commitCs(cpu, sel, cpu.cpl);
    cpu.eip = off;
    return;
  }
  const type = (hi >>> 8) & 0xf;
  const dpl = (hi >>> 13) & 3;
  switch (type) {
    case 0x4: case 0xc:
      if (dpl < cpu.cpl || dpl < (sel & 3)) raise(cpu, 13, sel & 0xfffc);
      if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
      callGate(cpu, lo, hi, type === 0xc, next);
      return;
    case 0x5:
      if (dpl < cpu.cpl || dpl < (sel & 3)) raise(cpu, 13, sel & 0xfffc);
      if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
      cpu.eip = next;
      taskSwitch(cpu, lo >>> 16, TS_CALL, -1, 0);
      return;
    case 0x1: case 0x9:
      if (dpl < cpu.cpl || dpl < (sel & 3)) raise(cpu, 13, sel & 0xfffc);
      if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
      cpu.eip = next;
      taskSwitch(cpu, sel, TS_CALL, -1, 0);
      return;
    default:
      raise(cpu, 13, sel & 0xfffc);
  }
}

function callGate(cpu: Cpu, glo: number, ghi: number, gate32: boolean, next: number): void {
  const tsel = glo >>> 16;
  const toff = gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) : glo & 0xffff;
  const count = ghi & 0x1f;
  const w = gate32 ? 4 : 2;
  if ((tsel & 0xfffc) === 0) raise(cpu, 13, 0);
  if (!readDescriptor(cpu, tsel)) raise(cpu, 13, tsel & 0xfffc);
  const th = descHi, tl = descLo;
  const tdpl = (th >>> 13) & 3;
  if ((th & 0x1800) !== 0x1800 || tdpl > cpu.cpl) raise(cpu, 13, tsel & 0xfffc);
  if ((th & 0x8000) === 0) raise(cpu, 11, tsel & 0xfffc);
  const cBase = descBase(tl, th), cLimit = descLimit(tl, th), cAttr = descAttr(th);
  if ((th & 0x400) === 0 && tdpl < cpu.cpl) {
    // more privileged: switch to the ring-tdpl stack from the TSS
    readTssStack(cpu, tdpl, 0);
    const nss = cpu.tssSs, nesp = cpu.tssEsp;
    if ((nss & 0xfffc) === 0) raise(cpu, 10, 0);
    if ((nss & 3) !== tdpl || !readDescriptor(cpu, nss)) raise(cpu, 10, nss & 0xfffc);
    const sl = descLo, sh = descHi;
    if (((sh >>> 13) & 3) !== tdpl || ((sh >>> 8) & 0x1a) !== 0x12) raise(cpu, 10, nss & 0xfffc);
    if ((sh & 0x8000) === 0) raise(cpu, 12, nss & 0xfffc);
    const sBase = descBase(sl, sh), sLimit = descLimit(sl, sh) >>> 0, sAttr = descAttr(sh);
    const big = (sAttr & 0x4000) !== 0;
    const spMask = big ? -1 : 0xffff;
    // frame: old SS, old ESP, parameters (from the old stack, highest first), CS, EIP
    let n = 0;
    frame[n++] = cpu.segSel[2]!;
    frame[n++] = cpu.regs[4]!;
    for (let k = count - 1; k >= 0; k--) frame[n++] = peekW(cpu, k * w, w);
    frame[n++] = cpu.segSel[1]!;
    frame[n++] = next;
    const top = nesp & spMask;
    const lo = (top - n * w) & spMask;
    const hiOff = (top - 1) & spMask;
    const expDown = (sAttr & 0x1c) === 0x14;
    if (expDown ? (lo >>> 0) <= sLimit : (hiOff >>> 0) > sLimit || (lo >>> 0) > (hiOff >>> 0)) raise(cpu, 12, nss & 0xfffc);
    if ((toff >>> 0) > (cLimit >>> 0)) raise(cpu, 13, 0);
    const acc = tdpl === 3 ? ACC_USER : 0;
    for (let k = 0; k < n; k++) writeLinSlow(cpu, (sBase + ((top - (k + 1) * w) & spMask)) | 0, w, frame[k]!, acc);
    // commit
    readDescriptor(cpu, nss);
    touchAccessed(cpu);
    setSeg(cpu, 2, nss, sBase, sLimit, sAttr);
    if (big) cpu.regs[4] = lo;
    else cpu.regs16[8] = lo;
    readDescriptor(cpu, tsel);
    touchAccessed(cpu);
    setSeg(cpu, 1, (tsel & 0xfffc) | tdpl, cBase, cLimit, cAttr | 1);
    setCpl(cpu, tdpl);
    cpu.eip = toff;
    return;
  }
  if ((toff >>> 0) > (cLimit >>> 0)) raise(cpu, 13, 0);
  frame[0] = cpu.segSel[1]!;
  frame[1] = next;
  pushFrame(cpu, 2, w);
  readDescriptor(cpu, tsel);
  commitCs(cpu, tsel, cpu.cpl);
  cpu.eip = toff;
}

// ---------------------------------------------------------------- RETF

export function retFar(cpu: Cpu, op16: boolean, imm: number): void {
  const w = op16 ? 2 : 4;
  if (!protMode(cpu)) {
    const ip = peekW(cpu, 0, w);
    const cs = peekW(cpu, w, w) & 0xffff;
    const nip = op16 ? ip & 0xffff : ip;
    if ((nip >>> 0) > (cpu.segLimit[1]! >>> 0) && (cpu.cr0 & 1) === 0) raise(cpu, 13, 0);
    addSp(cpu, 2 * w + imm);
    loadSegReal(cpu, 1, cs);
    cpu.eip = nip;
    return;
  }
  const ip = peekW(cpu, 0, w);
  const sel = peekW(cpu, w, w) & 0xffff;
  const nip = op16 ? ip & 0xffff : ip;
  const rpl = sel & 3;
  checkReturnCs(cpu, sel);
  if (rpl === cpu.cpl) {
    if ((nip >>> 0) > (descLimit(descLo, descHi) >>> 0)) raise(cpu, 13, 0);
    addSp(cpu, 2 * w + imm);
    commitCs(cpu, sel, rpl);
    cpu.eip = nip;
    return;
  }
  const cl = descLo, ch = descHi;
  const nesp = peekW(cpu, 2 * w + imm, w);
  const nss = peekW(cpu, 3 * w + imm, w) & 0xffff;
  const sDesc = checkReturnSs(cpu, nss, rpl);
  if ((nip >>> 0) > (descLimit(cl, ch) >>> 0)) raise(cpu, 13, 0);
  setSeg(cpu, 1, sel, descBase(cl, ch), descLimit(cl, ch), descAttr(ch) | 1);
  setCpl(cpu, rpl);
  commitSs(cpu, nss, sDesc);
  const big = cpu.stack32;
  if (big) cpu.regs[4] = (nesp + imm) | 0;
  else cpu.regs16[8] = (nesp + imm) & 0xffff;
  cpu.eip = nip;
  nullifyDataSegs(cpu);
}

/** CS checks of RETF/IRET to protected mode; leaves the descriptor in descLo/descHi. */
function checkReturnCs(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) raise(cpu, 13, 0);
  if (!readDescriptor(cpu, sel)) raise(cpu, 13, sel & 0xfffc);
  const hi = descHi;
  const rpl = sel & 3, dpl = (hi >>> 13) & 3;
  if ((hi & 0x1800) !== 0x1800 || rpl < cpu.cpl) raise(cpu, 13, sel & 0xfffc);
  if ((hi & 0x400) !== 0 ? dpl > rpl : dpl !== rpl) raise(cpu, 13, sel & 0xfffc);
  if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
}

const ssTmp = new Int32Array(2);

/** SS checks when returning to ring `rpl`; returns the descriptor words in ssTmp. */
function checkReturnSs(cpu: Cpu, nss: number, rpl: number): Int32Array {
  if ((nss & 0xfffc) === 0) raise(cpu, 13, 0);
  if ((nss & 3) !== rpl || !readDescriptor(cpu, nss)) raise(cpu, 13, nss & 0xfffc);
  const sh = descHi;
  if (((sh >>> 13) & 3) !== rpl || ((sh >>> 8) & 0x1a) !== 0x12) raise(cpu, 13, nss & 0xfffc);
  if ((sh & 0x8000) === 0) raise(cpu, 12, nss & 0xfffc);
  ssTmp[0] = descLo;
  ssTmp[1] = descHi;
  return ssTmp;
}

function commitSs(cpu: Cpu, nss: number, d: Int32Array): void {
  if ((d[1]! & 0x100) === 0 && readDescriptor(cpu, nss)) touchAccessed(cpu);
  setSeg(cpu, 2, nss, descBase(d[0]!, d[1]!), descLimit(d[0]!, d[1]!), descAttr(d[1]!) | 1);
}

// ---------------------------------------------------------------- IRET

/** IRET; `next` is the EIP a nested-task return saves in the outgoing TSS. */
export function iret(cpu: Cpu, op16: boolean, next: number): void {
  const w = op16 ? 2 : 4;
  cpu.nmiBlocked = false;
  if ((cpu.cr0 & 1) === 0) {
    const ip = peekW(cpu, 0, w);
    const cs = peekW(cpu, w, w) & 0xffff;
    const fl = peekW(cpu, 2 * w, w);
    const nip = op16 ? ip & 0xffff : ip;
    if ((nip >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
    addSp(cpu, 3 * w);
    loadSegReal(cpu, 1, cs);
    cpu.eip = nip;
    writeEflags(cpu, fl, op16 ? 0xffff : 0x257fd5);
    return;
  }
  if ((cpu.flags & 0x20000) !== 0) {
    // VM86: IOPL-sensitive; with VME a 16-bit IRET loads IF into VIF instead
    const virt = ((cpu.flags >>> 12) & 3) !== 3;
    if (virt && !vmeApplies(cpu, op16)) raise(cpu, 13, 0);
    const ip = peekW(cpu, 0, w);
    const cs = peekW(cpu, w, w) & 0xffff;
    const fl = peekW(cpu, 2 * w, w);
    if (virt) checkVirtualFlags(cpu, fl);
    const nip = op16 ? ip & 0xffff : ip;
    if ((nip >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
    addSp(cpu, 3 * w);
    loadSegReal(cpu, 1, cs);
    cpu.eip = nip;
    writeEflags(cpu, fl, (op16 ? 0xffff : 0x3f7fd5) & ~(0x3000 | 0x20000 | 0x80000 | 0x100000 | (virt ? 0x200 : 0)));
    if (virt) loadVirtualIf(cpu, fl);
    return;
  }
  if ((cpu.flags & 0x4000) !== 0) {
    // nested task return
    const link = sysRd(cpu, cpu.segBase[7]!, 2);
    cpu.eip = next;
    taskSwitch(cpu, link, TS_IRET, -1, 0);
    return;
  }
  const ip = peekW(cpu, 0, w);
  const sel = peekW(cpu, w, w) & 0xffff;
  const fl = peekW(cpu, 2 * w, w);
  if (!op16 && (fl & 0x20000) !== 0 && cpu.cpl === 0) {
    iretToV86(cpu, ip, sel, fl);
    return;
  }
  const nip = op16 ? ip & 0xffff : ip;
  const rpl = sel & 3;
  checkReturnCs(cpu, sel);
  const oldCpl = cpu.cpl;
  // the flags mask uses the privilege of the IRET itself
  let mask = popfMask(cpu, op16) | 0x10000;
  if (!op16 && oldCpl === 0) mask |= 0x80000 | 0x100000;
  if (rpl === cpu.cpl) {
    if ((nip >>> 0) > (descLimit(descLo, descHi) >>> 0)) raise(cpu, 13, 0);
    addSp(cpu, 3 * w);
    commitCs(cpu, sel, rpl);
    cpu.eip = nip;
    writeEflags(cpu, fl, mask);
    return;
  }
  const cl = descLo, ch = descHi;
  const nesp = peekW(cpu, 3 * w, w);
  const nss = peekW(cpu, 4 * w, w) & 0xffff;
  const sDesc = checkReturnSs(cpu, nss, rpl);
  if ((nip >>> 0) > (descLimit(cl, ch) >>> 0)) raise(cpu, 13, 0);
  setSeg(cpu, 1, sel, descBase(cl, ch), descLimit(cl, ch), descAttr(ch) | 1);
  writeEflags(cpu, fl, mask);
  setCpl(cpu, rpl);
  commitSs(cpu, nss, sDesc);
  if (cpu.stack32) cpu.regs[4] = nesp;
  else cpu.regs16[8] = nesp & 0xffff;
  cpu.eip = nip;
  nullifyDataSegs(cpu);
}

function iretToV86(cpu: Cpu, ip: number, cs: number, fl: number): void {
  const nesp = peekW(cpu, 12, 4);
  const ss = peekW(cpu, 16, 4);
  const es = peekW(cpu, 20, 4);
  const ds = peekW(cpu, 24, 4);
  const fs = peekW(cpu, 28, 4);
  const gs = peekW(cpu, 32, 4);
  writeEflags(cpu, fl, -1);
  loadSegV86(cpu, 1, cs);
  loadSegV86(cpu, 2, ss);
  loadSegV86(cpu, 0, es);
  loadSegV86(cpu, 3, ds);
  loadSegV86(cpu, 4, fs);
  loadSegV86(cpu, 5, gs);
  refreshAllSegs(cpu);
  setCpl(cpu, 3);
  cpu.regs[4] = nesp;
  cpu.eip = ip & 0xffff;
}

// ---------------------------------------------------------------- SYSENTER / SYSEXIT

export function sysenter(cpu: Cpu): void {
  if ((cpu.cr0 & 1) === 0 || (cpu.sysenterCs & 0xfffc) === 0) raise(cpu, 13, 0);
  const fl = getEflags(cpu) & ~(0x20000 | 0x200 | 0x10000);
  const cs = cpu.sysenterCs & 0xfffc;
  cpu.flags = fl;
  cpu.lazy = 0;
  setSeg(cpu, 1, cs, 0, -1, 0xc09b);
  setSeg(cpu, 2, (cs + 8) & 0xffff, 0, -1, 0xc093);
  setCpl(cpu, 0);
  refreshAllSegs(cpu);
  cpu.regs[4] = cpu.sysenterEsp;
  cpu.eip = cpu.sysenterEip;
}

export function sysexit(cpu: Cpu): void {
  if ((cpu.cr0 & 1) === 0 || (cpu.flags & 0x20000) !== 0 || cpu.cpl !== 0 || (cpu.sysenterCs & 0xfffc) === 0) {
    raise(cpu, 13, 0);
  }
  const cs = cpu.sysenterCs & 0xfffc;
  setSeg(cpu, 1, ((cs + 16) | 3) & 0xffff, 0, -1, 0xc0fb);
  setSeg(cpu, 2, ((cs + 24) | 3) & 0xffff, 0, -1, 0xc0f3);
  setCpl(cpu, 3);
  cpu.regs[4] = cpu.regs[1]!;
  cpu.eip = cpu.regs[2]!;
}
