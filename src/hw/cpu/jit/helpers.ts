/**
 * Runtime helpers that generated region code (codegen.ts) calls on its slow paths. Every
 * write helper returns 1 when the write invalidated decoded code (self-modifying code): the
 * region then leaves right after the writing instruction, because its own code may be gone.
 */
import type { Cpu } from '../cpu.ts';
import { alu, shift, imul2, bitScan, mul1, div1, shiftDouble, incDec } from '../alu.ts';
import { getCF, testCC } from '../flags.ts';
import { rd16, rd32, rd8, rmw8, rmw32, rmwDone8, rmwDone32, wr16, wr32, wr8 } from '../mem.ts';
import { stringOp } from '../string.ts';
import { execBlock } from '../exec.ts';

export interface JitHelpers {
  rd8(cpu: Cpu, seg: number, off: number): number;
  rd16(cpu: Cpu, seg: number, off: number): number;
  rd32(cpu: Cpu, seg: number, off: number): number;
  wr8(cpu: Cpu, seg: number, off: number, v: number): number;
  wr16(cpu: Cpu, seg: number, off: number, v: number): number;
  wr32(cpu: Cpu, seg: number, off: number, v: number): number;
  rmw8(cpu: Cpu, seg: number, off: number): number;
  rmwDone8(cpu: Cpu, v: number): number;
  rmw32(cpu: Cpu, seg: number, off: number): number;
  rmwDone32(cpu: Cpu, v: number): number;
  mul1(cpu: Cpu, src: number, signed: boolean, bits: number): void;
  div1(cpu: Cpu, src: number, signed: boolean, bits: number): void;
  shiftDouble(cpu: Cpu, left: boolean, dst: number, src: number, count: number, bits: number): number;
  incDec(cpu: Cpu, a: number, dec: boolean, bits: number): number;
  /** A string instruction; 1 = not finished (leave with EIP at it), 2 = it wrote code. */
  str(cpu: Cpu, kind: number, size: number, m: number, len: number): number;
  alu(cpu: Cpu, op: number, a: number, b: number, bits: number): number;
  shift(cpu: Cpu, op: number, v: number, count: number, bits: number): number;
  imul2(cpu: Cpu, a: number, b: number, bits: number): number;
  bitScan(cpu: Cpu, src: number, old: number, reverse: boolean, bits: number): number;
  getCF(cpu: Cpu): number;
  testCC(cpu: Cpu, cc: number): boolean;
  /** Run decoded instruction `idx` in the interpreter (Cpu.eip must point at it). */
  interp(cpu: Cpu, idx: number): void;
}

export const HELPERS: JitHelpers = {
  rd8, rd16, rd32,
  wr8(cpu, seg, off, v) {
    const n = cpu.cache.invalidated;
    wr8(cpu, seg, off, v);
    return cpu.cache.invalidated !== n ? 1 : 0;
  },
  wr16(cpu, seg, off, v) {
    const n = cpu.cache.invalidated;
    wr16(cpu, seg, off, v);
    return cpu.cache.invalidated !== n ? 1 : 0;
  },
  wr32(cpu, seg, off, v) {
    const n = cpu.cache.invalidated;
    wr32(cpu, seg, off, v);
    return cpu.cache.invalidated !== n ? 1 : 0;
  },
  rmw8,
  rmwDone8(cpu, v) {
    const n = cpu.cache.invalidated;
    rmwDone8(cpu, v);
    return cpu.cache.invalidated !== n ? 1 : 0;
  },
  mul1, div1, shiftDouble, incDec,
  str(cpu, kind, size, m, len) {
    const n = cpu.cache.invalidated;
    if (stringOp(cpu, kind, size, m, len) !== 0) return 1;
    return cpu.cache.invalidated !== n ? 2 : 0;
  },
  rmw32,
  rmwDone32(cpu, v) {
    const n = cpu.cache.invalidated;
    rmwDone32(cpu, v);
    return cpu.cache.invalidated !== n ? 1 : 0;
  },
  alu, shift, imul2, bitScan, getCF, testCC,
  interp(cpu, idx) {
    execBlock(cpu, idx, 1);
  },
};
