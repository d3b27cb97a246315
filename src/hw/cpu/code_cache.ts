/**
 * The decoded-block cache (CPU-PERF rules 1-3), machine-wide: one per MachineMemory, shared
 * by every Cpu on it.
 *
 * A block is a run of decoded instructions starting at a machine address, decoded under a
 * mode word (bit 0: 32-bit code segment). It lies inside one 4 KiB frame, holds at most
 * MAX_BLOCK_INSNS instructions and ends at the first instruction that transfers control or
 * changes the state decoding depends on. Decoded instructions are stored in structure-of-
 * arrays pools (`op`, `len`, `m`, `disp`, `imm`, `imm2`), blocks as index ranges into them.
 * Nothing decoded depends on the linear address, CS base or EIP, so one block serves every
 * mapping of its frame.
 *
 * Lookup: a direct-mapped hash on (maddr, mode) -> block id; a collision just replaces the
 * older block in the table (it stays on its frame list until invalidated or flushed).
 *
 * Coherence (rule 3): decoding a block sets its 128-byte lines in MachineMemory.codeLines.
 * A write to such a line (CPU store through a CODE-flagged TLB entry, or a host write via
 * MachineMemory) calls codeWritten(), which kills every block of that frame overlapping the
 * written lines and recomputes the frame's line mask. A killed block's remaining `op`s are
 * overwritten with OP_STOP so that, if it is the block being executed, execution leaves it
 * right after the writing instruction (the pool is only reused after a full flush, which
 * happens only between blocks). When a frame gets its first code, every attached TLB flags
 * its entries for that frame CODE so stores take the slow path.
 *
 * Block 0 and pool slots [0, SCRATCH_INSNS) are scratch: single instructions decoded
 * uncached (page-crossing instructions, single-step, code near a segment limit).
 */
import type { MachineMemory } from '../memory/machine_memory.ts';
import type { Tlb } from './tlb.ts';

/**
 * A compiled region (jit/codegen.ts): runs flat-32 code of one frame entered at page offset
 * `off` with Cpu.eip pointing there. Returns 1 if `off` is not one of its entry points (no
 * progress), else 0 after leaving with Cpu.eip and Cpu.instructions updated.
 */
export type RegionFn = (cpu: import('./cpu.ts').Cpu, off: number) => number;

/** One compiled chunk of a region (jit/codegen.ts): entered at page offset `pc`. */
export type ChunkFn = (cpu: import('./cpu.ts').Cpu, pc: number, eipBase: number) => number;

/** Chunk functions kept for reuse (CodeCache.chunkFns) before the map starts over. */
const MAX_CHUNK_FNS = 4096;

export const MAX_BLOCK_INSNS = 32;
export const SCRATCH_INSNS = 4;
const POOL = 1 << 18;
const MAX_BLOCKS = 1 << 16;
const HASH_BITS = 15;
const HASH_MASK = (1 << HASH_BITS) - 1;

export class CodeCache {
  // instruction pool
  readonly op = new Uint16Array(POOL);
  readonly len = new Uint8Array(POOL);
  readonly m = new Int32Array(POOL);
  readonly disp = new Int32Array(POOL);
  readonly imm = new Int32Array(POOL);
  readonly imm2 = new Int32Array(POOL);
  poolUsed = SCRATCH_INSNS;
  // blocks
  readonly blkFirst = new Int32Array(MAX_BLOCKS);
  readonly blkCount = new Int32Array(MAX_BLOCKS);
  readonly blkBytes = new Int32Array(MAX_BLOCKS);
  readonly blkAddr = new Int32Array(MAX_BLOCKS);
  readonly blkMode = new Int32Array(MAX_BLOCKS);
  /** Next block on the same frame's list, or -1. */
  readonly blkNext = new Int32Array(MAX_BLOCKS);
  readonly blkLive = new Uint8Array(MAX_BLOCKS);
  blocksUsed = 1;
  /** Hash slot -> block id, or 0 (block 0 is scratch, never hashed). */
  readonly hash = new Int32Array(1 << HASH_BITS);
  /** Frame -> first block on it, or -1. */
  readonly frameHead: Int32Array;
  private readonly _tlbs: Tlb[] = [];
  /**
   * JIT regions (jit/jit.ts): per frame, the compiled function for that frame's flat-32
   * blocks, or undefined. Dropped with the frame's blocks (codeWritten) and on flush.
   */
  readonly regions: Array<RegionFn | undefined>;
  /** Per frame: instructions the interpreter ran there since the last compile. */
  readonly heat: Int32Array;
  /** Per frame: how often a region was compiled for it (recompiles are capped). */
  readonly compiles: Uint8Array;
  /**
   * JIT chunk functions by source text. A chunk's source is a function of decoded fields
   * and page offsets only, so equal text means equal behaviour: a recompiled region (new
   * entry points, SMC elsewhere in the frame) reuses the functions V8 has already warmed
   * up and optimized instead of starting them over. Cleared on flush, because sources name
   * pool slots (H.interp) and a flush reuses the pool.
   */
  readonly chunkFns = new Map<string, ChunkFn>();
  /**
   * JIT: per frame, the page offsets where the chunks of its last region began, so that a
   * recompile keeps the old grouping and only chunks that got new blocks change.
   */
  readonly chunkBounds = new Map<number, number[]>();
  /** Regions dropped because their code was written (statistics). */
  regionsDropped = 0;
  /** Statistics: blocks decoded, invalidated, full flushes. */
  decoded = 0;
  invalidated = 0;
  flushes = 0;

