/**
 * Integer arithmetic with exact flags, for 8-, 16- and 32-bit operands (`bits`).
 *
 * Conventions: operands may carry garbage above `bits`; results are returned masked to the
 * size (8/16: 0..2^bits-1, 32: int32). Flags go through flags.ts (lazy where cheap).
 *
 * Where Intel leaves flags undefined we do what the host (AMD EPYC, Zen) does, measured with
 * a native probe (tests compare against it):
 *  - AND/OR/XOR/TEST: AF = 0.
 *  - MUL/IMUL: CF = OF = "high half significant"; SF = sign and PF = parity of the low
 *    result; ZF = 0; AF = 0.
 *  - DIV/IDIV: all flags unchanged.
 *  - shifts (SHL/SHR/SAR/SHLD/SHRD) and rotates with a non-zero count: OF is computed as for
 *    a count of 1 whatever the count (SHL: MSB ^ next bit of the operand, SHR: MSB of the
 *    operand, SAR: 0, ROL/RCL: MSB ^ next bit, ROR: MSB ^ LSB, RCR: MSB ^ old CF, SHLD:
 *    MSB ^ next bit, SHRD: MSB ^ LSB of the source); AF = 0; CF = the last bit shifted out
 *    (0 for SHL/SHR beyond the size, the sign for SAR). RCL/RCR by a count that is a
 *    multiple of size+1 (8/16-bit) change nothing; ROL/ROR by a multiple of the size still
 *    set CF and OF. 16-bit SHLD/SHRD by 17..31 shift the 48-bit value dest:src:dest.
 *  - BSF/BSR: source 0 leaves the destination; flags: ZF = (source = 0), PF = parity of the
 *    result index (of 0 for a zero source), CF = OF = SF = AF = 0.
 *  - BT/BTS/BTR/BTC: only CF changes.
 *  - AAA/AAS: SF, ZF, PF from the final AL, OF = 0. DAA/DAS: OF = 0. AAM: OF = AF = CF = 0.
 *    AAD: the flags of the 8-bit add AL + (AH * imm).
 */
import type { Cpu } from './cpu.ts';
import { raise } from './fault.ts';
import { K_ADD, K_SUB, LAZY_ALL, LAZY_SZP, PARITY, getAF, getCF, materialize, setEagerCOA } from './flags.ts';

const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;

function sx(v: number, bits: number): number {
  const s = 32 - bits;
  return (v << s) >> s;
}

function mask(v: number, bits: number): number {
  return bits === 32 ? v | 0 : v & ((1 << bits) - 1);
}

/**
 * The eight classic ALU ops (ADD OR ADC SBB AND SUB XOR CMP by `op` 0..7) at `bits`.
 * Returns the result (CMP: `a`, unchanged).
 */
export function alu(cpu: Cpu, op: number, a: number, b: number, bits: number): number {
  const sa = sx(a, bits), sb = sx(b, bits);
  let r: number;
  switch (op) {
    case 0:
      r = sx(sa + sb, bits);
      cpu.fOp1 = sa; cpu.fOp2 = sb; cpu.fRes = r; cpu.fKind = K_ADD; cpu.lazy = LAZY_ALL;
      return mask(r, bits);
    case 1:
      r = sa | sb;
      cpu.flags &= ~(CF | OF | AF); cpu.fRes = r; cpu.lazy = LAZY_SZP;
      return mask(r, bits);
    case 2: {
      const c = getCF(cpu);
      r = sx(sa + sb + c, bits);
      const ua = bits === 32 ? sa >>> 0 : sa & ((1 << bits) - 1);
      const ub = bits === 32 ? sb >>> 0 : sb & ((1 << bits) - 1);
      const carry = ua + ub + c > (bits === 32 ? 0xffffffff : (1 << bits) - 1) ? CF : 0;
      const of = ((sa ^ r) & (sb ^ r)) < 0 ? OF : 0;
      setEagerCOA(cpu, carry | of | ((sa ^ sb ^ r) & AF), r);
      return mask(r, bits);
    }
    case 3: {
      const c = getCF(cpu);
      r = sx(sa - sb - c, bits);
      const ua = bits === 32 ? sa >>> 0 : sa & ((1 << bits) - 1);
      const ub = bits === 32 ? sb >>> 0 : sb & ((1 << bits) - 1);
      const borrow = ua < ub + c ? CF : 0;
      const of = ((sa ^ sb) & (sa ^ r)) < 0 ? OF : 0;
      setEagerCOA(cpu, borrow | of | ((sa ^ sb ^ r) & AF), r);
      return mask(r, bits);
    }
    case 4:
      r = sa & sb;
      cpu.flags &= ~(CF | OF | AF); cpu.fRes = r; cpu.lazy = LAZY_SZP;
      return mask(r, bits);
    case 5:
      r = sx(sa - sb, bits);
      cpu.fOp1 = sa; cpu.fOp2 = sb; cpu.fRes = r; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL;
      return mask(r, bits);
    case 6:
      r = sa ^ sb;
      cpu.flags &= ~(CF | OF | AF); cpu.fRes = r; cpu.lazy = LAZY_SZP;
      return mask(r, bits);
    default:
      r = sx(sa - sb, bits);
      cpu.fOp1 = sa; cpu.fOp2 = sb; cpu.fRes = r; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL;
      return mask(a, bits);
  }
}

