/**
 * When to compile (CPU-PERF rule 13): the interpreter adds every block's instruction count
 * to its frame's heat; a frame that reaches JIT_THRESHOLD instructions in flat-32 mode gets
 * a region (codegen.ts) built from all its live code32 blocks. A region entered at an offset
 * it has no block for returns "not here": the interpreter runs that block, heat builds up
 * again and the frame is recompiled with the new entry, at most MAX_COMPILES times (code
 * that keeps changing stays interpreted). Regions die with their frame's decoded blocks
 * (CodeCache.codeWritten) and with a pool flush.
 */
import type { Cpu } from '../cpu.ts';
import { compileRegion } from './codegen.ts';

export const JIT_THRESHOLD = 20_000;
export const MAX_COMPILES = 8;

/** Compile (or recompile) the region for `frame`; `force` ignores the recompile cap (tests). */
export function compileFrame(cpu: Cpu, frame: number, force: boolean): void {
  const c = cpu.cache;
  c.heat[frame] = 0;
  if (c.compiles[frame]! >= MAX_COMPILES && !force) return;
  const blocks: number[] = [];
  for (let b = c.frameHead[frame]!; b !== -1; b = c.blkNext[b]!) {
    if (c.blkLive[b] === 1 && c.blkMode[b] === 1) blocks.push(b);
  }
  if (blocks.length === 0) return;
  c.regions[frame] = compileRegion(cpu, frame, blocks);
  if (c.compiles[frame]! < 255) c.compiles[frame]!++;
  cpu.jitCompiles++;
}
