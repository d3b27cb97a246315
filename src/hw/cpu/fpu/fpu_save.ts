/**
 * The x87 state images: FSTENV/FLDENV (14- or 28-byte environment), FSAVE/FRSTOR (the
 * environment plus eight 10-byte registers in ST order) in their four layouts, and the
 * 512-byte FXSAVE/FXRSTOR area.
 *
 * Environment layouts (SDM vol. 1 figures 8-9 to 8-12), offsets in bytes:
 *   32-bit protected: 0 CW | 4 SW | 8 TW | 12 FIP | 16 FCS, FOP<<16 | 20 FDP | 24 FDS
 *   32-bit real/VM86: 0 CW | 4 SW | 8 TW | 12 FIP[15:0] | 16 FOP | FIP[31:16]<<12
 *                     | 20 FDP[15:0] | 24 FDP[31:16]<<12        (FIP/FDP as linear addresses)
 *   16-bit protected: 0 CW | 2 SW | 4 TW | 6 FIP | 8 FCS | 10 FDP | 12 FDS
 *   16-bit real/VM86: 0 CW | 2 SW | 4 TW | 6 FIP[15:0] | 8 FIP[19:16]<<12 | FOP
 *                     | 10 FDP[15:0] | 12 FDP[19:16]<<12
 * The upper halves of the 32-bit layouts' 16-bit fields are reserved and stored as 0xFFFF
 * (CW, SW, TW, FDS) as current Intel parts do; they are ignored on load.
 *
 * Tags: stored images carry the full 2-bit tag of each physical register, derived from its
 * contents (00 valid, 01 zero, 10 special: NaN, infinity, denormal, unsupported; 11 empty);
 * loads only keep "empty or not". FXSAVE keeps the abridged form (one bit per register).
 *
 * Loads read the whole image before changing any state (restartable after a fault).
 */
import { K_NORMAL, K_ZERO, classify } from './f80.ts';
import { FPU_GP, FPU_OK, type Fpu, type FpuEnv, type FpuMemory } from './fpu.ts';

/** Supported MXCSR bits (no DAZ), reported as MXCSR_MASK. */
export const MXCSR_MASK = 0xffbf;

/** The full tag word derived from the register contents. */
export function fullTagWord(f: Fpu): number {
  let tw = 0;
  for (let p = 0; p < 8; p++) {
    let t: number;
    if ((f.valid & (1 << p)) === 0) t = 3;
    else {
      const k = classify(f.se[p], f.hi[p], f.lo[p]);
      t = k === K_ZERO ? 1 : k === K_NORMAL ? 0 : 2;
    }
    tw |= t << (2 * p);
  }
  return tw;
}

function validFromTagWord(tw: number): number {
  let v = 0;
  for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) !== 3) v |= 1 << p;
  return v;
}

/** Write the environment; returns its size (14 or 28). */
function writeEnv(f: Fpu, a: number, mem: FpuMemory, env: FpuEnv): number {
  const tw = fullTagWord(f);
  const sw = f.statusWord;
  if (env.operand32) {
    mem.write32(a, 0xffff0000 | f.cw);
    mem.write32(a + 4, 0xffff0000 | sw);
    mem.write32(a + 8, 0xffff0000 | tw);
    if (env.protectedMode) {
      mem.write32(a + 12, f.fip);
      mem.write32(a + 16, (f.fcs & 0xffff) | ((f.fop & 0x7ff) << 16));
      mem.write32(a + 20, f.fdp);
      mem.write32(a + 24, 0xffff0000 | f.fds);
    } else {
      const ip = (f.fip + (f.fcs << 4)) | 0;
      const dp = (f.fdp + (f.fds << 4)) | 0;
      mem.write32(a + 12, 0xffff0000 | (ip & 0xffff));
      mem.write32(a + 16, (f.fop & 0x7ff) | (((ip >>> 16) & 0xffff) << 12));
      mem.write32(a + 20, 0xffff0000 | (dp & 0xffff));
      mem.write32(a + 24, ((dp >>> 16) & 0xffff) << 12);
    }
    return 28;
  }
  mem.write16(a, f.cw);
  mem.write16(a + 2, sw);
  mem.write16(a + 4, tw);
  if (env.protectedMode) {
    mem.write16(a + 6, f.fip & 0xffff);
    mem.write16(a + 8, f.fcs);
    mem.write16(a + 10, f.fdp & 0xffff);
    mem.write16(a + 12, f.fds);
  } else {
    const ip = f.fip + (f.fcs << 4);
    const dp = f.fdp + (f.fds << 4);
    mem.write16(a + 6, ip & 0xffff);
    mem.write16(a + 8, (((ip >>> 16) & 0xf) << 12) | (f.fop & 0x7ff));
    mem.write16(a + 10, dp & 0xffff);
    mem.write16(a + 12, ((dp >>> 16) & 0xf) << 12);
  }
  return 14;
}

// Environment read by readEnv, committed by commitEnv.
let eCw = 0, eSw = 0, eTw = 0, eFip = 0, eFcs = 0, eFop = 0, eFdp = 0, eFds = 0;

