/**
 * String instructions: MOVS CMPS STOS LODS SCAS INS OUTS at 8/16/32 bits, with REP/REPE/REPNE
 * and 16- or 32-bit addressing (SI/DI/CX or ESI/EDI/ECX).
 *
 * Invariants:
 *  - Each iteration commits ESI/EDI/ECX (and AL/AX/EAX, flags) before the next starts, so a
 *    fault mid-way leaves the registers describing the completed iterations and EIP at the
 *    instruction: restarting it continues where it stopped (architectural).
 *  - A REP instruction runs at most MAX_ITERS iterations per call. If it is not finished,
 *    the call returns 1: the block ends with EIP still at the instruction (not retired), so
 *    interrupts and the budget are honoured between chunks (each unfinished chunk charges
 *    the budget 1024 instructions); it retires once, at the end.
 *  - Single-stepped (TF) or after a data/I/O breakpoint hit, a REP instruction runs one
 *    iteration per call (the #DB trap comes between iterations, EIP at the instruction).
 *  - The source segment is the decoded one (DS or an override); the destination is always
 *    ES (no override).
 *  - Fast path (REP MOVS/STOS forward, RAM, no code on the destination page): whole runs
 *    within one source and one destination page are done with direct typed-array copies,
 *    element by element so overlapping MOVS keeps the byte-wise semantics.
 */
import type { Cpu } from './cpu.ts';
import { alu } from './alu.ts';
import { getZF } from './flags.ts';
import { rd16, rd32, rd8, wr16, wr32, wr8, readLin, writeLin } from './mem.ts';
import { checkIoPermission, ioExit, portIn, portOut } from './io.ts';
import { T_VALID } from './tlb.ts';

const MAX_ITERS = 16384;

export const S_MOVS = 0;
export const S_CMPS = 1;
export const S_STOS = 2;
export const S_LODS = 3;
export const S_SCAS = 4;
export const S_INS = 5;
export const S_OUTS = 6;

function rdSz(cpu: Cpu, seg: number, off: number, size: number): number {
  return size === 1 ? rd8(cpu, seg, off) : size === 2 ? rd16(cpu, seg, off) : rd32(cpu, seg, off);
}

function wrSz(cpu: Cpu, seg: number, off: number, size: number, v: number): void {
  if (size === 1) wr8(cpu, seg, off, v);
  else if (size === 2) wr16(cpu, seg, off, v);
  else wr32(cpu, seg, off, v);
}

/**
 * Execute string op `kind` of `size` bytes with operand word `m`; `len` is the instruction
 * length (for HVM I/O exits). Returns 0 when the instruction completed, 1 when it must be
 * re-executed to continue.
 */
export function stringOp(cpu: Cpu, kind: number, size: number, m: number, len: number): number {
  const regs = cpu.regs;
  const a16 = (m & 0x20000) !== 0;
  const rep = (m & 0x180000) !== 0;
  const amask = a16 ? 0xffff : -1;
  const seg = (m >> 14) & 7;
  const step = (cpu.flags & 0x400) !== 0 ? -size : size;

  if (kind === S_INS || kind === S_OUTS) {
    const port = regs[2]! & 0xffff;
    checkIoPermission(cpu, port, size);
    ioExit(cpu, port, size, kind === S_INS, true, rep, 0, len);
  }

  if (!rep) {
    stringOnce(cpu, kind, size, seg, amask, step);
    return 0;
  }
  let n = 0;
  for (;;) {
    const cx = regs[1]! & amask;
    if (cx === 0) return 0;
    if (n >= MAX_ITERS) {
      // not retired yet, but it did work: charge the run's budget so a huge REP cannot
      // keep run() from returning
      cpu.budgetEnd -= 1024;
      return 1;
    }
    if ((kind === S_MOVS || kind === S_STOS) && step > 0 && !a16 && (cpu.flags & 0x100) === 0) {
      const done = fastRun(cpu, kind, size, seg, cx >>> 0);
      if (done > 0) {
        n += done;
        continue;
      }
    }
    stringOnce(cpu, kind, size, seg, amask, step);
    if (a16) cpu.regs16[2] = (cx - 1) & 0xffff;
    else regs[1] = (cx - 1) | 0;
    n++;
    if (kind === S_CMPS || kind === S_SCAS) {
      const zf = getZF(cpu);
      if ((m & 0x80000) !== 0 ? !zf : zf) return 0; // REPE stops on ZF=0, REPNE on ZF=1
    }
    // single-stepped (TF) or a breakpoint hit: the #DB trap comes after this iteration, with
    // EIP still at the instruction if iterations remain
    if (((cpu.flags & 0x100) | cpu.dbHits) !== 0 && (regs[1]! & amask) !== 0) {
      cpu.budgetEnd -= 1;
      return 1;
    }
  }
}

