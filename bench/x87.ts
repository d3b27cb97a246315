/**
 * x87 instruction throughput through Fpu.execute (the CPU's entry point), with a flat memory
 * shim standing in for the CPU's linear accessors. Reports ns per x87 instruction for the
 * common mixes (loads, arithmetic, stores, FXCH, FISTP), division and square root, and the
 * BigInt-backed transcendentals; baseline: the same arithmetic in JS doubles. Times are this
 * process's CPU time (process.cpuUsage), best of REPEATS: the project machine is shared, and
 * wall time there mostly measures the neighbours.
 */
import { Fpu, type FpuEnv, type FpuMemory } from '../src/hw/cpu/fpu/fpu.ts';
import type { BenchSuite } from './index.ts';

const REPEATS = 5;

class FlatMemory implements FpuMemory {
  private readonly _dv = new DataView(new ArrayBuffer(65536));
  read8(l: number): number { return this._dv.getUint8(l); }
  read16(l: number): number { return this._dv.getUint16(l, true); }
  read32(l: number): number { return this._dv.getInt32(l, true); }
  write8(l: number, v: number): void { this._dv.setUint8(l, v); }
  write16(l: number, v: number): void { this._dv.setUint16(l, v, true); }
  write32(l: number, v: number): void { this._dv.setInt32(l, v, true); }
  setF64(l: number, v: number): void { this._dv.setFloat64(l, v, true); }
}

class BenchEnv implements FpuEnv {
  operand32 = true;
  protectedMode = true;
  cs = 0x1b;
  eip = 0;
  ds = 0x23;
  ea = 0;
  readEflags(): number { return 0x202; }
  writeCompareFlags(): void {}
  writeAx(): void {}
}

/** A program: [esc & 7, modrm, linear] triples, run `rounds` times. */
type Program = readonly (readonly [number, number, number])[];

function timeProgram(prog: Program, rounds: number, setup: (f: Fpu, m: FlatMemory) => void): number {
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const f = new Fpu();
    f.fninit();
    const mem = new FlatMemory();
    const env = new BenchEnv();
    setup(f, mem);
    const ops = new Int32Array(prog.length * 3);
    prog.forEach(([a, b, c], i) => { ops[3 * i] = a; ops[3 * i + 1] = b; ops[3 * i + 2] = c; });
    const n = prog.length;
    const c0 = process.cpuUsage();
    for (let k = 0; k < rounds; k++) {
      for (let i = 0; i < n; i++) {
        env.ea = ops[3 * i + 2];
        f.execute(ops[3 * i], ops[3 * i + 1], ops[3 * i + 2], mem, env);
      }
    }
    const ns = cpuNs(c0) / (rounds * n);
    if (ns < best) best = ns;
  }
  return best;
}

const m = (reg: number): number => (reg << 3) | 5;

function cpuNs(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) * 1000;
}

export const x87Suite: BenchSuite = {
  name: 'x87',
  description: 'CPU ns per x87 instruction through Fpu.execute (best of 5); baseline: the same math in JS doubles',
  async run(log) {
    const seed = (f: Fpu, mem: FlatMemory): void => {
      mem.setF64(0x100, 1.0000001);
      mem.setF64(0x108, 0.9999999);
      mem.setF64(0x110, 2.5);
      void f;
    };
    // fld a; fmul b; fadd a; fstp c  (the daxpy-like mix)
    const mix: Program = [[5, m(0), 0x100], [4, m(1), 0x108], [4, m(0), 0x100], [5, m(3), 0x118]];
    const mixNs = timeProgram(mix, 400_000, seed);
    // fld a; fld b; fxch; fmulp; fistp m32
    const intMix: Program = [[5, m(0), 0x110], [5, m(0), 0x108], [1, 0xc9, 0], [6, 0xc9, 0], [3, m(3), 0x120]];
    const intNs = timeProgram(intMix, 300_000, seed);
    const div: Program = [[5, m(0), 0x100], [4, m(6), 0x108], [5, m(3), 0x118]];
    const divNs = timeProgram(div, 200_000, seed);
    const sqrt: Program = [[5, m(0), 0x110], [1, 0xfa, 0], [5, m(3), 0x118]];
    const sqrtNs = timeProgram(sqrt, 200_000, seed);
    const sin: Program = [[5, m(0), 0x110], [1, 0xfe, 0], [5, m(3), 0x118]];
    const sinNs = timeProgram(sin, 5_000, seed);
    // Baseline: the same mix in doubles (stored through a Float64Array like the emulator's memory).
    const buf = new Float64Array(8);
    buf[0] = 1.0000001; buf[1] = 0.9999999;
    let base = Infinity;
    for (let r = 0; r < REPEATS; r++) {
      const c0 = process.cpuUsage();
      for (let k = 0; k < 4_000_000; k++) buf[3] = buf[0] * buf[1] + buf[0] + buf[3] * 1e-300;
      base = Math.min(base, cpuNs(c0) / (4_000_000 * 4));
    }
    log(`  fld/fmul/fadd/fstp m64 mix   ${mixNs.toFixed(1)} ns/instr   (${(mixNs / base).toFixed(0)}x the JS-double baseline of ${base.toFixed(2)} ns/op)`);
    log(`  fld/fxch/fmulp/fistp mix      ${intNs.toFixed(1)} ns/instr`);
    log(`  fld/fdiv m64/fstp             ${divNs.toFixed(1)} ns/instr`);
    log(`  fld/fsqrt/fstp                ${sqrtNs.toFixed(1)} ns/instr`);
    log(`  fld/fsin/fstp (BigInt path)   ${sinNs.toFixed(1)} ns/instr`);
  },
};
