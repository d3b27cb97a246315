/**
 * Instruction emitters of the JIT (codegen.ts assembles them into chunks): each turns one
 * decoded instruction into JavaScript statements over the chunk's locals -- guest registers
 * r0..r7, operand temps a/b/r/v, fused-flag operands fa/fb/fr, TLB temps e/lin -- and tells
 * the caller whether it continues the block, ended it with a control transfer, or has no
 * native form (then the instruction runs in the interpreter).
 *
 * Conventions of the emitted code: `cur = <offset>; k = <n>;` precede every call that may
 * fault (the chunk's catch reports EIP and the retired count from them); exits assign
 * `ret` and `break out`; a write that hit decoded code sets `smc`.
 */
import type { Cpu } from '../cpu.ts';
import { Op } from '../ops.ts';
import { condExpr, emitAlu32, emitAlu8 } from './emit_flags.ts';

/** Flags producer kinds the consumer may fuse with. */
export const F_NONE = 0, F_SUB = 1, F_ADD = 2, F_LOGIC = 3, F_INCDEC = 4;

export interface Ctx {
  out: string[];
  /** page offset of the current instruction and of the next one */
  off: number;
  nx: number;
  idx: number;
  /** native instructions retired before this one in the block */
  k: number;
  fuse: number;
  /** Entry offsets of the chunk being generated (jumps there stay inside it). */
  chunkEntries: Set<number>;
  /** Some flag this instruction writes is read later (liveness), so store the lazy state. */
  flagsLive: boolean;
  /** CF is live after this instruction (INC/DEC must then preserve it explicitly). */
  cfLive: boolean;
  /**
   * Nothing reads this producer's flags before they are overwritten, but a fault in between
   * would show them (an exception frame holds EFLAGS): keep them in fa/fb/fr and store the
   * lazy state only on the way to a fault or exit (`pend`) instead of at once.
   */
  pendOK: boolean;
  /**
   * Lazy-flag stores owed to Cpu (statements over fa/fb/fr), or ''. Every fault point's slow
   * path and every mid-block exit performs them; codegen.ts performs them inline before any
   * instruction that is not pend-safe (PEND_SAFE) and before a block's last instruction.
   */
  pend: string;
}

/** Instructions that leave the arithmetic flags alone (fusion survives them). */
export const FLAG_NEUTRAL = new Set<number>([
  Op.NOP, Op.MOV_EG32, Op.MOV_GE32, Op.MOV_EI32, Op.MOV_EG8, Op.MOV_GE8, Op.MOV_EI8, Op.MOVZX8_32, Op.MOVZX16_32,
  Op.MOVSX8_32, Op.MOVSX16_32, Op.LEA32, Op.PUSH32, Op.PUSH_I32, Op.POP32, Op.NOT32, Op.CDQ, Op.CWDE, Op.XCHG32,
  Op.CMOV32, Op.SETCC, Op.BSWAP, Op.LEAVE32,
]);

/**
 * Instructions that may run while lazy-flag stores are pending (Ctx.pend): they neither
 * read nor write the flag state in Cpu or fa/fb/fr, and every fault point in them goes
 * through faultPoint(). (Fused CMOVcc/SETCC read fa/fb/fr; an unfused one makes the
 * producer's flags live, so nothing is pending then.)
 */
export const PEND_SAFE = FLAG_NEUTRAL;

/** Instructions whose emitter records how to fuse a following condition (ctx.fuse). */
export const PRODUCERS = new Set<number>([
  Op.ALU_EG32, Op.ALU_EI32, Op.ALU_GE32, Op.TEST_EG32, Op.TEST_EI32, Op.TEST_EG8, Op.TEST_EI8, Op.INC32, Op.DEC32,
  Op.ALU_EG8, Op.ALU_EI8, Op.ALU_GE8,
]);

function hex(n: number): string {
  return (n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16));
}

/** JS expression for the effective address of memory operand (m, disp). */
function eaExpr(m: number, disp: number): string {
  const parts: string[] = [];
  if ((m & 0x800) !== 0) parts.push(`regs[${(m >> 3) & 7}]`);
  if ((m & 0x1000) !== 0) {
    const sc = (m >> 9) & 3;
    parts.push(sc === 0 ? `regs[${(m >> 6) & 7}]` : `(regs[${(m >> 6) & 7}] << ${sc})`);
  }
  if (disp !== 0 || parts.length === 0) parts.push(hex(disp | 0));
  const e = parts.join(' + ');
  return (m & 0x20000) !== 0 ? `((${e}) & 0xffff)` : `((${e}) | 0)`;
}