/** TEST: AND without writing. */
export function testOp(cpu: Cpu, a: number, b: number, bits: number): void {
  cpu.flags &= ~(CF | OF | AF);
  cpu.fRes = sx(a & b, bits);
  cpu.lazy = LAZY_SZP;
}

/** INC (dec = false) or DEC: CF is preserved. */
export function incDec(cpu: Cpu, a: number, dec: boolean, bits: number): number {
  const c = getCF(cpu);
  const sa = sx(a, bits);
  const r = sx(dec ? sa - 1 : sa + 1, bits);
  cpu.flags = (cpu.flags & ~CF) | c;
  cpu.fOp1 = sa;
  cpu.fOp2 = 1;
  cpu.fRes = r;
  cpu.fKind = dec ? K_SUB : K_ADD;
  cpu.lazy = LAZY_ALL & ~CF;
  return mask(r, bits);
}

export function neg(cpu: Cpu, a: number, bits: number): number {
  const sa = sx(a, bits);
  const r = sx(-sa, bits);
  cpu.fOp1 = 0; cpu.fOp2 = sa; cpu.fRes = r; cpu.fKind = K_SUB; cpu.lazy = LAZY_ALL;
  return mask(r, bits);
}

// ---------------------------------------------------------------- shifts and rotates

/**
 * Group-2 shift/rotate `op` (0 ROL 1 ROR 2 RCL 3 RCR 4 SHL 5 SHR 6 SAL 7 SAR) of `v` by
 * `count` (raw; masked to 5 bits here). Returns the result; flags as the module comment says.
 */
export function shift(cpu: Cpu, op: number, v: number, count: number, bits: number): number {
  count &= 0x1f;
  if (count === 0) return mask(v, bits);
  const m = bits === 32 ? -1 : (1 << bits) - 1;
  const top = bits - 1;
  const u = v & m;
  const msb = (u >>> top) & 1;
  const next = (u >>> (top - 1)) & 1;
  let r: number, cf: number, of: number;
  switch (op) {
    case 0: { // ROL
      const c = count & top;
      r = c === 0 ? u : ((u << c) | (u >>> (bits - c))) & m;
      cf = r & 1;
      of = msb ^ next;
      setCO(cpu, cf, of);
      return mask(r, bits);
    }
    case 1: { // ROR
      const c = count & top;
      r = c === 0 ? u : ((u >>> c) | (u << (bits - c))) & m;
      cf = (r >>> top) & 1;
      of = msb ^ (u & 1);
      setCO(cpu, cf, of);
      return mask(r, bits);
    }
    case 2: { // RCL through CF
      const c = bits === 32 ? count : count % (bits + 1);
      if (c === 0) return mask(v, bits);
      const oc = getCF(cpu);
      // rotate the (bits+1)-bit value CF:u left by c
      if (bits === 32) {
        const lo = c === 1 ? (u << 1) | oc : (u << c) | (oc << (c - 1)) | (u >>> (33 - c));
        cf = (u >>> (32 - c)) & 1;
        r = lo | 0;
      } else {
        const w = (oc << bits) | u;
        const rot = ((w << c) | (w >>> (bits + 1 - c))) & ((1 << (bits + 1)) - 1);
        cf = rot >>> bits;
        r = rot & m;
      }
      of = msb ^ next;
      setCO(cpu, cf, of);
      return mask(r, bits);
    }
    case 3: { // RCR through CF
      const c = bits === 32 ? count : count % (bits + 1);
      if (c === 0) return mask(v, bits);
      const oc = getCF(cpu);
      if (bits === 32) {
        const res = c === 1 ? (u >>> 1) | (oc << 31) : (u >>> c) | (oc << (32 - c)) | (u << (33 - c));
        cf = (u >>> (c - 1)) & 1;
        r = res | 0;
      } else {
        const w = (oc << bits) | u;
        const rot = ((w >>> c) | (w << (bits + 1 - c))) & ((1 << (bits + 1)) - 1);
        cf = rot >>> bits;
        r = rot & m;
      }
      of = msb ^ oc;
      setCO(cpu, cf, of);
      return mask(r, bits);
    }
    case 4: case 6: { // SHL/SAL
      r = count < 32 ? (u << count) & m : 0;
      if (bits < 32 && count > bits) r = 0;
      cf = count <= bits ? (count === 32 ? u & 1 : (u >>> (bits - count)) & 1) : 0;
      of = msb ^ next;
      setEagerCOA(cpu, cf | (of << 11), sx(r, bits));
      return mask(r, bits);
    }
    case 5: { // SHR
      r = count >= bits ? 0 : u >>> count;
      cf = count <= bits ? (u >>> (count - 1)) & 1 : 0;
      of = msb;
      setEagerCOA(cpu, cf | (of << 11), sx(r, bits));
      return mask(r, bits);
    }
    default: { // SAR
      const s = sx(u, bits);
      const c = count >= bits ? bits - 1 : count;
      r = s >> c;
      cf = count >= bits ? msb : (s >> (count - 1)) & 1;
      setEagerCOA(cpu, cf, sx(r, bits));
      return mask(r, bits);
    }
  }
}

