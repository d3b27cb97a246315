/**
 * The JIT tier (CPU-PERF rules 13-15): one JavaScript function per hot 4 KiB code frame,
 * compiled from the frame's decoded blocks in flat 32-bit mode (Cpu.flat32).
 *
 * Shape of a region function (entered with Cpu.eip at page offset `off`):
 *
 *   for (;;) {
 *     switch (pc) {            // one case per block entry offset (literal cases: a jump table)
 *       case 0x120: ...instructions...; n += K; pc = <next block>; break;   // or leave
 *       default: leave (or return 1 if this was the entry: "not compiled here")
 *     }
 *     if (events pending || budget spent) leave;
 *   }
 *
 * Registers stay in Cpu.regs; lazy-flag state is written as the interpreter writes it, and a
 * condition right after its producer in the same block (CMP/SUB/ADD/TEST/logic then Jcc,
 * SETcc or CMOVcc, with only flag-neutral instructions between) is computed directly from
 * the operands held in locals. Memory accesses inline the TLB fast path (mem.ts) and call
 * the interpreter's accessors otherwise. Instructions without a native form run through the
 * interpreter one at a time (HELPERS.interp), so every instruction is supported.
 *
 * Invariants:
 *  - Compiled only under flat32 (CS/SS/DS/ES base 0, 4 GiB limits, 32-bit code and stack),
 *    which the dispatcher checks before calling; so offsets are linear addresses and the
 *    CS-limit checks of jumps cannot fail. FS/GS accesses go through the full accessors.
 *  - Jumps stay inside the region only within the same linear page, whose frame cannot
 *    change while the region runs (CR3/INVLPG/CR0 writes end blocks and leave the region).
 *  - A fault inside leaves Cpu.eip at the faulting instruction (`cur`) and counts exactly
 *    the instructions retired before it (`n + k`), as the interpreter does; helpers throw
 *    the one FAULT object and the catch rethrows it.
 *  - A write that invalidates decoded code sets `smc`; the region leaves right after that
 *    instruction (its own code may have changed).
 *  - Nothing here depends on the linear address of the page: eipBase is computed on entry.
 */
import type { Cpu } from '../cpu.ts';
import type { ChunkFn, RegionFn } from '../code_cache.ts';
import { ENDS_BLOCK, Op } from '../ops.ts';
import { PARITY } from '../flags.ts';
import { HELPERS, type JitHelpers } from './helpers.ts';
import {
  type Ctx, F_ADD, F_LOGIC, F_NONE, F_SUB, FLAG_NEUTRAL, FLUSH, FLUSH_REGS, PEND_SAFE, PRODUCERS, RELOAD, emitInsn, goto,
} from './emit.ts';
import { condExpr } from './emit_flags.ts';

const ALL_FLAGS = 0x8d5;
const CF_FLAG = 1;

/**
 * Which arithmetic flags instruction `idx` writes (defs) and reads or exposes (uses), given
 * whether it compiles natively and the fusion state before it. Anything that can fault
 * "uses" every flag: an exception frame shows EFLAGS, so the flags must be stored before.
 * The fourth element is the real uses alone (reads of the flags, not fault points): a
 * producer whose flags only fault points can see defers its stores to them (Ctx.pend).
 */
