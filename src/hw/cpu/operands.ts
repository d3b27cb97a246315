/**
 * Operand access for decoded instructions: the effective address of a ModRM memory operand
 * and reads/writes of the E (ModRM r/m) and G (ModRM reg) operands at 8/16/32 bits.
 *
 * `m` and `disp` are the decoded operand word and displacement (ops.ts). Register numbers
 * for 8-bit operands map to byte offsets in Cpu.regs8 by r8(): AL CL DL BL AH CH DH BH.
 * A read-modify-write of a memory E operand is rmwE*() then rmwDone*() (mem.ts).
 */
import type { Cpu } from './cpu.ts';
import { rd16, rd32, rd8, rmw16, rmw32, rmw8, rmwDone16, rmwDone32, rmwDone8, wr16, wr32, wr8 } from './mem.ts';

/** Byte offset in regs8 of 8-bit register r. */
export function r8(r: number): number {
  return ((r & 3) << 2) | (r >> 2);
}

/** Effective address (offset) of the memory operand. */
export function ea(cpu: Cpu, m: number, disp: number): number {
  let a = disp;
  if ((m & 0x800) !== 0) a += cpu.regs[(m >> 3) & 7]!;
  if ((m & 0x1000) !== 0) a += cpu.regs[(m >> 6) & 7]! << ((m >> 9) & 3);
  return (m & 0x20000) !== 0 ? a & 0xffff : a | 0;
}

export function segOf(m: number): number {
  return (m >> 14) & 7;
}

export function readE8(cpu: Cpu, m: number, disp: number): number {
  if ((m & 0x2000) !== 0) return cpu.regs8[r8((m >> 3) & 7)]!;
  return rd8(cpu, (m >> 14) & 7, ea(cpu, m, disp));
}

export function readE16(cpu: Cpu, m: number, disp: number): number {
  if ((m & 0x2000) !== 0) return cpu.regs16[((m >> 3) & 7) << 1]!;
  return rd16(cpu, (m >> 14) & 7, ea(cpu, m, disp));
}

export function readE32(cpu: Cpu, m: number, disp: number): number {
  if ((m & 0x2000) !== 0) return cpu.regs[(m >> 3) & 7]!;
  return rd32(cpu, (m >> 14) & 7, ea(cpu, m, disp));
}

export function writeE8(cpu: Cpu, m: number, disp: number, v: number): void {
  if ((m & 0x2000) !== 0) cpu.regs8[r8((m >> 3) & 7)] = v;
  else wr8(cpu, (m >> 14) & 7, ea(cpu, m, disp), v);
}

export function writeE16(cpu: Cpu, m: number, disp: number, v: number): void {
  if ((m & 0x2000) !== 0) cpu.regs16[((m >> 3) & 7) << 1] = v;
  else wr16(cpu, (m >> 14) & 7, ea(cpu, m, disp), v);
}

export function writeE32(cpu: Cpu, m: number, disp: number, v: number): void {
  if ((m & 0x2000) !== 0) cpu.regs[(m >> 3) & 7] = v;
  else wr32(cpu, (m >> 14) & 7, ea(cpu, m, disp), v);
}

/** Read E for a read-modify-write (memory: checked as a write). Finish with doneE*. */
export function rmwE8(cpu: Cpu, m: number, disp: number): number {
  if ((m & 0x2000) !== 0) return cpu.regs8[r8((m >> 3) & 7)]!;
  return rmw8(cpu, (m >> 14) & 7, ea(cpu, m, disp));
}

export function rmwE16(cpu: Cpu, m: number, disp: number): number {
  if ((m & 0x2000) !== 0) return cpu.regs16[((m >> 3) & 7) << 1]!;
  return rmw16(cpu, (m >> 14) & 7, ea(cpu, m, disp));
}

export function rmwE32(cpu: Cpu, m: number, disp: number): number {
  if ((m & 0x2000) !== 0) return cpu.regs[(m >> 3) & 7]!;
  return rmw32(cpu, (m >> 14) & 7, ea(cpu, m, disp));
}

export function doneE8(cpu: Cpu, m: number, v: number): void {
  if ((m & 0x2000) !== 0) cpu.regs8[r8((m >> 3) & 7)] = v;
  else rmwDone8(cpu, v);
}

export function doneE16(cpu: Cpu, m: number, v: number): void {
  if ((m & 0x2000) !== 0) cpu.regs16[((m >> 3) & 7) << 1] = v;
  else rmwDone16(cpu, v);
}

export function doneE32(cpu: Cpu, m: number, v: number): void {
  if ((m & 0x2000) !== 0) cpu.regs[(m >> 3) & 7] = v;
  else rmwDone32(cpu, v);
}

export function getG8(cpu: Cpu, m: number): number {
  return cpu.regs8[r8(m & 7)]!;
}

export function setG8(cpu: Cpu, m: number, v: number): void {
  cpu.regs8[r8(m & 7)] = v;
}

export function getG16(cpu: Cpu, m: number): number {
  return cpu.regs16[(m & 7) << 1]!;
}

export function setG16(cpu: Cpu, m: number, v: number): void {
  cpu.regs16[(m & 7) << 1] = v;
}