/** Rotates: CF and OF only; SF, ZF, PF, AF untouched. */
function setCO(cpu: Cpu, cf: number, of: number): void {
  materialize(cpu);
  cpu.flags = (cpu.flags & ~(CF | OF)) | cf | (of << 11);
}

/** SHLD (left) / SHRD: shift `dst` by `count`, filling from `src`. */
export function shiftDouble(cpu: Cpu, left: boolean, dst: number, src: number, count: number, bits: number): number {
  count &= 0x1f;
  if (count === 0) return mask(dst, bits);
  const m = bits === 32 ? -1 : 0xffff;
  const d = dst & m, s = src & m;
  const top = bits - 1;
  const msb = (d >>> top) & 1;
  let r: number, cf: number, of: number;
  if (bits === 32) {
    if (left) {
      r = count === 32 ? s : (d << count) | (s >>> (32 - count));
      cf = (d >>> (32 - count)) & 1;
      of = msb ^ ((d >>> 30) & 1);
    } else {
      r = (d >>> count) | (s << (32 - count));
      cf = (d >>> (count - 1)) & 1;
      of = msb ^ (s & 1);
    }
  } else {
    // 48-bit dest:src:dest, as the host does for counts above 16
    const hi = d * 0x100000000 + s * 0x10000 + d;
    if (left) {
      const sh = Math.floor(hi * Math.pow(2, count));
      r = Math.floor(sh / 0x100000000) & 0xffff;
      cf = Math.floor(hi / Math.pow(2, 48 - count)) & 1;
      of = msb ^ ((d >>> 14) & 1);
    } else {
      r = Math.floor(hi / Math.pow(2, count)) & 0xffff;
      cf = Math.floor(hi / Math.pow(2, count - 1)) & 1;
      of = msb ^ (s & 1);
    }
  }
  setEagerCOA(cpu, cf | (of << 11), sx(r, bits));
  return mask(r, bits);
}

// ---------------------------------------------------------------- multiply and divide

/** Flags after MUL/IMUL: CF = OF = `wide`; SF/PF from the low result; ZF = AF = 0. */
function mulFlags(cpu: Cpu, low: number, wide: boolean, bits: number): void {
  const s = sx(low, bits);
  cpu.flags = (cpu.flags & ~LAZY_ALL) | (wide ? CF | OF : 0) | (s < 0 ? SF : 0) | (PARITY[low & 0xff] === 1 ? PF : 0);
  cpu.lazy = 0;
}

