/**
 * Out-of-line instruction bodies for the interpreter (exec.ts): the bit-test family,
 * CMPXCHG8B and BOUND. Same rules as exec.ts: every access that can fault comes before any
 * state is committed.
 */
import type { Cpu } from './cpu.ts';
import { raise } from './fault.ts';
import { materialize } from './flags.ts';
import { setCfOnly } from './alu.ts';
import { ea } from './operands.ts';
import { rd16, rd32, rmw16, rmw32, rmwDone16, rmwDone32, wr32 } from './mem.ts';

/** BT/BTS/BTR/BTC (aux: op in bits 0-1, immediate offset in bit 2). */
export function btOp(cpu: Cpu, i: number, m: number, bits: number): void {
  const c = cpu.cache;
  const aux = m >>> 24;
  const op = aux & 3;
  let off: number;
  if ((aux & 4) !== 0) off = c.imm[i]! & (bits - 1);
  else off = bits === 16 ? (cpu.regs16[(m & 7) << 1]! << 16) >> 16 : cpu.regs[m & 7]!;
  if ((m & 0x2000) !== 0) {
    const r = (m >> 3) & 7;
    const bit = off & (bits - 1);
    const v = bits === 16 ? cpu.regs16[r << 1]! : cpu.regs[r]!;
    setCfOnly(cpu, (v >>> bit) & 1);
    if (op === 0) return;
    const nv = op === 1 ? v | (1 << bit) : op === 2 ? v & ~(1 << bit) : v ^ (1 << bit);
    if (bits === 16) cpu.regs16[r << 1] = nv;
    else cpu.regs[r] = nv;
    return;
  }
  // memory: the bit offset (register form) addresses beyond the operand, signed
  let addr = ea(cpu, m, c.disp[i]!);
  if ((aux & 4) === 0) {
    addr = bits === 16 ? addr + ((off >> 4) << 1) : addr + ((off >> 5) << 2);
    addr = (m & 0x20000) !== 0 ? addr & 0xffff : addr | 0;
  }
  const bit = off & (bits - 1);
  const seg = (m >> 14) & 7;
  if (op === 0) {
    const v = bits === 16 ? rd16(cpu, seg, addr) : rd32(cpu, seg, addr);
    setCfOnly(cpu, (v >>> bit) & 1);
    return;
  }
  const v = bits === 16 ? rmw16(cpu, seg, addr) : rmw32(cpu, seg, addr);
  const nv = op === 1 ? v | (1 << bit) : op === 2 ? v & ~(1 << bit) : v ^ (1 << bit);
  if (bits === 16) rmwDone16(cpu, nv);
  else rmwDone32(cpu, nv);
  setCfOnly(cpu, (v >>> bit) & 1);
}

export function cmpxchg8b(cpu: Cpu, m: number, disp: number): void {
  const seg = (m >> 14) & 7;
  const off = ea(cpu, m, disp);
  const off4 = (m & 0x20000) !== 0 ? (off + 4) & 0xffff : (off + 4) | 0;
  const lo = rmw32(cpu, seg, off);
  const hi = rmw32(cpu, seg, off4);
  const regs = cpu.regs;
  materialize(cpu);
  if (lo === regs[0] && hi === regs[2]) {
    wr32(cpu, seg, off, regs[3]!);
    wr32(cpu, seg, off4, regs[1]!);
    cpu.flags |= 0x40;
  } else {
    wr32(cpu, seg, off, lo);
    wr32(cpu, seg, off4, hi);
    regs[0] = lo;
    regs[2] = hi;
    cpu.flags &= ~0x40;
  }
}

export function bound(cpu: Cpu, m: number, disp: number, op16: boolean): void {
  const seg = (m >> 14) & 7;
  const off = ea(cpu, m, disp);
  const w = op16 ? 2 : 4;
  const off2 = (m & 0x20000) !== 0 ? (off + w) & 0xffff : (off + w) | 0;
  let idx: number, lo: number, hi: number;
  if (op16) {
    idx = (cpu.regs16[(m & 7) << 1]! << 16) >> 16;
    lo = (rd16(cpu, seg, off) << 16) >> 16;
    hi = (rd16(cpu, seg, off2) << 16) >> 16;
  } else {
    idx = cpu.regs[m & 7]!;
    lo = rd32(cpu, seg, off);
    hi = rd32(cpu, seg, off2);
  }
  if (idx < lo || idx > hi) raise(cpu, 5, -1);
}