function flagEffects(cpu: Cpu, idx: number, native: boolean, fuse: number): [number, number, number, number] {
  const cc = cpu.cache;
  const op = cc.op[idx]!, m = cc.m[idx]!, imm = cc.imm[idx]!;
  if (!native) return [0, ALL_FLAGS, 0, ALL_FLAGS];
  const isReg = (m & 0x2000) !== 0;
  let defs = 0, uses = 0;
  // flags the instruction may write (a shift by CL writes none when CL is 0): it must store
  // them if they are live, but it only kills the flags it always writes (defs)
  let may = -1;
  switch (op) {
    case Op.ALU_EG32: case Op.ALU_EI32: case Op.ALU_GE32: case Op.ALU_EG8: case Op.ALU_EI8: case Op.ALU_GE8: {
      const aop = m >>> 24;
      defs = ALL_FLAGS;
      // 32-bit ADC/SBB take a fused carry from the producer's operands; 8-bit ones read CF
      const wide = op === Op.ALU_EG32 || op === Op.ALU_EI32 || op === Op.ALU_GE32;
      if ((aop === 2 || aop === 3) && !(wide && (fuse === F_SUB || fuse === F_ADD || fuse === F_LOGIC))) uses = CF_FLAG;
      break;
    }
    case Op.TEST_EG32: case Op.TEST_EI32: case Op.TEST_EG8: case Op.TEST_EI8: case Op.NEG32: case Op.MUL32: case Op.IMUL32:
    case Op.IMUL_GE32: case Op.IMUL_GEI32: case Op.BSF32: case Op.BSR32:
      defs = ALL_FLAGS;
      break;
    case Op.INC32: case Op.DEC32:
      if (isReg && (fuse === F_SUB || fuse === F_ADD || fuse === F_LOGIC)) defs = ALL_FLAGS;
      else {
        defs = ALL_FLAGS & ~CF_FLAG;
        uses = CF_FLAG;
      }
      break;
    case Op.SHIFT32: {
      const aux = m >>> 24, sop = aux & 7;
      const byCl = (aux & 8) !== 0;
      if (sop === 2 || sop === 3) uses = CF_FLAG;
      if (!byCl && (imm & 31) !== 0) defs = sop >= 4 ? ALL_FLAGS : CF_FLAG | 0x800;
      if (byCl) may = sop >= 4 ? ALL_FLAGS : CF_FLAG | 0x800;
      break;
    }
    case Op.SHLD32: case Op.SHRD32:
      if (((m >>> 24) & 8) === 0 && (imm & 31) !== 0) defs = ALL_FLAGS;
      else may = ALL_FLAGS;
      break;
    case Op.JCC: case Op.SETCC: case Op.CMOV32:
      if (condExpr({ fuse } as Ctx, m >>> 24).startsWith('H.')) uses = ALL_FLAGS;
      break;
    case Op.MOVS8: case Op.MOVS32: case Op.STOS8: case Op.STOS32: case Op.LODS8: case Op.LODS32: case Op.CMPS8: case Op.SCAS8:
      uses = ALL_FLAGS;
      break;
    default:
      break;
  }
  const stack = op === Op.PUSH32 || op === Op.PUSH_I32 || op === Op.POP32 || op === Op.LEAVE32 || op === Op.CALL ||
    op === Op.RET || op === Op.CALL_E || op === Op.DIV32 || op === Op.IDIV32;
  const memOperand = !isReg && op !== Op.LEA32 && op !== Op.NOP && op !== Op.JCC && op !== Op.JMP && op !== Op.CALL &&
    op !== Op.RET && op !== Op.CDQ && op !== Op.CWDE && op !== Op.BSWAP;
  const real = uses;
  if (stack || memOperand) uses = ALL_FLAGS;
  return [defs, uses, may === -1 ? defs : may, real];
}

/**
 * Producers that may start while lazy-flag stores are pending: their fault points come
 * before they compute, and their own flag stores go through flagStore() (emit.ts), which
 * supersedes the pending ones. (ADC/SBB and the 8-bit forms done by H.alu read or write
 * the flag state in Cpu, so pending stores are made before them.)
 */
function pendProducer(cpu: Cpu, idx: number): boolean {
  const cc = cpu.cache;
  const op = cc.op[idx]!, m = cc.m[idx]!;
  const aop = m >>> 24;
  switch (op) {
    case Op.TEST_EG32: case Op.TEST_EI32: case Op.TEST_EG8: case Op.TEST_EI8:
      return true;
    case Op.ALU_EG32: case Op.ALU_EI32: case Op.ALU_GE32:
      return aop !== 2 && aop !== 3;
    case Op.ALU_EG8: case Op.ALU_EI8: case Op.ALU_GE8:
      return aop !== 2 && aop !== 3 && ((m & 0x2000) !== 0 || op === Op.ALU_GE8 || aop === 7);
    default:
      return false;
  }
}

/**
 * Native forms that define every arithmetic flag without reading the flag state, with any
 * fault point before they write it: pending stores (Ctx.pend) are superseded by them (they
 * store their own flags when those are live), so they need not be made first.
 */
function supersedes(cpu: Cpu, idx: number): boolean {
  const cc = cpu.cache;
  const op = cc.op[idx]!, m = cc.m[idx]!;
  const isReg = (m & 0x2000) !== 0;
  switch (op) {
    case Op.MUL32: case Op.IMUL_GE32: case Op.IMUL_GEI32:
      return true;
    case Op.NEG32:
      return isReg;
    case Op.SHIFT32: {
      const aux = m >>> 24;
      return isReg && (aux & 8) === 0 && (cc.imm[idx]! & 31) !== 0 && (aux & 7) >= 4;
    }
    default:
      return false;
  }
}

