/**
 * Segmented and linear memory accesses of the CPU, with the flat-TLB fast path.
 *
 * Each data access is: segment check -> linear address -> TLB entry -> machine memory.
 *  - Segment check: `(off >>> 0) < segLim[seg * 8 + k]`, an exclusive bound on the start
 *    offset for access kind k (0..3 read of 1/2/4/8 bytes, 4..7 write). Null, expand-down,
 *    unreadable or unwritable segments have bound 0, so they always take `segSlow`, which
 *    raises the architectural fault or computes the linear address the long way.
 *  - TLB: `(entry & mask) === T_VALID` and no page crossing, else the slow path (miss, A/D,
 *    MMIO, code frame, split access).
 *
 * Invariants:
 *  - A write that can fault checks everything before changing memory: split accesses
 *    translate both pages first.
 *  - Stores to frames holding decoded code call MachineMemory.notifyWritten after writing,
 *    so the decoded-block cache drops what they overwrote (CPU-PERF rule 3).
 *  - Read-modify-write instructions translate for writing before they read (a write
 *    fault has W=1 in its error code even when the page is not present) and keep the linear
 *    address in Cpu.rmwLin for the write-back.
 *  - Values: rd8/rd16 return zero-extended, rd32 returns int32.
 */
import type { Cpu } from './cpu.ts';
import { raise } from './fault.ts';
import { ACC_IMPLICIT, ACC_USER, ACC_WRITE, translate } from './paging.ts';
import { T_MMIO } from './tlb.ts';

const K_W = 4;

// ---------------------------------------------------------------- segment slow path

/**
 * The linear address of `size` bytes at `seg:off` for a read (`write` false) or write,
 * raising #GP(0) or #SS(0) when the segment does not allow it.
 */
export function segSlow(cpu: Cpu, seg: number, off: number, size: number, write: boolean): number {
  const attr = cpu.segAttr[seg]!;
  const pm = (cpu.cr0 & 1) !== 0 && (cpu.flags & 0x20000) === 0;
  const vec = seg === 2 ? 12 : 13;
  if (pm) {
    if ((attr & 0x10000) !== 0) raise(cpu, vec, 0);
    if ((attr & 8) !== 0) {
      // code segment: never writable, readable only with R
      if (write || (attr & 2) === 0) raise(cpu, vec, 0);
    } else if (write && (attr & 2) === 0) {
      raise(cpu, vec, 0);
    }
  }
  const limit = cpu.segLimit[seg]! >>> 0;
  const o = off >>> 0;
  const last = o + size - 1;
  if ((attr & 0x1c) === 0x14) {
    // expand-down data: valid offsets are (limit, 0xffff or 0xffffffff]
    const top = (attr & 0x4000) !== 0 ? 0xffffffff : 0xffff;
    if (o <= limit || last > top) raise(cpu, vec, 0);
  } else if (last > limit) {
    // offset + size - 1 is checked without 32-bit wrap-around, also for 4 GiB limits
    raise(cpu, vec, 0);
  }
  return (cpu.segBase[seg]! + off) | 0;
}

// ---------------------------------------------------------------- linear slow paths

/** #AC(0) for a misaligned CPL-3 access, after the #PF checks that take priority over it. */
function alignFault(cpu: Cpu, lin: number, size: number, acc: number): never {
  translate(cpu, lin, acc);
  if (((lin & 0xfff) + size) > 0x1000) translate(cpu, ((lin | 0xfff) + 1) | 0, acc);
  return raise(cpu, 17, 0);
}

function userAcc(cpu: Cpu): number {
  return cpu.cpl === 3 ? ACC_USER : 0;
}

