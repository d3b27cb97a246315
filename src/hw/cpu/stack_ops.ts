/**
 * Stack instructions with more than one access: PUSHA/POPA, ENTER/LEAVE, PUSHF/POPF,
 * POP to memory, PUSH/POP of segment registers, and the far-pointer loads (LDS/LES/LSS/
 * LFS/LGS).
 *
 * Invariants: ESP (and every destination) changes only after the last access that can
 * fault, so a faulting instruction restarts cleanly. Stack accesses are SS-relative with
 * SP or ESP per SS.B (Cpu.stack32).
 */
import type { Cpu } from './cpu.ts';
import { EV_STEP } from './cpu.ts';
import { raise } from './fault.ts';
import { getEflags } from './flags.ts';
import { rd16, rd32, wr16, wr32, readLin, writeLin } from './mem.ts';
import { ea } from './operands.ts';
import { loadSeg } from './seg.ts';
import { popfMask, writeEflags } from './eflags.ts';
import { loadVirtualIf, virtualFlags, virtualPopfImage, vmeApplies } from './vme.ts';

function spAt(cpu: Cpu, delta: number): number {
  return cpu.stack32 ? (cpu.regs[4]! + delta) | 0 : (cpu.regs[4]! + delta) & 0xffff;
}

function setSp(cpu: Cpu, v: number): void {
  if (cpu.stack32) cpu.regs[4] = v | 0;
  else cpu.regs16[8] = v & 0xffff;
}

export function pusha(cpu: Cpu, op16: boolean): void {
  const w = op16 ? 2 : 4;
  const r = cpu.regs;
  // EAX ECX EDX EBX original-ESP EBP ESI EDI, EAX highest
  for (let k = 0; k < 8; k++) {
    const off = spAt(cpu, -(k + 1) * w);
    if (op16) wr16(cpu, 2, off, r[k]! & 0xffff);
    else wr32(cpu, 2, off, r[k]!);
  }
  setSp(cpu, spAt(cpu, -8 * w));
}

export function popa(cpu: Cpu, op16: boolean): void {
  const w = op16 ? 2 : 4;
  const vals = cpu.scratch8;
  for (let k = 0; k < 8; k++) {
    const off = spAt(cpu, (7 - k) * w);
    vals[k] = op16 ? rd16(cpu, 2, off) : rd32(cpu, 2, off);
  }
  const r = cpu.regs;
  for (let k = 0; k < 8; k++) {
    if (k === 4) continue; // the saved ESP is skipped
    if (op16) cpu.regs16[k << 1] = vals[k]!;
    else r[k] = vals[k]!;
  }
  setSp(cpu, spAt(cpu, 8 * w));
}

export function pushf(cpu: Cpu, op16: boolean): void {
  let f = getEflags(cpu) & ~(0x20000 | 0x10000);
  if ((cpu.flags & 0x20000) !== 0 && ((cpu.flags >>> 12) & 3) !== 3) {
    if (!vmeApplies(cpu, op16)) raise(cpu, 13, 0);
    f = virtualFlags(cpu);
  }
  if (op16) {
    const off = spAt(cpu, -2);
    wr16(cpu, 2, off, f & 0xffff);
    setSp(cpu, off);
  } else {
    const off = spAt(cpu, -4);
    wr32(cpu, 2, off, f);
    setSp(cpu, off);
  }
}

export function popf(cpu: Cpu, op16: boolean): void {
  if ((cpu.flags & 0x20000) !== 0 && ((cpu.flags >>> 12) & 3) !== 3) {
    if (!vmeApplies(cpu, op16)) raise(cpu, 13, 0);
    const img = virtualPopfImage(cpu);
    setSp(cpu, spAt(cpu, 2));
    writeEflags(cpu, img & ~0x10000, (popfMask(cpu, true) & ~(0x3000 | 0x200)) | 0x10000);
    loadVirtualIf(cpu, img);
    return;
  }
  const v = op16 ? rd16(cpu, 2, spAt(cpu, 0)) : rd32(cpu, 2, spAt(cpu, 0));
  const mask = popfMask(cpu, op16) | (op16 ? 0 : 0);
  setSp(cpu, spAt(cpu, op16 ? 2 : 4));
  // POPF clears RF
  writeEflags(cpu, v & ~0x10000, mask | 0x10000);
}