  constructor(readonly mem: MachineMemory) {
    this.frameHead = new Int32Array(mem.frames).fill(-1);
    this.regions = new Array<RegionFn | undefined>(mem.frames).fill(undefined);
    this.heat = new Int32Array(mem.frames);
    this.compiles = new Uint8Array(mem.frames);
    this.blkFirst[0] = 0;
    mem.addCodeListener(this);
  }

  /** One cache per machine memory. */
  static for(mem: MachineMemory): CodeCache {
    let c = CACHES.get(mem);
    if (!c) {
      c = new CodeCache(mem);
      CACHES.set(mem, c);
    }
    return c;
  }

  attachTlb(t: Tlb): void {
    if (!this._tlbs.includes(t)) this._tlbs.push(t);
  }

  static slot(addr: number, mode: number): number {
    return ((addr >>> 0) ^ (addr >>> HASH_BITS) ^ (mode << 9)) & HASH_MASK;
  }

  /** The live block for (addr, mode), or 0. */
  lookup(addr: number, mode: number): number {
    const b = this.hash[CodeCache.slot(addr, mode)]!;
    return b !== 0 && this.blkAddr[b] === addr && this.blkMode[b] === mode ? b : 0;
  }

  /** True if a block of `n` more instructions can be allocated without a flush. */
  hasRoom(n: number): boolean {
    return this.poolUsed + n <= POOL && this.blocksUsed < MAX_BLOCKS;
  }

  /** Drop every block (pool exhausted). Only called between blocks. */
  flush(): void {
    this.hash.fill(0);
    this.frameHead.fill(-1);
    this.blkLive.fill(0, 0, this.blocksUsed);
    this.mem.codeLines.fill(0);
    this.poolUsed = SCRATCH_INSNS;
    this.blocksUsed = 1;
    this.flushes++;
    this.regions.fill(undefined);
    this.heat.fill(0);
    this.chunkFns.clear();
    this.chunkBounds.clear();
  }

  /** The cached chunk function for `src`, or one made by `make` (and cached). */
  chunkFn(src: string, make: () => ChunkFn): ChunkFn {
    let f = this.chunkFns.get(src);
    if (f === undefined) {
      if (this.chunkFns.size >= MAX_CHUNK_FNS) this.chunkFns.clear();
      f = make();
      this.chunkFns.set(src, f);
    }
    return f;
  }

  /**
   * Register a block whose instructions were decoded into pool [first, first + count):
   * `bytes` bytes at machine address `addr` under `mode`. Returns the block id.
   */
  commit(addr: number, mode: number, first: number, count: number, bytes: number): number {
    const b = this.blocksUsed++;
    this.blkFirst[b] = first;
    this.blkCount[b] = count;
    this.blkBytes[b] = bytes;
    this.blkAddr[b] = addr;
    this.blkMode[b] = mode;
    this.blkLive[b] = 1;
    this.poolUsed = first + count;
    const frame = addr >>> 12;
    this.blkNext[b] = this.frameHead[frame]!;
    this.frameHead[frame] = b;
    this.hash[CodeCache.slot(addr, mode)] = b;
    const lines = lineMask(addr, bytes);
    const before = this.mem.codeLines[frame]!;
    this.mem.codeLines[frame] = before | lines;
    if (before === 0) for (const t of this._tlbs) t.markCodeFrame(frame);
    this.decoded++;
    return b;
  }

  /** MachineMemory listener: lines `lines` of `frame` were written. */
  codeWritten(frame: number, lines: number): void {
    let prev = -1;
    let b = this.frameHead[frame]!;
    let keep = 0;
    while (b !== -1) {
      const next = this.blkNext[b]!;
      const bl = lineMask(this.blkAddr[b]!, this.blkBytes[b]!);
      if ((bl & lines) !== 0) {
        this._kill(b);
        if (prev === -1) this.frameHead[frame] = next;
        else this.blkNext[prev] = next;
      } else {
        keep |= bl;
        prev = b;
      }
      b = next;
    }
    this.mem.codeLines[frame] = keep;
    if (this.regions[frame] !== undefined) {
      this.regions[frame] = undefined;
      this.heat[frame] = 0;
      this.regionsDropped++;
    }
  }

  private _kill(b: number): void {
    this.blkLive[b] = 0;
    const s = CodeCache.slot(this.blkAddr[b]!, this.blkMode[b]!);
    if (this.hash[s] === b) this.hash[s] = 0;
    // Leave the running block (if it is this one) right after the current instruction.
    this.op.fill(OP_STOP, this.blkFirst[b]!, this.blkFirst[b]! + this.blkCount[b]!);
    this.invalidated++;
  }
}

/** The op id that leaves a block with EIP at the instruction (exec.ts Op.STOP). */
export const OP_STOP = 1;

const CACHES = new WeakMap<MachineMemory, CodeCache>();

/** Mask of the 128-byte lines of a frame covered by [addr, addr + bytes) (bytes >= 1). */
export function lineMask(addr: number, bytes: number): number {
  const lo = (addr & 0xfff) >>> 7;
  const hi = (((addr & 0xfff) + Math.max(bytes, 1) - 1) & 0xfff) >>> 7;
  return ((2 << hi) - 1) & ~((1 << lo) - 1);
}