/** Emit a block's instructions into `out` (see blockSource). Returns whether it ended. */
function emitBlock(cpu: Cpu, b: number, out: string[], chunkEntries: Set<number>, live: Int32Array | null,
  liveReal: Int32Array | null, native: Uint8Array, fuses: Int8Array): number {
  const cc = cpu.cache;
  const first = cc.blkFirst[b]!, count = cc.blkCount[b]!;
  let off = cc.blkAddr[b]! & 0xfff;
  let nat = 0;
  const ctx: Ctx = {
    out, off, nx: off, idx: first, k: 0, fuse: F_NONE, chunkEntries, flagsLive: true, cfLive: true, pendOK: false, pend: '',
  };
  for (let j = 0; j < count; j++) {
    const idx = first + j;
    const len = cc.len[idx]!;
    ctx.off = off;
    ctx.nx = off + len;
    ctx.idx = idx;
    ctx.k = nat;
    fuses[j] = ctx.fuse;
    if (live !== null && liveReal !== null) {
      const [, , may] = flagEffects(cpu, idx, native[j] === 1, ctx.fuse);
      ctx.flagsLive = (live[j]! & may) !== 0;
      ctx.cfLive = (live[j]! & CF_FLAG) !== 0;
      ctx.pendOK = (liveReal[j]! & may) === 0;
    }
    const op = cc.op[idx]!;
    // pending flag stores are made before anything that may look at the flag state, and
    // before the block's last instruction (blocks end with every flag stored)
    const sup = supersedes(cpu, idx);
    if (ctx.pend !== '' && (j === count - 1 || !(PEND_SAFE.has(op) || pendProducer(cpu, idx) || sup))) {
      out.push(ctx.pend);
      ctx.pend = '';
    }
    const pendBefore = ctx.pend;
    const mark = out.length;
    const res = emitInsn(cpu, ctx, j === count - 1);
    native[j] = res === 'interp' ? 0 : 1;
    if (res === 'interp') {
      out.length = mark;
      if (pendBefore !== '') out.push(pendBefore);
      ctx.pend = '';
      out.push(`cpu.eip = (eipBase + ${off}) | 0; cur = ${off}; k = ${nat}; ${FLUSH}H.interp(cpu, ${idx});${RELOAD}`);
      ctx.fuse = F_NONE;
      if (ENDS_BLOCK[op] === 1 || j === count - 1) {
        // the interpreter moved EIP (a branch, or this block's end): go on there
        out.push(`n += ${nat}; v = cpu.eip; pc = (v - eipBase) | 0; if ((pc >>> 0) < 4096) break; ret = -1; break out;`);
        return j + 1;
      }
      // leave if it did not simply fall through, or raised an event (FERR#, device IRQ)
      out.push(`if (cpu.eip !== ((eipBase + ${ctx.nx}) | 0) || cpu.pendingEvents !== 0) { n += ${nat}; ret = -1; break out; }`);
    } else {
      if (sup) ctx.pend = '';
      nat++;
      if (!FLAG_NEUTRAL.has(op) && !PRODUCERS.has(op)) ctx.fuse = F_NONE;
      if (res === 'done') return j + 1;
    }
    off += len;
  }
  out.push(goto(ctx, off, nat));
  return count;
}

/**
 * JS source of one block as a `case` of its chunk's switch. A first pass finds which
 * instructions compile natively and the flag-fusion state before each; a backward pass over
 * flag defs/uses then lets producers whose flags are overwritten before anything can see
 * them skip storing the lazy state (flags are all live at the block's end).
 */
export function blockSource(cpu: Cpu, b: number, chunkEntries: Set<number>): string {
  const cc = cpu.cache;
  const count = cc.blkCount[b]!;
  const native = new Uint8Array(count), fuses = new Int8Array(count);
  const n = emitBlock(cpu, b, [], chunkEntries, null, null, native, fuses);
  // live: flags some later instruction reads or a fault point exposes; liveReal: reads only
  const live = new Int32Array(count), liveReal = new Int32Array(count);
  let l = ALL_FLAGS, lr = ALL_FLAGS;
  for (let j = n - 1; j >= 0; j--) {
    live[j] = l;
    liveReal[j] = lr;
    const [defs, uses, , real] = flagEffects(cpu, cc.blkFirst[b]! + j, native[j] === 1, fuses[j]!);
    l = (l & ~defs) | uses;
    lr = (lr & ~defs) | real;
  }
  const out = [`case ${cc.blkAddr[b]! & 0xfff}: {`];
  emitBlock(cpu, b, out, chunkEntries, live, liveReal, native, fuses);
  out.push('}');
  return out.join('\n');
}

