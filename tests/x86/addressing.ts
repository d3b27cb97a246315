/**
 * ModRM/SIB memory operands for generated cases: pick an addressing class, a segment and a
 * target inside the data region, then solve for the base/index registers and displacement
 * that reach it. 32-bit forms cover every ModRM/SIB shape; 16-bit forms (0x67) go through a
 * segment with a non-zero base, because Linux keeps the first 64 KiB unmapped.
 *
 * Invariants:
 *  - The linear address of the access is segBase + ea (mod 2^32, ea mod 2^16 with 0x67),
 *    and [linear, linear + span) lies inside the data region.
 *  - A register the caller has pinned (ESP, an implicit operand) keeps its value; the
 *    solver moves the displacement or picks other registers instead.
 *  - Registers in the returned `regs` are the only ones whose values the operand needs.
 *
 * Worked example: class 'sib+d8', span 4, target 0x200ffe (crosses the page at 0x201000):
 * base=ebx, index=esi, scale=8, disp=-3, index value 0x10 -> ebx = 0x200ffe + 3 - 0x80.
 */

import { DATA_BASE, DATA_SIZE, EBP, ESP, PAGE_SIZE } from './layout.ts';
import type { Rng } from './rng.ts';

export const ADDR32_CLASSES = [
  'disp32', 'base', 'base+d8', 'base+d32', 'sib', 'sib+d8', 'sib+d32', 'index+d32', 'sib-noindex',
] as const;
export const ADDR16_CLASSES = ['a16', 'a16+d8', 'a16+d16', 'a16-disp16'] as const;
export type AddrClass = (typeof ADDR32_CLASSES)[number] | (typeof ADDR16_CLASSES)[number];
export const ALL_ADDR_CLASSES: readonly AddrClass[] = [...ADDR32_CLASSES, ...ADDR16_CLASSES];

/** Segment register numbers as in the override prefixes and ModRM.reg of mov sreg. */
export const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65] as const; // es cs ss ds fs gs

export interface SegView {
  /** Base of each segment register (es cs ss ds fs gs); null when it holds a null selector. */
  readonly base: readonly (number | null)[];
  /** False for segments holding a code selector (readable, not writable). */
  readonly writable: readonly boolean[];
}

export interface MemOperand {
  readonly cls: AddrClass;
  /** Prefix bytes this operand needs (segment override, 0x67). */
  readonly prefixes: number[];
  /** The ModRM byte without its reg field (reg bits 0), then SIB and displacement. */
  readonly modrm: number;
  readonly tail: number[];
  /** Register values the operand needs: index -> full 32-bit value. */
  readonly regs: Map<number, number>;
  /** Effective segment (0..5) and the linear address of the first byte accessed. */
  readonly seg: number;
  readonly linear: number;
}

export interface MemRequest {
  /** Bytes accessed starting at the effective address (the operand's span). */
  readonly span: number;
  /** Extra bytes the instruction may touch before/after (e.g. bt bit strings). */
  readonly before?: number;
  /** Registers with values fixed by the caller. */
  readonly pinned: ReadonlyMap<number, number>;
  /** Registers that must not be used as base or index (their values get set later). */
  readonly avoid: ReadonlySet<number>;
  /** True when the access writes (CS overrides only read). */
  readonly write: boolean;
  /** Allow segment-override prefixes. */
  readonly overrides: boolean;
  /** Only this much of the region may be targeted (e.g. keep clear of the stack). */
  readonly lo?: number;
  readonly hi?: number;
  /** Added to ESP when it is the base (pop r/m computes the address after the pop). */
  readonly espBias?: number;
}

const u32 = (v: number): number => v >>> 0;

/** Choose the linear target: aligned, misaligned, page-crossing, region edges. */
export function pickTarget(rng: Rng, span: number, lo = 0, hi = DATA_SIZE): number {
  const max = hi - span; // last valid start offset
  let off: number;
  switch (rng.below(6)) {
    case 0: off = PAGE_SIZE - 1 - rng.below(Math.min(span, 8)); break; // crosses the page
    case 1: off = rng.chance(0.5) ? lo : max; break;
    case 2: off = lo + rng.below(max - lo + 1) & ~7; break;
    default: off = lo + rng.below(max - lo + 1);
  }
  if (off < lo) off = lo;
  if (off > max) off = max;
  return DATA_BASE + off;
}

function disp8(rng: Rng): number {
  return rng.pick([0, 1, -1, 127, -128, rng.range(-128, 127), rng.range(-16, 16)]);
}

function pushLe(out: number[], v: number, n: number): void {
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
}

