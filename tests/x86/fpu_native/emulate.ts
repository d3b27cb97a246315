/**
 * Runs a differential case through the emulated Fpu exactly as runner.c runs it on the host:
 * FRSTOR the initial image, execute the instruction bytes, then FXSAVE and FNSAVE, producing
 * a record in the runner's output layout. Memory is a flat shim over the runner's operand
 * area (same linear addresses), so memory operands, stored images and FDP line up.
 */
import { FPU_OK, Fpu, type FpuEnv, type FpuMemory } from '../../../src/hw/cpu/fpu/fpu.ts';
import {
  IN_CODE, IN_EAX, IN_EFLAGS, IN_MEM, MEM_SIZE, OUT_EAX, OUT_EFLAGS, OUT_FSAVE, OUT_FXSAVE, OUT_MEM, OUT_SIZE,
} from './native.ts';

const SHIM_SIZE = 8192;
const STATE_OFF = 4096;
const FX_OFF = 5120;
const FS_OFF = 6144;

export class ShimMemory implements FpuMemory {
  readonly bytes = new Uint8Array(SHIM_SIZE);
  private readonly _dv = new DataView(this.bytes.buffer);
  constructor(readonly base: number) {}
  private _off(linear: number, n: number): number {
    const o = (linear >>> 0) - this.base;
    if (o < 0 || o + n > SHIM_SIZE) throw new Error(`memory shim: access of ${n} bytes at 0x${(linear >>> 0).toString(16)} outside the operand area`);
    return o;
  }
  read8(l: number): number { return this.bytes[this._off(l, 1)]; }
  read16(l: number): number { return this._dv.getUint16(this._off(l, 2), true); }
  read32(l: number): number { return this._dv.getInt32(this._off(l, 4), true); }
  write8(l: number, v: number): void { this.bytes[this._off(l, 1)] = v; }
  write16(l: number, v: number): void { this._dv.setUint16(this._off(l, 2), v, true); }
  write32(l: number, v: number): void { this._dv.setInt32(this._off(l, 4), v | 0, true); }
}

export class TestEnv implements FpuEnv {
  operand32 = true;
  protectedMode = true;
  cs = 0x23;
  eip = 0;
  ds = 0x2b;
  ea = 0;
  eflags = 0;
  eax = 0;
  readEflags(): number { return this.eflags; }
  writeCompareFlags(zpc: number): void { this.eflags = (this.eflags & ~0x8d5) | zpc; }
  writeAx(v: number): void { this.eax = ((this.eax & ~0xffff) | (v & 0xffff)) >>> 0; }
}

/** Execute one encoded case; returns the output record. */
export function emulateCase(input: Uint8Array, memBase: number, codeAddr: number): Uint8Array {
  const mem = new ShimMemory(memBase);
  mem.bytes.set(input.subarray(IN_MEM, IN_MEM + MEM_SIZE), 0);
  mem.bytes.set(input.subarray(0, 108), STATE_OFF);
  const din = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const env = new TestEnv();
  const fpu = new Fpu({ sse3: true });
  check(fpu.execute(5, 0x25, memBase + STATE_OFF, mem, env), 'frstor (setup)');
  env.eflags = din.getUint32(IN_EFLAGS, true);
  env.eax = din.getUint32(IN_EAX, true);
  env.eip = codeAddr;
  // Decode: [66] (D8..DF modrm [disp32] | 0F AE modrm disp32)
  let p = IN_CODE;
  if (input[p] === 0x66) { env.operand32 = false; p++; }
  if (input[p] === 0x0f) {
    const modrm = input[p + 2];
    const a = din.getUint32(p + 3, true);
    env.ea = a;
    check((modrm >> 3) & 7 ? fpu.fxrstor(a, mem) : fpu.fxsave(a, mem), 'fxsave/fxrstor');
  } else {
    const op = input[p] & 7;
    const modrm = input[p + 1];
    let a = 0;
    if (modrm < 0xc0) {
      if ((modrm & 0xc7) !== 0x05) throw new Error('emulateCase: only [disp32] operands are generated');
      a = din.getUint32(p + 2, true);
    }
    env.ea = a;
    check(fpu.execute(op, modrm, a, mem, env), `execute ${input[p].toString(16)} ${modrm.toString(16)}`);
  }
  // Capture as the runner does: FXSAVE, then FNSAVE (32-bit protected layout).
  const out = new Uint8Array(OUT_SIZE);
  const dout = new DataView(out.buffer);
  check(fpu.fxsave(memBase + FX_OFF, mem), 'fxsave (capture)');
  env.operand32 = true;
  check(fpu.execute(5, 0x35, memBase + FS_OFF, mem, env), 'fnsave (capture)');
  out.set(mem.bytes.subarray(FX_OFF, FX_OFF + 512), OUT_FXSAVE);
  out.set(mem.bytes.subarray(FS_OFF, FS_OFF + 108), OUT_FSAVE);
  dout.setUint32(OUT_EFLAGS, env.eflags >>> 0, true);
  dout.setUint32(OUT_EAX, env.eax >>> 0, true);
  out.set(mem.bytes.subarray(0, MEM_SIZE), OUT_MEM);
  return out;
}

function check(rc: number, what: string): void {
  if (rc !== FPU_OK) throw new Error(`${what}: the emulated FPU returned ${rc}`);
}