function advance(cpu: Cpu, r: number, amask: number, step: number): void {
  if (amask === -1) cpu.regs[r] = (cpu.regs[r]! + step) | 0;
  else cpu.regs16[r << 1] = (cpu.regs[r]! + step) & 0xffff;
}

function stringOnce(cpu: Cpu, kind: number, size: number, seg: number, amask: number, step: number): void {
  const regs = cpu.regs;
  const si = regs[6]! & amask, di = regs[7]! & amask;
  const bits = size * 8;
  switch (kind) {
    case S_MOVS: {
      const v = rdSz(cpu, seg, si, size);
      wrSz(cpu, 0, di, size, v);
      advance(cpu, 6, amask, step);
      advance(cpu, 7, amask, step);
      return;
    }
    case S_CMPS: {
      const a = rdSz(cpu, seg, si, size);
      const b = rdSz(cpu, 0, di, size);
      alu(cpu, 7, a, b, bits);
      advance(cpu, 6, amask, step);
      advance(cpu, 7, amask, step);
      return;
    }
    case S_STOS: {
      const v = size === 1 ? cpu.regs8[0]! : size === 2 ? cpu.regs16[0]! : regs[0]!;
      wrSz(cpu, 0, di, size, v);
      advance(cpu, 7, amask, step);
      return;
    }
    case S_LODS: {
      const v = rdSz(cpu, seg, si, size);
      if (size === 1) cpu.regs8[0] = v;
      else if (size === 2) cpu.regs16[0] = v;
      else regs[0] = v;
      advance(cpu, 6, amask, step);
      return;
    }
    case S_SCAS: {
      const a = size === 1 ? cpu.regs8[0]! : size === 2 ? cpu.regs16[0]! : regs[0]!;
      const b = rdSz(cpu, 0, di, size);
      alu(cpu, 7, a, b, bits);
      advance(cpu, 7, amask, step);
      return;
    }
    case S_INS: {
      // the destination is checked (write) before the port is read
      writeLin(cpu, 0, di, size);
      const v = portIn(cpu, regs[2]! & 0xffff, size as 1 | 2 | 4);
      wrSz(cpu, 0, di, size, v);
      advance(cpu, 7, amask, step);
      return;
    }
    default: { // OUTS
      const v = rdSz(cpu, seg, si, size);
      portOut(cpu, regs[2]! & 0xffff, size as 1 | 2 | 4, v);
      advance(cpu, 6, amask, step);
      return;
    }
  }
}

/**
 * REP MOVS/STOS forward with 32-bit addressing, within one page of each operand, when both
 * translations are plain RAM on the fast path. Returns the iterations done (0: use the
 * general path).
 */
function fastRun(cpu: Cpu, kind: number, size: number, seg: number, cx: number): number {
  const regs = cpu.regs;
  const di = regs[7]!;
  const dLin = writeLin(cpu, 0, di, size);
  const de = cpu.tlbE[dLin >>> 12]!;
  if ((de & cpu.wrMask) !== T_VALID) return 0;
  let n = Math.min(cx, Math.floor((0x1000 - (dLin & 0xfff)) / size));
  if (n <= 1) return 0;
  // the last element must pass the segment check too
  writeLin(cpu, 0, (di + (n - 1) * size) | 0, size);
  const u8 = cpu.memU8;
  let dma = (de & ~0xfff) ^ dLin;
  if (kind === S_STOS) {
    const v = size === 1 ? cpu.regs8[0]! : size === 2 ? cpu.regs16[0]! : regs[0]!;
    if (size === 1) u8.fill(v, dma, dma + n);
    else {
      const view = cpu.memView;
      for (let k = 0; k < n; k++, dma += size) {
        if (size === 2) view.setUint16(dma, v, true);
        else view.setInt32(dma, v, true);
      }
    }
  } else {
    const si = regs[6]!;
    const sLin = readLin(cpu, seg, si, size);
    const se = cpu.tlbE[sLin >>> 12]!;
    if ((se & cpu.rdMask) !== T_VALID) return 0;
    n = Math.min(n, Math.floor((0x1000 - (sLin & 0xfff)) / size));
    if (n <= 1) return 0;
    readLin(cpu, seg, (si + (n - 1) * size) | 0, size);
    let sma = (se & ~0xfff) ^ sLin;
    const bytes = n * size;
    if (sma < dma && sma + bytes > dma && size > 1) return 0; // element-wise overlap: general path
    if (sma >= dma || sma + bytes <= dma) {
      // no forward overlap hazard: a plain forward copy is byte-wise equivalent
      u8.copyWithin(dma, sma, sma + bytes);
    } else {
      for (let k = 0; k < bytes; k++) u8[dma++] = u8[sma++]!;
    }
    regs[6] = (si + n * size) | 0;
  }
  regs[7] = (di + n * size) | 0;
  regs[1] = (cx - n) | 0;
  return n;
}