/** Read `size` bytes at linear `lin` with access `acc` (user/supervisor), any alignment. */
export function readLinSlow(cpu: Cpu, lin: number, size: number, acc: number): number {
  if (cpu.alignCheck && (acc & ACC_USER) !== 0 && (lin & (size - 1)) !== 0) alignFault(cpu, lin, size, acc);
  if (((lin & 0xfff) + size) > 0x1000) {
    // Split: translate both pages (faults first), then assemble bytes.
    translate(cpu, lin, acc);
    translate(cpu, ((lin | 0xfff) + 1) | 0, acc);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | readLinSlow(cpu, (lin + i) | 0, 1, acc);
    return size === 4 ? v | 0 : v;
  }
  const e = translate(cpu, lin, acc);
  if (cpu.watch !== 0) watchAccess(cpu, lin, size, false);
  const ma = (e & ~0xfff) ^ lin;
  if ((e & T_MMIO) !== 0) {
    const v = cpu.mmio.read(ma >>> 0, size as 1 | 2 | 4);
    return size === 4 ? v | 0 : v;
  }
  if (size === 1) return cpu.memU8[ma]!;
  if (size === 2) return cpu.memView.getUint16(ma, true);
  return cpu.memView.getInt32(ma, true);
}

/**
 * Data breakpoints (DR7 R/W 01: writes, 11: reads and writes; LEN 1, 2, 8 or 4 bytes at an
 * address aligned down to that size): note which of the watching DR0-DR3 this access
 * touches. Reported as a #DB trap after the instruction (run.ts stepOne).
 */
function watchAccess(cpu: Cpu, lin: number, size: number, write: boolean): void {
  const dr7 = cpu.dr[7]!;
  for (let n = 0; n < 4; n++) {
    if ((cpu.watch & (1 << n)) === 0) continue;
    const rw = (dr7 >>> (16 + n * 4)) & 3;
    if (rw === 1 ? !write : rw !== 3) continue;
    const len = [1, 2, 8, 4][(dr7 >>> (18 + n * 4)) & 3]!;
    const start = (cpu.dr[n]! & -len) >>> 0;
    const a = lin >>> 0;
    if (a <= start + len - 1 && a + size - 1 >= start) cpu.dbHits |= 1 << n;
  }
}

/** Write `size` bytes at linear `lin` with access `acc | ACC_WRITE`. */
export function writeLinSlow(cpu: Cpu, lin: number, size: number, v: number, acc: number): void {
  if (cpu.alignCheck && (acc & ACC_USER) !== 0 && (lin & (size - 1)) !== 0) alignFault(cpu, lin, size, acc | ACC_WRITE);
  acc |= ACC_WRITE;
  if (((lin & 0xfff) + size) > 0x1000) {
    translate(cpu, lin, acc);
    translate(cpu, ((lin | 0xfff) + 1) | 0, acc);
    for (let i = 0; i < size; i++) writeLinSlow(cpu, (lin + i) | 0, 1, (v >>> (8 * i)) & 0xff, acc);
    return;
  }
  const e = translate(cpu, lin, acc);
  if (cpu.watch !== 0) watchAccess(cpu, lin, size, true);
  const ma = (e & ~0xfff) ^ lin;
  if ((e & T_MMIO) !== 0) {
    cpu.mmio.write(ma >>> 0, size as 1 | 2 | 4, v);
    return;
  }
  if (size === 1) cpu.memU8[ma] = v;
  else if (size === 2) cpu.memView.setUint16(ma, v & 0xffff, true);
  else cpu.memView.setInt32(ma, v, true);
  if (cpu.mem.codeLines[ma >>> 12] !== 0) cpu.mem.notifyWritten(ma, size);
}

// ---------------------------------------------------------------- data accesses (CPL rules)

export function rd8(cpu: Cpu, seg: number, off: number): number {
  const lin = (off >>> 0) < cpu.segLim[seg << 3]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, 1, false);
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.rdMask) === 1) return cpu.memU8[(e & ~0xfff) ^ lin]!;
  return readLinSlow(cpu, lin, 1, userAcc(cpu));
}

export function rd16(cpu: Cpu, seg: number, off: number): number {
  const lin = (off >>> 0) < cpu.segLim[(seg << 3) + 1]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, 2, false);
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.rdMask) === 1 && (lin & 0xfff) !== 0xfff) return cpu.memView.getUint16((e & ~0xfff) ^ lin, true);
  return readLinSlow(cpu, lin, 2, userAcc(cpu));
}