/**
 * A chunk: blocks of one region in one function, small enough for TurboFan. Returns the page
 * offset to continue at (another chunk), -1 after leaving the page (Cpu.eip set), or
 * STOP | pc when events or the budget stop the run at pc. Instructions are counted into
 * Cpu.instructions before every return.
 */
const STOP = 0x10000;
/**
 * Source characters per chunk: a few blocks. Measured on the bench workload, TurboFan's code
 * for small chunks beats big ones even though control passes through the dispatcher more
 * often (4 K: ~340 MIPS per CPU-second, 24 K: ~300; copying hot cross-chunk targets into
 * bigger chunks cut transitions 5x and was slower still).
 */
const CHUNK_SOURCE = 4_000;

const CHUNK_HEAD = `
const H = helpers, PARITY = parity;
return function chunk(cpu, pc, eipBase) {
  const RG = cpu.regs, dv = cpu.memView, u8 = cpu.memU8, tlb = cpu.tlbE;
  const rdMask = cpu.rdMask, wrMask = cpu.wrMask;
  let r0 = RG[0], r1 = RG[1], r2 = RG[2], r3 = RG[3], r4 = RG[4], r5 = RG[5], r6 = RG[6], r7 = RG[7];
  let n = 0, k = 0, cur = pc, smc = 0, ret = 0, hr = 0;
  let e = 0, lin = 0, v = 0, a = 0, b = 0, r = 0, ma = 0, esp = 0, fa = 0, fb = 0, fr = 0;
  let m0 = 0, m1 = 0, m2 = 0, m3 = 0, m4 = 0, m5 = 0;
  try {
    out: {
      run: for (;;) {
        switch (pc) {
`;

const CHUNK_TAIL = `
          default:
            ret = pc; break out;
        }
        if (cpu.pendingEvents !== 0 || cpu.instructions + n >= cpu.budgetEnd) { ret = ${STOP} | pc; break out; }
      }
    }
  } catch (ex) {
    if (hr === 0) { ${FLUSH_REGS}}
    cpu.eip = (eipBase + cur) | 0; cpu.instructions += n + k; throw ex;
  }
  ${FLUSH_REGS}cpu.instructions += n; return ret;
};`;

