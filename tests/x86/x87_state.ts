/**
 * Initial x87 states for differential cases, as 108-byte FSAVE images (32-bit protected-mode
 * layout, Intel SDM vol. 1 fig. 8-9): control word, status word, full tag word, instruction
 * and operand pointers, then ST(0)..ST(7) as 80-bit extended values.
 *
 * Invariants:
 *  - Exceptions stay masked (FCW bits 0-5 set) and FSW.ES/SF/B are clear, so loading the
 *    image never raises #MF; rounding and precision control vary.
 *  - The tag word agrees with the register contents (valid/zero/special/empty), so a CPU
 *    that recomputes tags on FRSTOR and one that loads them give the same state.
 *  - Values are biased to the edges: signed zeros, denormals, infinities, quiet and
 *    signalling NaNs, integers, powers of two, and (rarely) unsupported encodings.
 */

import type { Rng } from './rng.ts';

export const FSW_C0 = 0x100, FSW_C1 = 0x200, FSW_C2 = 0x400, FSW_C3 = 0x4000;
export const FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;

/** An 80-bit extended value as sign/exponent (16 bits) and 64-bit significand. */
interface Ext {
  se: number;
  sig: bigint;
}

function ext(rng: Rng): Ext {
  const sign = rng.chance(0.5) ? 0x8000 : 0;
  const J = 1n << 63n;
  const randSig = (): bigint => (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
  switch (rng.below(14)) {
    case 0: return { se: sign, sig: 0n };
    case 1: return { se: sign | 0x3fff, sig: J }; // +-1
    case 2: return { se: sign | (0x3fff + rng.range(-70, 70)), sig: J }; // powers of two
    case 3: return { se: sign, sig: randSig() & ~J }; // denormal
    case 4: return { se: sign | 0x7fff, sig: J }; // infinity
    case 5: return { se: sign | 0x7fff, sig: J | (1n << 62n) | (randSig() & ((1n << 62n) - 1n)) }; // qNaN
    case 6: return { se: sign | 0x7fff, sig: J | ((randSig() & ((1n << 62n) - 1n)) | 1n) }; // sNaN
    case 7: { // an integer up to 2^40
      const n = BigInt(rng.u32()) * BigInt(rng.below(256) + 1);
      if (n === 0n) return { se: sign, sig: 0n };
      const bits = n.toString(2).length;
      return { se: sign | (0x3fff + bits - 1), sig: n << BigInt(64 - bits) };
    }
    case 8: return { se: sign | rng.pick([1, 0x7ffe]), sig: J | randSig() }; // extremes
    case 9: return rng.chance(0.3)
      ? { se: sign | rng.range(1, 0x7ffe), sig: randSig() & ~J } // unnormal
      : { se: sign | (0x3fff + rng.range(-16, 16)), sig: J | randSig() };
    default: return { se: sign | (0x3fff + rng.range(-300, 300)), sig: J | randSig() };
  }
}

function tagOf(e: Ext): number {
  const exp = e.se & 0x7fff;
  const j = (e.sig >> 63n) & 1n;
  if (exp === 0 && e.sig === 0n) return 1; // zero
  if (exp === 0 || exp === 0x7fff || j === 0n) return 2; // special
  return 0; // valid
}

/** A random initial x87 state as an FSAVE image. */
export function randomFsave(rng: Rng): Uint8Array {
  const img = new Uint8Array(108);
  const dv = new DataView(img.buffer);
  const pc = rng.pick([3, 3, 2, 0]);
  const rc = rng.below(4);
  const fcw = 0x40 | 0x3f | (pc << 8) | (rc << 10);
  const top = rng.below(8);
  const used = rng.below(9); // registers in use, from ST(0) up
  let fsw = (top << 11) | (rng.u32() & FSW_CC);
  if (rng.chance(0.3)) fsw |= rng.u32() & 0x3f & ~0x40; // sticky exception flags (masked)
  let ftw = 0;
  for (let st = 0; st < 8; st++) {
    const phys = (top + st) & 7;
    const e = ext(rng);
    const off = 28 + st * 10;
    if (st < used) {
      dv.setBigUint64(off, e.sig, true);
      dv.setUint16(off + 8, e.se, true);
      ftw |= tagOf(e) << (phys * 2);
    } else {
      ftw |= 3 << (phys * 2);
      if (rng.chance(0.5)) { dv.setBigUint64(off, e.sig, true); dv.setUint16(off + 8, e.se, true); }
    }
  }
  dv.setUint16(0, fcw, true);
  dv.setUint16(4, fsw, true);
  dv.setUint16(8, ftw, true);
  return img;
}

/** The 16-bit x87 control word a generated FLDCW loads: exceptions masked, PC/RC random. */
export function randomFcw(rng: Rng): number {
  return 0x40 | 0x3f | (rng.pick([3, 3, 2, 0]) << 8) | (rng.below(4) << 10) | (rng.chance(0.2) ? 0x1000 : 0);
}