/** MUL (signed = false) / IMUL one-operand forms: AX, DX:AX or EDX:EAX. */
export function mul1(cpu: Cpu, src: number, signed: boolean, bits: number): void {
  const regs = cpu.regs;
  if (bits === 8) {
    const a = signed ? sx(regs[0]!, 8) : regs[0]! & 0xff;
    const b = signed ? sx(src, 8) : src & 0xff;
    const r = (a * b) & 0xffff;
    cpu.regs16[0] = r;
    mulFlags(cpu, r & 0xff, signed ? sx(r, 8) !== sx(r, 16) : (r >>> 8) !== 0, 8);
  } else if (bits === 16) {
    const a = signed ? sx(regs[0]!, 16) : regs[0]! & 0xffff;
    const b = signed ? sx(src, 16) : src & 0xffff;
    const r = a * b;
    cpu.regs16[0] = r & 0xffff;
    cpu.regs16[4] = (r >> 16) & 0xffff;
    mulFlags(cpu, r & 0xffff, signed ? sx(r, 16) !== (r | 0) : ((r >>> 16) & 0xffff) !== 0, 16);
  } else {
    let lo: number, hi: number;
    if (signed) {
      const p = BigInt(regs[0]! | 0) * BigInt(src | 0);
      lo = Number(BigInt.asIntN(32, p));
      hi = Number(BigInt.asIntN(32, p >> 32n));
      regs[0] = lo;
      regs[2] = hi;
      mulFlags(cpu, lo, hi !== (lo >> 31), 32);
    } else {
      const a = regs[0]! >>> 0, b = src >>> 0;
      const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
      const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
      const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
      lo = ((mid & 0xffff) << 16) | (ll & 0xffff);
      hi = (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 0x10000)) | 0;
      regs[0] = lo;
      regs[2] = hi;
      mulFlags(cpu, lo, hi !== 0, 32);
    }
  }
}

/** IMUL two/three-operand forms: returns the truncated product. */
export function imul2(cpu: Cpu, a: number, b: number, bits: number): number {
  if (bits === 16) {
    const r = sx(a, 16) * sx(b, 16);
    const low = r & 0xffff;
    mulFlags(cpu, low, sx(r, 16) !== r, 16);
    return low;
  }
  const lo = Math.imul(a, b);
  const exact = (a | 0) * (b | 0);
  mulFlags(cpu, lo, exact !== lo, 32);
  return lo;
}

/** DIV (signed = false) / IDIV; #DE on divide by zero or quotient overflow. Flags unchanged. */
export function div1(cpu: Cpu, src: number, signed: boolean, bits: number): void {
  const regs = cpu.regs;
  if (bits === 8) {
    const d = signed ? sx(src, 8) : src & 0xff;
    if (d === 0) raise(cpu, 0, -1);
    const n = signed ? sx(regs[0]!, 16) : regs[0]! & 0xffff;
    const q = Math.trunc(n / d), rem = n - q * d;
    if (signed ? q < -128 || q > 127 : q > 0xff) raise(cpu, 0, -1);
    cpu.regs16[0] = (q & 0xff) | ((rem & 0xff) << 8);
  } else if (bits === 16) {
    const d = signed ? sx(src, 16) : src & 0xffff;
    if (d === 0) raise(cpu, 0, -1);
    const n = signed ? ((regs[2]! << 16) | (regs[0]! & 0xffff)) : ((regs[2]! & 0xffff) * 0x10000 + (regs[0]! & 0xffff));
    const q = Math.trunc(n / d), rem = n - q * d;
    if (signed ? q < -32768 || q > 32767 : q > 0xffff) raise(cpu, 0, -1);
    cpu.regs16[0] = q & 0xffff;
    cpu.regs16[4] = rem & 0xffff;
  } else {
    if ((src | 0) === 0) raise(cpu, 0, -1);
    if (signed) {
      // on magnitudes, then signs: quotient truncates toward zero, remainder takes the
      // dividend's sign
      let hi = regs[2]! | 0, lo = regs[0]! >>> 0;
      const neg = hi < 0;
      if (neg) {
        lo = (~lo + 1) >>> 0;
        hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
      } else {
        hi >>>= 0;
      }
      const dneg = (src | 0) < 0;
      const d = dneg ? (-(src | 0)) >>> 0 : src >>> 0;
      if (hi >= d) raise(cpu, 0, -1); // quotient magnitude >= 2^32
      udiv64(hi, lo, d);
      const q = udivQ, rem = udivR;
      if (neg !== dneg ? q > 0x80000000 : q > 0x7fffffff) raise(cpu, 0, -1);
      regs[0] = neg !== dneg ? -q | 0 : q | 0;
      regs[2] = neg ? -rem | 0 : rem | 0;
    } else {
      const hi = regs[2]! >>> 0, lo = regs[0]! >>> 0, d = src >>> 0;
      if (hi >= d) raise(cpu, 0, -1);
      udiv64(hi, lo, d);
      regs[0] = udivQ | 0;
      regs[2] = udivR | 0;
    }
  }
}