/** POP r/m: the address of a memory destination uses ESP after the increment. */
export function popE(cpu: Cpu, m: number, disp: number, op16: boolean): void {
  const w = op16 ? 2 : 4;
  const v = op16 ? rd16(cpu, 2, spAt(cpu, 0)) : rd32(cpu, 2, spAt(cpu, 0));
  if ((m & 0x2000) !== 0) {
    setSp(cpu, spAt(cpu, w));
    const r = (m >> 3) & 7;
    if (op16) cpu.regs16[r << 1] = v;
    else cpu.regs[r] = v;
    return;
  }
  const oldEsp = cpu.regs[4]!;
  setSp(cpu, spAt(cpu, w));
  try {
    const off = ea(cpu, m, disp);
    if (op16) wr16(cpu, (m >> 14) & 7, off, v);
    else wr32(cpu, (m >> 14) & 7, off, v);
  } catch (e) {
    cpu.regs[4] = oldEsp;
    throw e;
  }
}

/**
 * PUSH Sreg. A 32-bit push writes only the low 16 bits of the stack slot (Intel P6 and
 * later; ESP still moves by 4).
 */
export function pushSeg(cpu: Cpu, s: number, op16: boolean): void {
  const sel = cpu.segSel[s]! & 0xffff;
  const off = spAt(cpu, op16 ? -2 : -4);
  if (!op16) writeLin(cpu, 2, off, 4); // the whole slot must be inside SS
  wr16(cpu, 2, off, sel);
  setSp(cpu, off);
}

/** POP Sreg: load (with all checks) before ESP moves; POP SS opens an interrupt shadow. */
export function popSeg(cpu: Cpu, s: number, op16: boolean): void {
  const v = op16 ? rd16(cpu, 2, spAt(cpu, 0)) : rd32(cpu, 2, spAt(cpu, 0)) & 0xffff;
  loadSeg(cpu, s, v);
  setSp(cpu, spAt(cpu, op16 ? 2 : 4));
  if (s === 2) {
    cpu.intShadow = 2; // MOV SS / POP SS also hold back debug traps
    cpu.pendingEvents |= EV_STEP;
  }
}

export function enter(cpu: Cpu, size: number, level: number, op16: boolean): void {
  const w = op16 ? 2 : 4;
  level &= 31;
  const r = cpu.regs;
  const ebp = r[5]!;
  const bpMask = cpu.stack32 ? -1 : 0xffff;
  let sp = spAt(cpu, -w);
  // push EBP
  if (op16) wr16(cpu, 2, sp, ebp & 0xffff);
  else wr32(cpu, 2, sp, ebp);
  const frameTemp = sp;
  if (level > 0) {
    let bp = ebp;
    for (let k = 1; k < level; k++) {
      bp = (bp - w) & bpMask;
      const v = op16 ? rd16(cpu, 2, bp) : rd32(cpu, 2, bp);
      sp = cpu.stack32 ? (sp - w) | 0 : (sp - w) & 0xffff;
      if (op16) wr16(cpu, 2, sp, v);
      else wr32(cpu, 2, sp, v);
    }
    sp = cpu.stack32 ? (sp - w) | 0 : (sp - w) & 0xffff;
    if (op16) wr16(cpu, 2, sp, frameTemp);
    else wr32(cpu, 2, sp, frameTemp);
  }
  const nsp = cpu.stack32 ? (sp - size) | 0 : (sp - size) & 0xffff;
  // the new stack top must be addressable (SDM: #SS if ESP - size is outside SS)
  if (size > 0) readLin(cpu, 2, nsp, 1);
  if (op16) cpu.regs16[10] = frameTemp;
  else r[5] = cpu.stack32 ? frameTemp : (r[5]! & ~0xffff) | frameTemp;
  setSp(cpu, nsp);
}

export function leave(cpu: Cpu, op16: boolean): void {
  const r = cpu.regs;
  const bp = cpu.stack32 ? r[5]! : r[5]! & 0xffff;
  const v = op16 ? rd16(cpu, 2, bp) : rd32(cpu, 2, bp);
  setSp(cpu, bp + (op16 ? 2 : 4));
  if (op16) cpu.regs16[10] = v;
  else r[5] = v;
}

/** LDS/LES/LSS/LFS/LGS: offset then selector from memory; the segment load checks first. */
export function loadFarPointer(cpu: Cpu, m: number, disp: number, s: number, op16: boolean): void {
  const seg = (m >> 14) & 7;
  const off = ea(cpu, m, disp);
  const offVal = op16 ? rd16(cpu, seg, off) : rd32(cpu, seg, off);
  const selOff = (m & 0x20000) !== 0 ? (off + (op16 ? 2 : 4)) & 0xffff : (off + (op16 ? 2 : 4)) | 0;
  const sel = rd16(cpu, seg, selOff);
  loadSeg(cpu, s, sel);
  const r = m & 7;
  if (op16) cpu.regs16[r << 1] = offVal;
  else cpu.regs[r] = offVal;
}