const flatSeg = (seg: number): boolean => seg <= 3;

function faultPoint(c: Ctx): string {
  return `cur = ${c.off}; k = ${c.k}; ${c.pend}`;
}

/**
 * The lazy-flag stores `st` (over fa/fb/fr) of a producer that defines every arithmetic
 * flag: '' when they are dead, deferred into Ctx.pend when only a fault could see them.
 * Either way the previously pending stores are superseded.
 */
export function flagStore(c: Ctx, st: string): string {
  if (!c.flagsLive) {
    c.pend = '';
    return '';
  }
  if (c.pendOK) {
    c.pend = st;
    return '';
  }
  c.pend = '';
  return st;
}

/** Read `size` bytes of memory operand into `dst` (a local name). */
function emitRead(c: Ctx, dst: string, seg: number, ea: string, size: number): void {
  const fn = size === 1 ? 'rd8' : size === 2 ? 'rd16' : 'rd32';
  if (!flatSeg(seg)) {
    c.out.push(`${faultPoint(c)}${dst} = H.${fn}(cpu, ${seg}, ${ea});`);
    return;
  }
  const lim = 4096 - size;
  const load = size === 1 ? `u8[(e & -4096) ^ lin]` : size === 2 ? `dv.getUint16((e & -4096) ^ lin, true)` : `dv.getInt32((e & -4096) ^ lin, true)`;
  c.out.push(`lin = ${ea}; e = tlb[lin >>> 12];`);
  c.out.push(`if ((e & rdMask) === 1 && (lin & 4095) <= ${lim}) ${dst} = ${load}; else { ${faultPoint(c)}${dst} = H.${fn}(cpu, ${seg}, lin); }`);
}

/** Write local/expression `val` (already evaluated into a local) to the memory operand. */
function emitWrite(c: Ctx, seg: number, ea: string, val: string, size: number): void {
  const fn = size === 1 ? 'wr8' : size === 2 ? 'wr16' : 'wr32';
  if (!flatSeg(seg)) {
    c.out.push(`${faultPoint(c)}smc |= H.${fn}(cpu, ${seg}, ${ea}, ${val});`);
    return;
  }
  const lim = 4096 - size;
  const store = size === 1 ? `u8[(e & -4096) ^ lin] = ${val}` : size === 2 ? `dv.setUint16((e & -4096) ^ lin, ${val}, true)` : `dv.setInt32((e & -4096) ^ lin, ${val}, true)`;
  c.out.push(`lin = ${ea}; e = tlb[lin >>> 12];`);
  c.out.push(`if ((e & wrMask) === 1 && (lin & 4095) <= ${lim}) ${store}; else { ${faultPoint(c)}smc |= H.${fn}(cpu, ${seg}, lin, ${val}); }`);
}

function r8(r: number): number {
  return ((r & 3) << 2) | (r >> 2);
}

/**
 * Registers live in locals r0..r7 inside a chunk. These build the expressions for the 8- and
 * 16-bit views: byte offset `k` of Cpu.regs8 (r8()) is byte k & 3 of register k >> 2.
 */
function rd8(k: number): string {
  const sh = (k & 3) * 8;
  return sh === 0 ? `(r${k >> 2} & 255)` : `((r${k >> 2} >>> ${sh}) & 255)`;
}

function wr8(k: number, val: string): string {
  const sh = (k & 3) * 8;
  const keep = ~(0xff << sh) | 0;
  return `r${k >> 2} = (r${k >> 2} & ${keep}) | ((${val} & 255) << ${sh});`;
}

function rd16(k: number): string {
  return `(r${k >> 2} & 65535)`;
}

/**
 * Write the register locals back to Cpu.regs / load them, around helpers that use the
 * registers. While such a helper runs (`hr = 1`) Cpu.regs is the truth: if it throws, the
 * catch must not overwrite what it changed (e.g. a REP MOVS faulting part-way).
 */