function compileChunk(body: string): ChunkFn {
  // SAFETY: the source is built only from decoded instruction fields (numbers); no guest
  // bytes or strings reach it, so `new Function` evaluates only code we generated.
  // guest registers are locals r0..r7 inside the chunk (see rd8/FLUSH)
  const code = body.replace(/\bregs\[(\d)\]/g, 'r$1');
  // write back only the registers the chunk assigns: the others still equal Cpu.regs (they
  // were loaded at entry or reloaded after a helper that may have changed them)
  const written = new Set<string>();
  for (const m of code.matchAll(/\br([0-7]) *(?:[-+|&^]|<<|>>>?)?=(?!=) *(?!RG\[)/g)) written.add(m[1]!);
  const flush = [...written].sort().map((i) => `RG[${i}] = r${i}; `).join('');
  const src = (CHUNK_HEAD + code + CHUNK_TAIL).split(FLUSH_REGS).join(flush);
  const factory = new Function('helpers', 'parity', src) as (h: JitHelpers, p: Uint8Array) => ChunkFn;
  return factory(HELPERS, PARITY);
}

/** The region dispatcher: runs chunks until the code leaves the page or has to stop. */
function makeRegion(chunks: readonly ChunkFn[], chunkOf: Int8Array): RegionFn {
  return (cpu, off) => {
    const eipBase = (cpu.eip - off) | 0;
    let pc = off;
    if (chunkOf[pc]! < 0) return 1;
    for (;;) {
      const ci = chunkOf[pc]!;
      if (ci < 0) {
        cpu.eip = (eipBase + pc) | 0;
        return 0;
      }
      const r = chunks[ci]!(cpu, pc, eipBase);
      if (r < 0) return 0;
      if (r >= STOP) {
        cpu.eip = (eipBase + (r & 0xfff)) | 0;
        return 0;
      }
      pc = r;
      if (cpu.pendingEvents !== 0 || cpu.instructions >= cpu.budgetEnd) {
        cpu.eip = (eipBase + pc) | 0;
        return 0;
      }
    }
  };
}

/** Control-flow edges of block `b` starting at page offset `st`: [target offset, weight]. */
function blockEdges(cpu: Cpu, b: number, st: number): Array<[number, number]> {
  const cc = cpu.cache;
  const last = cc.blkFirst[b]! + cc.blkCount[b]! - 1;
  const op = cc.op[last]!;
  const nx = st + cc.blkBytes[b]!;
  const t = nx + cc.imm[last]!;
  // a jump back is a loop: cutting it costs a chunk change per iteration
  const w = (x: number): number => (x <= st ? 8 : 2);
  switch (op) {
    case Op.JCC: return [[t, w(t)], [nx, 1]];
    case Op.JMP: return [[t, w(t)]];
    case Op.CALL: return [[t, 2], [nx, 4]]; // the callee and the return site
    case Op.CALL_E: return [[nx, 4]];
    case Op.RET: case Op.JMP_E: return [];
    default: return ENDS_BLOCK[op] === 1 ? [] : [[nx, 1]];
  }
}

/**
 * Split consecutive blocks (page offsets `g`, ascending) into chunks of about CHUNK_SOURCE
 * characters, choosing the split points that cut the fewest control-flow edges (loops
 * weigh most): each cut edge taken costs a return to the region dispatcher and a call into
 * another chunk. Dynamic programming over split points, O(n^2) for n blocks.
 */
function splitGroup(cpu: Cpu, g: readonly number[], byStart: Map<number, number>, est: (st: number) => number): number[][] {
  const n = g.length;
  const cut = new Float64Array(n + 1); // cost of a split before g[i]
  for (let j = 0; j < n; j++) {
    for (const [t, wt] of blockEdges(cpu, byStart.get(g[j]!)!, g[j]!)) {
      if (!byStart.has(t)) continue;
      const lo = Math.min(g[j]!, t), hi = Math.max(g[j]!, t);
      for (let i = 1; i < n; i++) if (lo < g[i]! && g[i]! <= hi) cut[i] += wt;
    }
  }
  const best = new Float64Array(n + 1).fill(Infinity), from = new Int32Array(n + 1);
  best[0] = 0;
  for (let i = 1; i <= n; i++) {
    let size = 0;
    for (let j = i - 1; j >= 0; j--) {
      size += est(g[j]!);
      if (size > CHUNK_SOURCE * 1.5 && j < i - 1) break;
      const c = best[j]! + cut[i]! + 1; // + 1 per chunk: fewer, fuller chunks on ties
      if (c < best[i]!) {
        best[i] = c;
        from[i] = j;
      }
    }
  }
  const out: number[][] = [];
  for (let i = n; i > 0; i = from[i]!) out.unshift(g.slice(from[i]!, i));
  return out;
}

/**
 * Compile a region for `blocks` (live code32 blocks of `frame`). Blocks are grouped into
 * chunks by address; the boundaries of the frame's previous region are kept (a group is
 * split only when it grows past twice the chunk size), so a recompile for new entry points
 * changes few chunks and the rest come back from CodeCache.chunkFns already optimized.
 */
export function compileRegion(cpu: Cpu, frame: number, blocks: readonly number[]): RegionFn {
  const cc = cpu.cache;
  const byStart = new Map<number, number>();
  for (const b of blocks) {
    const st = cc.blkAddr[b]! & 0xfff;
    if (!byStart.has(st)) byStart.set(st, b);
  }
  const starts = [...byStart.keys()].sort((x, y) => x - y);
  const est = (st: number): number => cc.blkCount[byStart.get(st)!]! * 160;
  // the previous grouping: starts in [bounds[i], bounds[i + 1]) form group i
  const bounds = cc.chunkBounds.get(frame) ?? [0];
  const coarse: number[][] = bounds.map(() => []);
  let bi = 0;
  for (const st of starts) {
    while (bi + 1 < bounds.length && st >= bounds[bi + 1]!) bi++;
    coarse[bi]!.push(st);
  }
  // split groups that are too big (all of them the first time) into CHUNK_SOURCE pieces
  const groups: number[][] = [];
  for (const g of coarse) {
    if (g.length === 0) continue;
    let size = 0;
    for (const st of g) size += est(st);
    if (size <= 2 * CHUNK_SOURCE && bounds.length > 1) groups.push(g);
    else for (const piece of splitGroup(cpu, g, byStart, est)) groups.push(piece);
  }
  if (groups.length > 127) groups.length = 127;
  cc.chunkBounds.set(frame, groups.map((g, i) => (i === 0 ? 0 : g[0]!)));
  const chunkOf = new Int8Array(4096).fill(-1);
  const chunks: ChunkFn[] = [];
  groups.forEach((g, ci) => {
    const entries = new Set(g);
    const body = g.map((st) => blockSource(cpu, byStart.get(st)!, entries)).join('\n');
    chunks.push(cc.chunkFn(body, () => compileChunk(body)));
    for (const st of g) chunkOf[st] = ci;
  });
  return makeRegion(chunks, chunkOf);
}