let udivQ = 0;
let udivR = 0;

/**
 * (hi:lo) / d for hi < d (the quotient fits in 32 bits), exactly in doubles: two 16-bit
 * long-division steps keep every intermediate below 2^48.
 */
function udiv64(hi: number, lo: number, d: number): void {
  if (hi === 0) {
    udivQ = Math.floor(lo / d);
    udivR = lo - udivQ * d;
    return;
  }
  let t = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(t / d);
  t = (t - q1 * d) * 65536 + (lo & 0xffff);
  const q0 = Math.floor(t / d);
  udivQ = q1 * 65536 + q0;
  udivR = t - q0 * d;
}

// ---------------------------------------------------------------- bit ops

/** BSF (reverse = false) / BSR: returns the new destination (`old` when src is 0). */
export function bitScan(cpu: Cpu, src: number, old: number, reverse: boolean, bits: number): number {
  const s = bits === 32 ? src | 0 : src & 0xffff;
  let r = old;
  if (s !== 0) r = reverse ? 31 - Math.clz32(s) : 31 - Math.clz32(s & -s);
  const idx = s === 0 ? 0 : r;
  cpu.flags = (cpu.flags & ~LAZY_ALL) | (s === 0 ? ZF : 0) | (PARITY[idx & 0xff] === 1 ? PF : 0);
  cpu.lazy = 0;
  return r;
}

/** Set CF (only) from a tested bit. */
export function setCfOnly(cpu: Cpu, bit: number): void {
  materialize(cpu);
  cpu.flags = (cpu.flags & ~CF) | (bit & 1);
}

// ---------------------------------------------------------------- BCD

function szpFromAl(cpu: Cpu, al: number, others: number): void {
  al &= 0xff;
  cpu.flags = (cpu.flags & ~LAZY_ALL) | others | (al === 0 ? ZF : 0) | (al & 0x80 ? SF : 0) | (PARITY[al]! ? PF : 0);
  cpu.lazy = 0;
}

export function daa(cpu: Cpu): void {
  const ocf = getCF(cpu), oaf = getAF(cpu);
  let al = cpu.regs8[0]!;
  const oal = al;
  let cf = 0, af = 0;
  if ((al & 0xf) > 9 || oaf) {
    cf = ocf | (al + 6 > 0xff ? 1 : 0);
    al = (al + 6) & 0xff;
    af = AF;
  }
  if (oal > 0x99 || ocf) {
    al = (al + 0x60) & 0xff;
    cf = 1;
  } else {
    cf = 0;
  }
  cpu.regs8[0] = al;
  szpFromAl(cpu, al, cf | af);
}

export function das(cpu: Cpu): void {
  const ocf = getCF(cpu), oaf = getAF(cpu);
  let al = cpu.regs8[0]!;
  const oal = al;
  let cf = 0, af = 0;
  if ((al & 0xf) > 9 || oaf) {
    cf = ocf | (al < 6 ? 1 : 0);
    al = (al - 6) & 0xff;
    af = AF;
  }
  if (oal > 0x99 || ocf) {
    al = (al - 0x60) & 0xff;
    cf = 1;
  }
  cpu.regs8[0] = al;
  szpFromAl(cpu, al, cf | af);
}

export function aaa(cpu: Cpu, sub: boolean): void {
  let ax = cpu.regs16[0]!;
  let f = 0;
  if ((ax & 0xf) > 9 || getAF(cpu)) {
    if (sub) {
      ax = (ax - 6) & 0xffff;
      ax = (ax & 0xff) | ((((ax >>> 8) - 1) & 0xff) << 8);
    } else {
      ax = (ax + 0x106) & 0xffff;
    }
    f = AF | CF;
  }
  ax = (ax & 0xff00) | (ax & 0xf);
  cpu.regs16[0] = ax;
  szpFromAl(cpu, ax & 0xff, f);
}

export function aam(cpu: Cpu, imm: number): void {
  imm &= 0xff;
  if (imm === 0) raise(cpu, 0, -1);
  const al = cpu.regs8[0]!;
  const q = Math.floor(al / imm), r = al % imm;
  cpu.regs16[0] = (q << 8) | r;
  szpFromAl(cpu, r, 0);
}

export function aad(cpu: Cpu, imm: number): void {
  const al = cpu.regs8[0]!, ah = cpu.regs8[1]!;
  const t = (ah * (imm & 0xff)) & 0xff;
  const r = alu(cpu, 0, al, t, 8);
  cpu.regs16[0] = r & 0xff;
}