export const FLUSH_REGS = 'RG[0] = r0; RG[1] = r1; RG[2] = r2; RG[3] = r3; RG[4] = r4; RG[5] = r5; RG[6] = r6; RG[7] = r7; ';
export const FLUSH = `${FLUSH_REGS}hr = 1; `;
export const RELOAD = ' hr = 0; r0 = RG[0]; r1 = RG[1]; r2 = RG[2]; r3 = RG[3]; r4 = RG[4]; r5 = RG[5]; r6 = RG[6]; r7 = RG[7];';

/** E operand (ModRM r/m) as a 32-bit read into `dst`. */
function readE32(c: Ctx, dst: string, m: number, disp: number): void {
  if ((m & 0x2000) !== 0) c.out.push(`${dst} = regs[${(m >> 3) & 7}];`);
  else emitRead(c, dst, (m >> 14) & 7, eaExpr(m, disp), 4);
}

function readE8(c: Ctx, dst: string, m: number, disp: number): void {
  if ((m & 0x2000) !== 0) c.out.push(`${dst} = ${rd8(r8((m >> 3) & 7))};`);
  else emitRead(c, dst, (m >> 14) & 7, eaExpr(m, disp), 1);
}

function readE16(c: Ctx, dst: string, m: number, disp: number): void {
  if ((m & 0x2000) !== 0) c.out.push(`${dst} = ${rd16(((m >> 3) & 7) << 2)};`);
  else emitRead(c, dst, (m >> 14) & 7, eaExpr(m, disp), 2);
}

function writeE8(c: Ctx, m: number, disp: number, val: string): void {
  if ((m & 0x2000) !== 0) c.out.push(wr8(r8((m >> 3) & 7), val));
  else emitWrite(c, (m >> 14) & 7, eaExpr(m, disp), val, 1);
}

/**
 * Continue at page offset `t`: inside this chunk by `pc = t; break` (the chunk's switch
 * loop), through the dispatcher for another chunk of the page, or leave the page.
 */
export function goto(c: Ctx, t: number, k: number): string {
  if (t >= 0 && t < 4096) {
    // forward jumps cannot loop: only backward ones pass the events/budget check
    if (c.chunkEntries.has(t)) return t > c.off ? `n += ${k}; pc = ${t}; continue run;` : `n += ${k}; pc = ${t}; break;`;
    return `n += ${k}; ret = ${t}; break out;`;
  }
  return `n += ${k}; cpu.eip = (eipBase + ${hex(t)}) | 0; ret = -1; break out;`;
}

/** Continue at a runtime linear address in local `v` (indirect jumps, RET). */
function gotoDyn(k: number): string {
  return `n += ${k}; pc = (v - eipBase) | 0; if ((pc >>> 0) < 4096) break; cpu.eip = v; ret = -1; break out;`;
}

function push32(c: Ctx, val: string): void {
  c.out.push(`esp = (regs[4] - 4) | 0; e = tlb[esp >>> 12];`);
  c.out.push(`if ((e & wrMask) === 1 && (esp & 4095) <= 4092) dv.setInt32((e & -4096) ^ esp, ${val}, true); else { ${faultPoint(c)}smc |= H.wr32(cpu, 2, esp, ${val}); }`);
  c.out.push('regs[4] = esp;');
}

function pop32(c: Ctx, dst: string): void {
  c.out.push(`esp = regs[4]; e = tlb[esp >>> 12];`);
  c.out.push(`if ((e & rdMask) === 1 && (esp & 4095) <= 4092) ${dst} = dv.getInt32((e & -4096) ^ esp, true); else { ${faultPoint(c)}${dst} = H.rd32(cpu, 2, esp); }`);
}

const SMC_CHECK = (c: Ctx): string => `if (smc !== 0) { ${c.pend}n += ${c.k + 1}; cpu.eip = (eipBase + ${c.nx}) | 0; ret = -1; break out; }`;

/**
 * Emit one instruction. Returns 'cont' to continue the block, 'done' when the instruction
 * ended it (control transfer emitted), 'interp' to run it in the interpreter.
 */