function readEnv(a: number, mem: FpuMemory, env: FpuEnv): number {
  if (env.operand32) {
    eCw = mem.read16(a);
    eSw = mem.read16(a + 4);
    eTw = mem.read16(a + 8);
    if (env.protectedMode) {
      eFip = mem.read32(a + 12);
      const w = mem.read32(a + 16);
      eFcs = w & 0xffff;
      eFop = (w >>> 16) & 0x7ff;
      eFdp = mem.read32(a + 20);
      eFds = mem.read16(a + 24);
    } else {
      const w = mem.read32(a + 16);
      eFip = (mem.read16(a + 12) | (((w >>> 12) & 0xffff) << 16)) | 0;
      eFop = w & 0x7ff;
      eFdp = (mem.read16(a + 20) | (((mem.read32(a + 24) >>> 12) & 0xffff) << 16)) | 0;
      eFcs = 0;
      eFds = 0;
    }
    return 28;
  }
  eCw = mem.read16(a);
  eSw = mem.read16(a + 2);
  eTw = mem.read16(a + 4);
  if (env.protectedMode) {
    eFip = mem.read16(a + 6);
    eFcs = mem.read16(a + 8);
    eFdp = mem.read16(a + 10);
    eFds = mem.read16(a + 12);
    eFop = 0;
  } else {
    const w = mem.read16(a + 8);
    eFip = mem.read16(a + 6) | ((w >>> 12) << 16);
    eFop = w & 0x7ff;
    eFdp = mem.read16(a + 10) | ((mem.read16(a + 12) >>> 12) << 16);
    eFcs = 0;
    eFds = 0;
  }
  return 14;
}

function commitEnv(f: Fpu): void {
  f.cw = (eCw & 0x1f3f) | 0x40;
  f.top = (eSw >> 11) & 7;
  f.sw = eSw & ~0x3800;
  f.valid = validFromTagWord(eTw);
  f.fip = eFip; f.fcs = eFcs; f.fop = eFop; f.fdp = eFdp; f.fds = eFds;
  f.updateSummary();
}

export function fstenv(f: Fpu, a: number, mem: FpuMemory, env: FpuEnv): void {
  writeEnv(f, a, mem, env);
}

export function fldenv(f: Fpu, a: number, mem: FpuMemory, env: FpuEnv): void {
  readEnv(a, mem, env);
  commitEnv(f);
}

export function fsave(f: Fpu, a: number, mem: FpuMemory, env: FpuEnv): void {
  let o = a + writeEnv(f, a, mem, env);
  for (let i = 0; i < 8; i++, o += 10) {
    const p = (f.top + i) & 7;
    mem.write32(o, f.lo[p]);
    mem.write32(o + 4, f.hi[p]);
    mem.write16(o + 8, f.se[p] & 0xffff);
  }
}

const rSe = new Int32Array(8);
const rHi = new Int32Array(8);
const rLo = new Int32Array(8);

export function frstor(f: Fpu, a: number, mem: FpuMemory, env: FpuEnv): void {
  let o = a + readEnv(a, mem, env);
  for (let i = 0; i < 8; i++, o += 10) {
    rLo[i] = mem.read32(o);
    rHi[i] = mem.read32(o + 4);
    rSe[i] = mem.read16(o + 8);
  }
  commitEnv(f);
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    f.se[p] = rSe[i]; f.hi[p] = rHi[i]; f.lo[p] = rLo[i];
  }
}

// ---- FXSAVE / FXRSTOR ----------------------------------------------------------------------

/**
 * FXSAVE: 0 FCW | 2 FSW | 4 abridged FTW (byte) | 6 FOP | 8 FIP | 12 FCS | 16 FDP | 20 FDS
 * | 24 MXCSR | 28 MXCSR_MASK | 32 + 16·i: ST(i) (10 bytes, 6 reserved bytes written as 0).
 * Bytes 160..511 (XMM registers and the available area) are not written: this CPU has no SSE.
 */
export function fxsaveImage(f: Fpu, a: number, mem: FpuMemory): number {
  if ((a & 15) !== 0) return FPU_GP;
  mem.write16(a, f.cw);
  mem.write16(a + 2, f.statusWord);
  mem.write16(a + 4, f.valid & 0xff);
  mem.write16(a + 6, f.fop & 0x7ff);
  mem.write32(a + 8, f.fip);
  mem.write32(a + 12, f.fcs & 0xffff);
  mem.write32(a + 16, f.fdp);
  mem.write32(a + 20, f.fds & 0xffff);
  mem.write32(a + 24, f.mxcsr);
  mem.write32(a + 28, MXCSR_MASK);
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    const o = a + 32 + 16 * i;
    mem.write32(o, f.lo[p]);
    mem.write32(o + 4, f.hi[p]);
    mem.write32(o + 8, f.se[p] & 0xffff);
    mem.write32(o + 12, 0);
  }
  return FPU_OK;
}

export function fxrstorImage(f: Fpu, a: number, mem: FpuMemory): number {
  if ((a & 15) !== 0) return FPU_GP;
  const cw = mem.read16(a);
  const sw = mem.read16(a + 2);
  const tag = mem.read8(a + 4);
  const fop = mem.read16(a + 6);
  const fip = mem.read32(a + 8);
  const fcs = mem.read16(a + 12);
  const fdp = mem.read32(a + 16);
  const fds = mem.read16(a + 20);
  const mxcsr = mem.read32(a + 24);
  for (let i = 0; i < 8; i++) {
    const o = a + 32 + 16 * i;
    rLo[i] = mem.read32(o);
    rHi[i] = mem.read32(o + 4);
    rSe[i] = mem.read16(o + 8);
  }
  if ((mxcsr & ~MXCSR_MASK) !== 0) return FPU_GP;
  f.cw = (cw & 0x1f3f) | 0x40;
  f.top = (sw >> 11) & 7;
  f.sw = sw & ~0x3800;
  f.valid = tag & 0xff;
  f.fop = fop & 0x7ff;
  f.fip = fip; f.fcs = fcs; f.fdp = fdp; f.fds = fds;
  f.mxcsr = mxcsr;
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7;
    f.se[p] = rSe[i]; f.hi[p] = rHi[i]; f.lo[p] = rLo[i];
  }
  f.updateSummary();
  return FPU_OK;
}