export function rd32(cpu: Cpu, seg: number, off: number): number {
  const lin = (off >>> 0) < cpu.segLim[(seg << 3) + 2]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, 4, false);
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.rdMask) === 1 && (lin & 0xfff) <= 0xffc) return cpu.memView.getInt32((e & ~0xfff) ^ lin, true);
  return readLinSlow(cpu, lin, 4, userAcc(cpu));
}

export function wr8(cpu: Cpu, seg: number, off: number, v: number): void {
  const lin = (off >>> 0) < cpu.segLim[(seg << 3) + K_W]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, 1, true);
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.wrMask) === 1) cpu.memU8[(e & ~0xfff) ^ lin] = v;
  else writeLinSlow(cpu, lin, 1, v, userAcc(cpu));
}

export function wr16(cpu: Cpu, seg: number, off: number, v: number): void {
  const lin = (off >>> 0) < cpu.segLim[(seg << 3) + K_W + 1]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, 2, true);
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.wrMask) === 1 && (lin & 0xfff) !== 0xfff) cpu.memView.setUint16((e & ~0xfff) ^ lin, v, true);
  else writeLinSlow(cpu, lin, 2, v, userAcc(cpu));
}

export function wr32(cpu: Cpu, seg: number, off: number, v: number): void {
  const lin = (off >>> 0) < cpu.segLim[(seg << 3) + K_W + 2]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, 4, true);
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.wrMask) === 1 && (lin & 0xfff) <= 0xffc) cpu.memView.setInt32((e & ~0xfff) ^ lin, v, true);
  else writeLinSlow(cpu, lin, 4, v, userAcc(cpu));
}

/** Linear address of a write of `size` at seg:off (segment checks only). */
export function writeLin(cpu: Cpu, seg: number, off: number, size: number): number {
  const k = (seg << 3) + K_W + (size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3);
  return (off >>> 0) < cpu.segLim[k]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, size, true);
}

/** Linear address of a read of `size` at seg:off (segment checks only). */
export function readLin(cpu: Cpu, seg: number, off: number, size: number): number {
  const k = (seg << 3) + (size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3);
  return (off >>> 0) < cpu.segLim[k]! ? (cpu.segBase[seg]! + off) | 0 : segSlow(cpu, seg, off, size, false);
}

// ---------------------------------------------------------------- read-modify-write

/** First half of a read-modify-write: checks as a write, reads, remembers the address. */
export function rmw8(cpu: Cpu, seg: number, off: number): number {
  const lin = writeLin(cpu, seg, off, 1);
  cpu.rmwLin = lin;
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.wrMask) === 1) return cpu.memU8[(e & ~0xfff) ^ lin]!;
  translate(cpu, lin, userAcc(cpu) | ACC_WRITE);
  return readLinSlow(cpu, lin, 1, userAcc(cpu));
}

export function rmw16(cpu: Cpu, seg: number, off: number): number {
  const lin = writeLin(cpu, seg, off, 2);
  cpu.rmwLin = lin;
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.wrMask) === 1 && (lin & 0xfff) !== 0xfff) return cpu.memView.getUint16((e & ~0xfff) ^ lin, true);
  translate(cpu, lin, userAcc(cpu) | ACC_WRITE);
  if ((lin & 0xfff) === 0xfff) translate(cpu, ((lin | 0xfff) + 1) | 0, userAcc(cpu) | ACC_WRITE);
  return readLinSlow(cpu, lin, 2, userAcc(cpu));
}

export function rmw32(cpu: Cpu, seg: number, off: number): number {
  const lin = writeLin(cpu, seg, off, 4);
  cpu.rmwLin = lin;
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.wrMask) === 1 && (lin & 0xfff) <= 0xffc) return cpu.memView.getInt32((e & ~0xfff) ^ lin, true);
  translate(cpu, lin, userAcc(cpu) | ACC_WRITE);
  if ((lin & 0xfff) > 0xffc) translate(cpu, ((lin | 0xfff) + 1) | 0, userAcc(cpu) | ACC_WRITE);
  return readLinSlow(cpu, lin, 4, userAcc(cpu));
}

/** Second half: write back to the address of the last rmw*. */
export function rmwDone8(cpu: Cpu, v: number): void {
  wrLin(cpu, cpu.rmwLin, 1, v);
}