export function emitInsn(cpu: Cpu, c: Ctx, last: boolean): 'cont' | 'done' | 'interp' {
  const cc = cpu.cache;
  const i = c.idx;
  const op = cc.op[i]!, m = cc.m[i]!, d = cc.disp[i]!, imm = cc.imm[i]!;
  const o = c.out;
  const isReg = (m & 0x2000) !== 0;
  const g = m & 7;
  const seg = (m >> 14) & 7;
  if ((m & 0x40000) !== 0 && op !== Op.JCC && op !== Op.NOP) return 'interp'; // 16-bit operand size
  switch (op) {
    case Op.NOP: return 'cont';
    case Op.MOV_EG32:
      if (isReg) o.push(`regs[${(m >> 3) & 7}] = regs[${g}];`);
      else {
        o.push(`v = regs[${g}];`);
        emitWrite(c, seg, eaExpr(m, d), 'v', 4);
        o.push(SMC_CHECK(c));
      }
      return 'cont';
    case Op.MOV_GE32:
      if (isReg) o.push(`regs[${g}] = regs[${(m >> 3) & 7}];`);
      else { emitRead(c, 'v', seg, eaExpr(m, d), 4); o.push(`regs[${g}] = v;`); }
      return 'cont';
    case Op.MOV_EI32:
      if (isReg) o.push(`regs[${(m >> 3) & 7}] = ${hex(imm)};`);
      else { o.push(`v = ${hex(imm)};`); emitWrite(c, seg, eaExpr(m, d), 'v', 4); o.push(SMC_CHECK(c)); }
      return 'cont';
    case Op.MOV_EG8:
      o.push(`v = ${rd8(r8(g))};`);
      writeE8(c, m, d, 'v');
      if (!isReg) o.push(SMC_CHECK(c));
      return 'cont';
    case Op.MOV_GE8:
      readE8(c, 'v', m, d);
      o.push(wr8(r8(g), 'v'));
      return 'cont';
    case Op.MOV_EI8:
      o.push(`v = ${imm & 0xff};`);
      writeE8(c, m, d, 'v');
      if (!isReg) o.push(SMC_CHECK(c));
      return 'cont';
    case Op.MOVZX8_32: readE8(c, 'v', m, d); o.push(`regs[${g}] = v;`); return 'cont';
    case Op.MOVZX16_32: readE16(c, 'v', m, d); o.push(`regs[${g}] = v;`); return 'cont';
    case Op.MOVSX8_32: readE8(c, 'v', m, d); o.push(`regs[${g}] = (v << 24) >> 24;`); return 'cont';
    case Op.MOVSX16_32: readE16(c, 'v', m, d); o.push(`regs[${g}] = (v << 16) >> 16;`); return 'cont';
    case Op.LEA32: o.push(`regs[${g}] = ${eaExpr(m, d)};`); return 'cont';
    case Op.ALU_EG32: case Op.ALU_EI32: {
      const aop = m >>> 24;
      const bsrc = op === Op.ALU_EG32 ? `regs[${g}]` : hex(imm);
      if (isReg) {
        const dr = (m >> 3) & 7;
        o.push(`a = regs[${dr}]; b = ${bsrc};`);
        emitAlu32(c, aop);
        if (aop !== 7) o.push(`regs[${dr}] = r;`);
        return 'cont';
      }
      if (aop === 7) {
        emitRead(c, 'a', seg, eaExpr(m, d), 4);
        o.push(`b = ${bsrc};`);
        emitAlu32(c, 7);
        return 'cont';
      }
      if (!flatSeg(seg)) return 'interp';
      o.push(`lin = ${eaExpr(m, d)}; e = tlb[lin >>> 12];`);
      o.push(`if ((e & wrMask) === 1 && (lin & 4095) <= 4092) { ma = (e & -4096) ^ lin; a = dv.getInt32(ma, true); } else { ${faultPoint(c)}ma = -1; a = H.rmw32(cpu, ${seg}, lin); }`);
      o.push(`b = ${bsrc};`);
      emitAlu32(c, aop);
      o.push(`if (ma >= 0) dv.setInt32(ma, r, true); else smc |= H.rmwDone32(cpu, r);`);
      o.push(SMC_CHECK(c));
      return 'cont';
    }
    case Op.ALU_GE32: {
      const aop = m >>> 24;
      o.push(`a = regs[${g}];`);
      readE32(c, 'b', m, d);
      emitAlu32(c, aop);
      if (aop !== 7) o.push(`regs[${g}] = r;`);
      return 'cont';
    }
    case Op.ALU_EG8: case Op.ALU_EI8: case Op.ALU_GE8: {
      const aop = m >>> 24;
      if (aop !== 2 && aop !== 3 && (isReg || op === Op.ALU_GE8 || aop === 7)) {
        // add/or/and/sub/xor/cmp inline, operands sign-extended as flags.ts wants them
        const bsrc = op === Op.ALU_EI8 ? String((imm << 24) >> 24) : `((${rd8(r8(g))} << 24) >> 24)`;
        if (op === Op.ALU_GE8) {
          o.push(`a = (${rd8(r8(g))} << 24) >> 24;`);
          readE8(c, 'b', m, d);
          o.push('b = (b << 24) >> 24;');
        } else {
          readE8(c, 'a', m, d);
          o.push(`a = (a << 24) >> 24; b = ${bsrc};`);
        }
        emitAlu8(c, aop);
        if (aop !== 7) {
          if (op === Op.ALU_GE8) o.push(wr8(r8(g), 'r'));
          else writeE8(c, m, d, 'r');
        }
        return 'cont';
      }
      if (op === Op.ALU_GE8) {
        o.push(`a = ${rd8(r8(g))};`);
        readE8(c, 'b', m, d);
        o.push(`r = H.alu(cpu, ${aop}, a, b, 8);`);
        if (aop !== 7) o.push(wr8(r8(g), 'r'));
      } else if (!isReg && aop !== 7) {
        o.push(`${faultPoint(c)}a = H.rmw8(cpu, ${seg}, ${eaExpr(m, d)});`);
        o.push(`b = ${op === Op.ALU_EG8 ? rd8(r8(g)) : String(imm & 0xff)};`);
        o.push(`r = H.alu(cpu, ${aop}, a, b, 8); smc |= H.rmwDone8(cpu, r);`);
        o.push(SMC_CHECK(c));
      } else {
        readE8(c, 'a', m, d);
        o.push(`b = ${op === Op.ALU_EG8 ? rd8(r8(g)) : String(imm & 0xff)};`);
        o.push(`r = H.alu(cpu, ${aop}, a, b, 8);`);
        if (aop !== 7) writeE8(c, m, d, 'r');
      }
      c.fuse = F_NONE;
      return 'cont';
    }
    case Op.TEST_EG32: case Op.TEST_EI32:
      readE32(c, 'a', m, d);
      o.push(`fr = a & ${op === Op.TEST_EG32 ? `regs[${g}]` : hex(imm)};`);
      o.push(flagStore(c, 'cpu.flags &= -2066; cpu.fRes = fr; cpu.lazy = 0xc4;'));
      c.fuse = F_LOGIC;
      return 'cont';
    case Op.TEST_EG8: case Op.TEST_EI8:
      readE8(c, 'a', m, d);
      o.push(`fr = ((a & ${op === Op.TEST_EG8 ? rd8(r8(g)) : String(imm & 0xff)}) << 24) >> 24;`);
      o.push(flagStore(c, 'cpu.flags &= -2066; cpu.fRes = fr; cpu.lazy = 0xc4;'));
      c.fuse = F_LOGIC;
      return 'cont';
    case Op.INC32: case Op.DEC32: {
      const dec = op === Op.DEC32;
      if (!isReg) {
        if (!flatSeg(seg)) return 'interp';
        o.push(`lin = ${eaExpr(m, d)}; e = tlb[lin >>> 12];`);
        o.push(`if ((e & wrMask) === 1 && (lin & 4095) <= 4092) { ma = (e & -4096) ^ lin; a = dv.getInt32(ma, true); } else { ${faultPoint(c)}ma = -1; a = H.rmw32(cpu, ${seg}, lin); }`);
        o.push(`r = H.incDec(cpu, a, ${dec}, 32);`);
        o.push(`if (ma >= 0) dv.setInt32(ma, r, true); else smc |= H.rmwDone32(cpu, r);`);
        o.push(SMC_CHECK(c));
        c.fuse = F_NONE;
        return 'cont';
      }
      const dr = (m >> 3) & 7;
      // the result goes to r first: fa/fb/fr still hold the previous producer for CF
      o.push(`a = regs[${dr}]; r = (a ${dec ? '-' : '+'} 1) | 0;`);
      if (c.flagsLive || c.cfLive) {
        // CF survives INC/DEC: take it from the producer's operands when that is in this block
        if (c.fuse === F_SUB) o.push('cpu.flags = (cpu.flags & -2) | ((fa >>> 0) < (fb >>> 0) ? 1 : 0);');
        else if (c.fuse === F_ADD) o.push('cpu.flags = (cpu.flags & -2) | ((fr >>> 0) < (fa >>> 0) ? 1 : 0);');
        else if (c.fuse === F_LOGIC) o.push('cpu.flags &= -2;');
        else o.push('if ((cpu.lazy & 1) !== 0) cpu.flags = (cpu.flags & -2) | H.getCF(cpu);');
        o.push(`cpu.fOp1 = a; cpu.fOp2 = 1; cpu.fRes = r; cpu.fKind = ${dec ? 1 : 0}; cpu.lazy = 0x8d4;`);
      }
      o.push(`fr = r; regs[${dr}] = r;`);
      c.fuse = F_INCDEC;
      return 'cont';
    }
    case Op.MUL32:
      readE32(c, 'b', m, d);
      // 32x32 -> 64 in 16-bit pieces; dedicated temps keep the int32 locals free of doubles
      o.push('a = regs[0]; m0 = a & 0xffff; m1 = a >>> 16; m2 = b & 0xffff; m3 = b >>> 16;');
      o.push('m4 = m0 * m2; m5 = (m4 >>> 16) + ((m0 * m3) & 0xffff) + ((m1 * m2) & 0xffff);');
      o.push('a = (m5 << 16) | (m4 & 0xffff); b = (m1 * m3 + ((m0 * m3) >>> 16) + ((m1 * m2) >>> 16) + (m5 >>> 16)) | 0;');
      o.push('regs[0] = a; regs[2] = b;');
      if (c.flagsLive) o.push('cpu.flags = (cpu.flags & -2262) | (b !== 0 ? 0x801 : 0) | (a < 0 ? 0x80 : 0) | (PARITY[a & 255] === 1 ? 4 : 0); cpu.lazy = 0;');
      c.fuse = F_NONE;
      return 'cont';
    case Op.IMUL32: case Op.DIV32: case Op.IDIV32:
      readE32(c, 'a', m, d);
      if (op === Op.IMUL32) o.push(`${FLUSH}H.mul1(cpu, a, true, 32);${RELOAD}`);
      else o.push(`${faultPoint(c)}${FLUSH}H.div1(cpu, a, ${op === Op.IDIV32}, 32);${RELOAD}`);
      c.fuse = F_NONE;
      return 'cont';
    case Op.SHLD32: case Op.SHRD32: {
      if (!isReg) return 'interp';
      const dr = (m >> 3) & 7;
      const count = ((m >>> 24) & 8) !== 0 ? rd8(4) : String(imm);
      o.push(`v = ${count} & 31; if (v !== 0) { a = regs[${dr}]; b = regs[${g}];`);
      if (op === Op.SHLD32) {
        o.push('r = (a << v) | (b >>> (32 - v)); e = ((a >>> (32 - v)) & 1) | (((a ^ (a << 1)) >>> 31) << 11);');
      } else {
        o.push('r = (a >>> v) | (b << (32 - v)); e = ((a >>> (v - 1)) & 1) | ((((a >>> 31) ^ b) & 1) << 11);');
      }
      if (c.flagsLive) o.push('cpu.flags = (cpu.flags & -2066) | e; cpu.fRes = r; cpu.lazy = 0xc4;');
      o.push(`regs[${dr}] = r; }`);
      c.fuse = F_NONE;
      return 'cont';
    }
    case Op.MOVS8: case Op.MOVS32: case Op.STOS8: case Op.STOS32: case Op.LODS8: case Op.LODS32:
    case Op.CMPS8: case Op.SCAS8: {
      const kinds: Record<number, [number, number]> = {
        [Op.MOVS8]: [0, 1], [Op.MOVS32]: [0, 4], [Op.STOS8]: [2, 1], [Op.STOS32]: [2, 4], [Op.LODS8]: [3, 1],
        [Op.LODS32]: [3, 4], [Op.CMPS8]: [1, 1], [Op.SCAS8]: [4, 1],
      };
      const [kind, size] = kinds[op]!;
      o.push(`cpu.eip = (eipBase + ${c.off}) | 0; ${faultPoint(c)}${FLUSH}v = H.str(cpu, ${kind}, ${size}, ${m}, ${c.nx - c.off});${RELOAD}`);
      // 1: not finished (not retired, EIP stays at it); 2: finished but wrote code
      o.push(`if (v !== 0) { if (v === 2) { n += ${c.k + 1}; cpu.eip = (eipBase + ${c.nx}) | 0; } else n += ${c.k}; ret = -1; break out; }`);
      c.fuse = F_NONE;
      return 'cont';
    }
    case Op.NOT32:
      if (!isReg) return 'interp';
      o.push(`regs[${(m >> 3) & 7}] = ~regs[${(m >> 3) & 7}];`);
      return 'cont';
    case Op.NEG32:
      if (!isReg) return 'interp';
      o.push(`b = regs[${(m >> 3) & 7}]; fr = (0 - b) | 0;${c.flagsLive ? ' cpu.fOp1 = 0; cpu.fOp2 = b; cpu.fRes = fr; cpu.fKind = 1; cpu.lazy = 0x8d5;' : ''} regs[${(m >> 3) & 7}] = fr;`);
      c.fuse = F_NONE;
      return 'cont';
    case Op.SHIFT32: {
      const aux = m >>> 24;
      const sop = aux & 7;
      const cnt = imm & 31;
      if ((aux & 8) !== 0 && isReg && (sop === 4 || sop === 5 || sop === 6 || sop === 7)) {
        const dr = (m >> 3) & 7;
        o.push(`v = ${rd8(4)} & 31; if (v !== 0) { a = regs[${dr}];`);
        if (sop === 5) o.push('r = a >>> v; b = ((a >>> (v - 1)) & 1) | ((a >>> 31) << 11);');
        else if (sop === 7) o.push('r = a >> v; b = (a >> (v - 1)) & 1;');
        else o.push('r = a << v; b = ((a >>> (32 - v)) & 1) | (((a ^ (a << 1)) >>> 31) << 11);');
        o.push(`cpu.flags = (cpu.flags & -2066) | b; cpu.fRes = r; cpu.lazy = 0xc4; regs[${dr}] = r; }`);
        c.fuse = F_NONE;
        return 'cont';
      }
      if ((aux & 8) !== 0 || cnt === 0 || !isReg || !(sop === 4 || sop === 5 || sop === 6 || sop === 7)) {
        if (!isReg) return 'interp';
        const dr = (m >> 3) & 7;
        const count = (aux & 8) !== 0 ? rd8(4) : String(imm);
        o.push(`if ((${count} & 31) !== 0) regs[${dr}] = H.shift(cpu, ${sop}, regs[${dr}], ${count}, 32);`);
        c.fuse = F_NONE;
        return 'cont';
      }
      const dr = (m >> 3) & 7;
      o.push(`a = regs[${dr}];`);
      if (sop === 5) o.push(`r = a >>> ${cnt}; v = ((a >>> ${cnt - 1}) & 1) | ((a >>> 31) << 11);`);
      else if (sop === 7) o.push(`r = a >> ${cnt}; v = (a >> ${cnt - 1}) & 1;`);
      else o.push(`r = a << ${cnt}; v = ((a >>> ${32 - cnt}) & 1) | (((a ^ (a << 1)) >>> 31) << 11);`);
      o.push(`${c.flagsLive ? 'cpu.flags = (cpu.flags & -2066) | v; cpu.fRes = r; cpu.lazy = 0xc4; ' : ''}regs[${dr}] = r;`);
      c.fuse = F_NONE;
      return 'cont';
    }
    case Op.IMUL_GE32: case Op.IMUL_GEI32:
      if (op === Op.IMUL_GE32) {
        readE32(c, 'b', m, d);
        o.push(`a = regs[${g}];`);
      } else {
        readE32(c, 'a', m, d);
        o.push(`b = ${hex(imm)};`);
      }
      o.push('r = Math.imul(a, b);');
      if (c.flagsLive) {
        // CF = OF = the product does not fit (a double product is exact enough to tell)
        o.push('cpu.flags = (cpu.flags & -2262) | (a * b !== r ? 0x801 : 0) | (r < 0 ? 0x80 : 0) | (PARITY[r & 255] === 1 ? 4 : 0); cpu.lazy = 0;');
      }
      o.push(`regs[${g}] = r;`);
      c.fuse = F_NONE;
      return 'cont';
    case Op.BSF32: case Op.BSR32:
      readE32(c, 'a', m, d);
      o.push(`regs[${g}] = H.bitScan(cpu, a, regs[${g}], ${op === Op.BSR32}, 32);`);
      c.fuse = F_NONE;
      return 'cont';
    case Op.CDQ: o.push('regs[2] = regs[0] >> 31;'); return 'cont';
    case Op.CWDE: o.push('regs[0] = (regs[0] << 16) >> 16;'); return 'cont';
    case Op.BSWAP: o.push(`v = regs[${g}]; regs[${g}] = (v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);`); return 'cont';
    case Op.XCHG32:
      if (!isReg) return 'interp';
      o.push(`v = regs[${(m >> 3) & 7}]; regs[${(m >> 3) & 7}] = regs[${g}]; regs[${g}] = v;`);
      return 'cont';
    case Op.CMOV32:
      readE32(c, 'v', m, d);
      o.push(`if (${condExpr(c, m >>> 24)}) regs[${g}] = v;`);
      return 'cont';
    case Op.SETCC:
      o.push(`v = ${condExpr(c, m >>> 24)} ? 1 : 0;`);
      writeE8(c, m, d, 'v');
      if (!isReg) o.push(SMC_CHECK(c));
      return 'cont';
    case Op.PUSH32:
      readE32(c, 'v', m, d);
      push32(c, 'v');
      o.push(SMC_CHECK(c));
      return 'cont';
    case Op.PUSH_I32:
      o.push(`v = ${hex(imm)};`);
      push32(c, 'v');
      o.push(SMC_CHECK(c));
      return 'cont';
    case Op.POP32:
      if (!isReg) return 'interp';
      pop32(c, 'v');
      o.push(`regs[4] = (esp + 4) | 0; regs[${(m >> 3) & 7}] = v;`);
      return 'cont';
    case Op.LEAVE32:
      o.push('esp = regs[5]; e = tlb[esp >>> 12];');
      o.push(`if ((e & rdMask) === 1 && (esp & 4095) <= 4092) v = dv.getInt32((e & -4096) ^ esp, true); else { ${faultPoint(c)}v = H.rd32(cpu, 2, esp); }`);
      o.push('regs[4] = (esp + 4) | 0; regs[5] = v;');
      return 'cont';
    // ------------------------------------------------------------ control transfers
    case Op.JMP:
      o.push(goto(c, c.nx + imm, c.k + 1));
      return 'done';
    case Op.JCC:
      if ((m & 0x40000) !== 0) return 'interp';
      o.push(`if (${condExpr(c, m >>> 24)}) { ${goto(c, c.nx + imm, c.k + 1)} } else { ${goto(c, c.nx, c.k + 1)} }`);
      return 'done';
    case Op.CALL:
      o.push(`v = (eipBase + ${c.nx}) | 0;`);
      push32(c, 'v');
      o.push(`if (smc !== 0) { n += ${c.k + 1}; cpu.eip = (eipBase + ${hex(c.nx + imm)}) | 0; ret = -1; break out; }`);
      o.push(goto(c, c.nx + imm, c.k + 1));
      return 'done';
    case Op.RET:
      pop32(c, 'v');
      o.push(`regs[4] = (esp + ${4 + imm}) | 0;`);
      o.push(gotoDyn(c.k + 1));
      return 'done';
    case Op.JMP_E:
      readE32(c, 'v', m, d);
      o.push(gotoDyn(c.k + 1));
      return 'done';
    case Op.CALL_E:
      readE32(c, 'a', m, d);
      o.push(`v = (eipBase + ${c.nx}) | 0;`);
      push32(c, 'v');
      o.push('v = a;');
      o.push(`if (smc !== 0) { n += ${c.k + 1}; cpu.eip = v; ret = -1; break out; }`);
      o.push(gotoDyn(c.k + 1));
      return 'done';
    default:
      void last;
      return 'interp';
  }
}