/**
 * Plan a memory operand of class `cls`, or return undefined when the constraints leave no
 * solution for this class (the caller tries another).
 */
export function planMem(rng: Rng, cls: AddrClass, req: MemRequest, segs: SegView): MemOperand | undefined {
  for (let attempt = 0; attempt < 24; attempt++) {
    const m = tryPlan(rng, cls, req, segs);
    if (m) return m;
  }
  return undefined;
}

function tryPlan(rng: Rng, cls: AddrClass, req: MemRequest, segs: SegView): MemOperand | undefined {
  const a16 = cls.startsWith('a16');
  const prefixes: number[] = [];
  const regs = new Map<number, number>();
  const usable = (r: number): boolean => !req.avoid.has(r);
  const valueOf = (r: number): number | undefined => regs.get(r) ?? req.pinned.get(r);

  // Registers and shape.
  let modrm = 0;
  const tail: number[] = [];
  let base = -1, index = -1, scale = 1, dispBytes = 0, defaultSeg = 3;
  let base16: number[] = [];
  if (!a16) {
    const pickReg = (excl: number[]): number => {
      const cands = [0, 1, 2, 3, 4, 5, 6, 7].filter((r) => usable(r) && !excl.includes(r));
      return cands.length ? rng.pick(cands) : -1;
    };
    switch (cls) {
      case 'disp32': modrm = 0x05; dispBytes = 4; break;
      case 'base': case 'base+d8': case 'base+d32': {
        base = pickReg([ESP, ...(cls === 'base' ? [EBP] : [])]);
        if (base < 0) return undefined;
        const mod = cls === 'base' ? 0 : cls === 'base+d8' ? 1 : 2;
        dispBytes = mod === 0 ? 0 : mod === 1 ? 1 : 4;
        modrm = (mod << 6) | base;
        break;
      }
      default: {
        // SIB forms
        const noBase = cls === 'index+d32';
        const noIndex = cls === 'sib-noindex';
        const mod = cls === 'sib' || noBase || (noIndex && rng.chance(0.5)) ? 0 : cls === 'sib+d8' || noIndex ? 1 : 2;
        dispBytes = noBase ? 4 : mod === 0 ? 0 : mod === 1 ? 1 : 4;
        base = noBase ? -1 : pickReg(mod === 0 ? [EBP] : []);
        if (!noBase && base < 0) return undefined;
        index = noIndex ? -1 : pickReg([ESP]);
        if (!noIndex && index < 0) return undefined;
        scale = noIndex ? 1 << rng.below(4) : 1 << rng.below(4);
        const ss = Math.log2(scale);
        modrm = (mod << 6) | 4;
        tail.push((ss << 6) | ((noIndex ? 4 : index) << 3) | (noBase ? 5 : base));
      }
    }
    if (base === ESP || base === EBP) defaultSeg = 2;
  } else {
    prefixes.push(0x67);
    const rm16 = cls === 'a16-disp16' ? 6 : rng.pick([0, 1, 2, 3, 4, 5, 7, ...(cls === 'a16' ? [] : [6])]);
    const mod = cls === 'a16' || cls === 'a16-disp16' ? 0 : cls === 'a16+d8' ? 1 : 2;
    dispBytes = cls === 'a16-disp16' ? 2 : mod === 1 ? 1 : mod === 2 ? 2 : 0;
    modrm = (mod << 6) | rm16;
    // rm16: 0 bx+si 1 bx+di 2 bp+si 3 bp+di 4 si 5 di 6 bp (mod!=0) 7 bx
    const table: number[][] = [[3, 6], [3, 7], [5, 6], [5, 7], [6], [7], [5], [3]];
    base16 = cls === 'a16-disp16' ? [] : (table[rm16] as number[]);
    if (base16.some((r) => !usable(r) && !req.pinned.has(r))) return undefined;
    if (base16.includes(EBP)) defaultSeg = 2;
  }

  // Segment.
  let seg = defaultSeg;
  if (req.overrides && rng.chance(a16 ? 0.8 : 0.35)) {
    const choices = [0, 1, 2, 3, 4, 5];
    seg = rng.pick(choices);
    prefixes.unshift(SEG_PREFIX[seg] as number);
  }
  const segBase = segs.base[seg];
  if (segBase === null || segBase === undefined) return undefined;
  if (req.write && !segs.writable[seg]) return undefined;

  const lo = req.lo ?? 0, hi = req.hi ?? DATA_SIZE;
  const before = req.before ?? 0;
  const target = pickTarget(rng, req.span + before, lo, hi) + before;
  const ea = u32(target - segBase);
  if (a16 && ea > 0xffff) return undefined;
  // An access that wraps past the 4 GiB limit is a #GP (tested on purpose elsewhere).
  if (!a16 && ea + req.span > 0x1_0000_0000) return undefined;

  // Solve.
  let disp = 0;
  if (!a16) {
    const setOrKeep = (r: number, want: () => number): number => {
      const v = valueOf(r);
      if (v !== undefined) return v;
      const nv = u32(want());
      regs.set(r, nv);
      return nv;
    };
    const bias = (r: number): number => (r === ESP ? req.espBias ?? 0 : 0);
    if (base < 0 && index < 0) {
      disp = ea;
    } else if (base >= 0 && index < 0) {
      const pv = valueOf(base);
      if (pv !== undefined) {
        disp = u32(ea - pv - bias(base));
        if (dispBytes === 0 && disp !== 0) return undefined;
        if (dispBytes === 1 && (disp | 0) !== ((disp << 24) >> 24)) return undefined;
      } else {
        disp = dispBytes === 0 ? 0 : dispBytes === 1 ? disp8(rng) : rng.u32();
        regs.set(base, u32(ea - disp));
      }
    } else {
      // index present (with or without base)
      const pb = base >= 0 && base !== index ? valueOf(base) : undefined;
      if (pb !== undefined && valueOf(index) === undefined) {
        // Base pinned (ESP): solve the index; scale 2^k needs the low k bits clear.
        disp = dispBytes === 0 ? 0 : dispBytes === 1 ? disp8(rng) : rng.u32();
        let need = u32(ea - pb - bias(base) - disp);
        const lowBits = need & (scale - 1);
        if (lowBits !== 0) {
          if (dispBytes === 0) return undefined;
          disp = u32(disp + lowBits);
          if (dispBytes === 1 && (disp | 0) !== ((disp << 24) >> 24)) return undefined;
          need = u32(need - lowBits);
        }
        const k = Math.log2(scale);
        const hiNoise = k === 0 ? 0 : (rng.u32() << (32 - k)) >>> 0;
        regs.set(index, u32((need >>> k) | hiNoise));
        pushLe(tail, disp, dispBytes);
        return { cls, prefixes, modrm, tail, regs, seg, linear: target };
      }
      const idxVal = setOrKeep(index, () => rng.pick([0, 1, rng.range(-64, 64), rng.u32(), 0xffffffff]));
      const scaled = Math.imul(idxVal, scale);
      if (base < 0) {
        disp = u32(ea - scaled);
      } else if (base === index) {
        // v*scale + v + disp = ea
        if (dispBytes !== 4) return undefined;
        disp = u32(ea - Math.imul(idxVal, scale + 1));
      } else {
        const pv = valueOf(base);
        if (pv !== undefined) {
          disp = u32(ea - pv - bias(base) - scaled);
          if (dispBytes === 0 && disp !== 0) return undefined;
          if (dispBytes === 1 && (disp | 0) !== ((disp << 24) >> 24)) return undefined;
        } else {
          disp = dispBytes === 0 ? 0 : dispBytes === 1 ? disp8(rng) : rng.u32();
          regs.set(base, u32(ea - scaled - disp));
        }
      }
    }
  } else {
    // 16-bit: ea16 = (sum of 16-bit regs + disp) mod 2^16; high halves are noise.
    const noise = (): number => rng.u32() & 0xffff0000;
    disp = dispBytes === 0 ? 0 : dispBytes === 1 ? disp8(rng) & 0xffff : rng.u32() & 0xffff;
    if (cls === 'a16-disp16') disp = ea & 0xffff;
    else {
      const [r1, r2] = base16 as [number, number | undefined];
      let rest = (ea - disp) & 0xffff;
      if (r2 !== undefined) {
        const v2 = valueOf(r2);
        const lo2 = v2 !== undefined ? v2 & 0xffff : rng.u32() & 0xffff;
        if (v2 === undefined) regs.set(r2, u32(noise() | lo2));
        rest = (rest - lo2) & 0xffff;
      }
      const v1 = valueOf(r1);
      if (v1 !== undefined) {
        if ((v1 & 0xffff) !== rest) {
          if (dispBytes !== 2) return undefined;
          disp = (disp + rest - (v1 & 0xffff)) & 0xffff;
        }
      } else regs.set(r1, u32(noise() | rest));
    }
  }
  pushLe(tail, disp, dispBytes);
  return { cls, prefixes, modrm, tail, regs, seg, linear: target };
}

/** Encode a register-direct ModRM (mod=11). */
export function modrmReg(reg: number, rm: number): number {
  return 0xc0 | (reg << 3) | rm;
}