export function rmwDone16(cpu: Cpu, v: number): void {
  wrLin(cpu, cpu.rmwLin, 2, v);
}

export function rmwDone32(cpu: Cpu, v: number): void {
  wrLin(cpu, cpu.rmwLin, 4, v);
}

// ---------------------------------------------------------------- linear accesses

/** Read at a linear address with the current CPL's privilege. */
export function rdLin(cpu: Cpu, lin: number, size: number): number {
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.rdMask) === 1 && (lin & 0xfff) <= 0x1000 - size) {
    const ma = (e & ~0xfff) ^ lin;
    return size === 1 ? cpu.memU8[ma]! : size === 2 ? cpu.memView.getUint16(ma, true) : cpu.memView.getInt32(ma, true);
  }
  return readLinSlow(cpu, lin, size, userAcc(cpu));
}

/** Write at a linear address with the current CPL's privilege. */
export function wrLin(cpu: Cpu, lin: number, size: number, v: number): void {
  const e = cpu.tlbE[lin >>> 12]!;
  if ((e & cpu.wrMask) === 1 && (lin & 0xfff) <= 0x1000 - size) {
    const ma = (e & ~0xfff) ^ lin;
    if (size === 1) cpu.memU8[ma] = v;
    else if (size === 2) cpu.memView.setUint16(ma, v, true);
    else cpu.memView.setInt32(ma, v, true);
    return;
  }
  writeLinSlow(cpu, lin, size, v, userAcc(cpu));
}

/** Implicit supervisor read (descriptor tables, TSS, IDT): privilege of CPL 0 always. */
export function sysRd(cpu: Cpu, lin: number, size: number): number {
  return readLinSlow(cpu, lin, size, ACC_IMPLICIT);
}

export function sysWr(cpu: Cpu, lin: number, size: number, v: number): void {
  writeLinSlow(cpu, lin, size, v, ACC_IMPLICIT);
}

// ---------------------------------------------------------------- stack

/** Push (stack size from SS.B); ESP/SP changes only after the write succeeded. */
export function push32(cpu: Cpu, v: number): void {
  const regs = cpu.regs;
  if (cpu.stack32) {
    const n = (regs[4]! - 4) | 0;
    wr32(cpu, 2, n, v);
    regs[4] = n;
  } else {
    const n = (regs[4]! - 4) & 0xffff;
    wr32(cpu, 2, n, v);
    cpu.regs16[8] = n;
  }
}

export function push16(cpu: Cpu, v: number): void {
  const regs = cpu.regs;
  if (cpu.stack32) {
    const n = (regs[4]! - 2) | 0;
    wr16(cpu, 2, n, v & 0xffff);
    regs[4] = n;
  } else {
    const n = (regs[4]! - 2) & 0xffff;
    wr16(cpu, 2, n, v & 0xffff);
    cpu.regs16[8] = n;
  }
}

/** Read the value a pop would return, without changing ESP (commit with popCommit). */
export function peek32(cpu: Cpu, offset: number): number {
  const sp = cpu.stack32 ? (cpu.regs[4]! + offset) | 0 : (cpu.regs[4]! + offset) & 0xffff;
  return rd32(cpu, 2, sp);
}

export function peek16(cpu: Cpu, offset: number): number {
  const sp = cpu.stack32 ? (cpu.regs[4]! + offset) | 0 : (cpu.regs[4]! + offset) & 0xffff;
  return rd16(cpu, 2, sp);
}

/** Add `n` to ESP (or SP for a 16-bit stack). */
export function adjustSp(cpu: Cpu, n: number): void {
  if (cpu.stack32) cpu.regs[4] = (cpu.regs[4]! + n) | 0;
  else cpu.regs16[8] = (cpu.regs[4]! + n) & 0xffff;
}

export function pop32(cpu: Cpu): number {
  const v = peek32(cpu, 0);
  adjustSp(cpu, 4);
  return v;
}

export function pop16(cpu: Cpu): number {
  const v = peek16(cpu, 0);
  adjustSp(cpu, 2);
  return v;
}
