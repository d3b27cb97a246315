/**
 * Instruction fetch: EIP -> a decoded block (CPU-PERF rules 1-2).
 *
 * getBlock() checks EIP against the CS limit (#GP(0)), translates CS.base + EIP for
 * execution (#PF with the I bit, NX), then looks the machine address up in the CodeCache
 * under the mode word, decoding a new block on a miss. Cached blocks stop at the end of
 * their 4 KiB frame; at entry a block is used only if all its bytes lie within the CS limit
 * (and, for 16-bit code, below IP 0x10000), else the instruction is decoded alone.
 *
 * Single instructions (block 0, uncached) are decoded from a gathered 15-byte buffer when
 * an instruction crosses a page or the CS limit, when code runs from MMIO, and in step mode
 * (TF, interrupt shadow, debug registers). The second page of a crossing instruction is
 * translated only if the decoder asks for its bytes, so #PF reports the right address.
 */
import type { Cpu } from './cpu.ts';
import { CodeCache, MAX_BLOCK_INSNS } from './code_cache.ts';
import { decodeInsn } from './decode.ts';
import { raise } from './fault.ts';
import { ENDS_BLOCK } from './ops.ts';
import { ACC_FETCH, ACC_USER, translate } from './paging.ts';
import { T_MMIO } from './tlb.ts';

const buf = new Uint8Array(16);

/** Highest EIP the code segment allows (16-bit code also wraps at 64 KiB). */
function effLimit(cpu: Cpu): number {
  const l = cpu.segLimit[1]! >>> 0;
  return cpu.code32 ? l : Math.min(l, 0xffff);
}

/** Machine address of linear `lin` for execution, or -1 for a non-RAM (MMIO) page. */
function fetchAddr(cpu: Cpu, lin: number): number {
  const page = lin >>> 12;
  if (page === cpu.fetchPage) return (cpu.fetchXor ^ lin) | 0;
  const e = translate(cpu, lin, ACC_FETCH | (cpu.cpl === 3 ? ACC_USER : 0));
  if ((e & T_MMIO) !== 0) return -1;
  cpu.fetchPage = page;
  cpu.fetchXor = e & ~0xfff;
  return ((e & ~0xfff) ^ lin) | 0;
}

/**
 * Machine address of the instruction at cpu.eip (checks the CS limit, translates for
 * execution; may fault), or -1 when it is not in RAM.
 */
export function fetchMa(cpu: Cpu): number {
  const eip = cpu.eip;
  if ((eip >>> 0) > effLimit(cpu)) raise(cpu, 13, 0);
  return fetchAddr(cpu, (cpu.segBase[1]! + eip) | 0);
}

/** Mode word of the current state for the block cache. */
export function modeWord(cpu: Cpu): number {
  return cpu.code32 ? 1 : 0;
}

/** The block to run at cpu.eip (0 = the scratch single instruction). May fault. */
export function getBlock(cpu: Cpu): number {
  const eip = cpu.eip;
  const lim = effLimit(cpu);
  if ((eip >>> 0) > lim) raise(cpu, 13, 0);
  const lin = (cpu.segBase[1]! + eip) | 0;
  const ma = fetchAddr(cpu, lin);
  if (ma < 0) return decodeSingle(cpu);
  const c = cpu.cache;
  const mode = modeWord(cpu);
  const b = c.lookup(ma, mode);
  if (b !== 0) {
    if (((eip + c.blkBytes[b]! - 1) >>> 0) <= lim) return b;
    return decodeSingle(cpu);
  }
  return decodeBlock(cpu, c, ma, mode, eip, lim);
}

function decodeBlock(cpu: Cpu, c: CodeCache, ma: number, mode: number, eip: number, lim: number): number {
  if (!c.hasRoom(MAX_BLOCK_INSNS)) c.flush();
  const first = c.poolUsed;
  const pageEnd = (ma & ~0xfff) + 0x1000;
  const limEnd = ma + (lim - (eip >>> 0)) + 1;
  const end = Math.min(pageEnd, limEnd);
  const u8 = cpu.memU8;
  const code32 = (mode & 1) !== 0;
  let p = ma, k = first, n = 0;
  while (n < MAX_BLOCK_INSNS) {
    const len = decodeInsn(c, k, u8, p, end, code32);
    if (len < 0) break;
    p += len;
    n++;
    if (ENDS_BLOCK[c.op[k]!] === 1) {
      k++;
      break;
    }
    k++;
  }
  if (n === 0) return decodeSingle(cpu);
  return c.commit(ma, mode, first, n, p - ma);
}

/** Decode the one instruction at cpu.eip into the scratch block (0). May fault. */
export function decodeSingle(cpu: Cpu): number {
  const c = cpu.cache;
  const eip = cpu.eip;
  const lim = effLimit(cpu);
  if ((eip >>> 0) > lim) raise(cpu, 13, 0);
  const code32 = cpu.code32;
  const lin = (cpu.segBase[1]! + eip) | 0;
  const maxBytes = Math.min(15, lim - (eip >>> 0) + 1);
  let n = 0;
  // bytes of the first page
  const first = Math.min(maxBytes, 0x1000 - (lin & 0xfff));
  n = gather(cpu, lin, 0, first);
  let len = decodeInsn(c, 0, buf, 0, n, code32);
  if (len < 0 && n < maxBytes) {
    n += gather(cpu, (lin + n) | 0, n, maxBytes - n);
    len = decodeInsn(c, 0, buf, 0, n, code32);
  }
  if (len < 0) raise(cpu, 13, 0); // runs past the CS limit
  c.blkFirst[0] = 0;
  c.blkCount[0] = 1;
  return 0;
}

/** Copy `count` instruction bytes at linear `lin` (one page) into buf[at..]. */
function gather(cpu: Cpu, lin: number, at: number, count: number): number {
  const e = translate(cpu, lin, ACC_FETCH | (cpu.cpl === 3 ? ACC_USER : 0));
  const ma = (e & ~0xfff) ^ lin;
  if ((e & T_MMIO) !== 0) {
    for (let k = 0; k < count; k++) buf[at + k] = cpu.mmio.read((ma + k) >>> 0, 1);
  } else {
    for (let k = 0; k < count; k++) buf[at + k] = cpu.memU8[ma + k]!;
  }
  return count;
}
