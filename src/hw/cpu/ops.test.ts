/**
 * exec.ts dispatches on literal op numbers (V8 builds a jump table only for literal cases);
 * every `case N /* NAME *\/` label and every `N /* NAME *\/` comparison there must agree with
 * the Op table, and every op must be handled.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Op, OP_COUNT, OP_NAMES, ENDS_BLOCK } from './ops.ts';

const EXEC = readFileSync(new URL('./exec.ts', import.meta.url), 'utf8');

describe('op numbering', () => {
  it('literal labels in exec.ts match ops.ts', () => {
    const bad: string[] = [];
    const seen = new Set<number>();
    for (const m of EXEC.matchAll(/(\d+) \/\* ([A-Z0-9_]+) \*\//g)) {
      const n = Number(m[1]), name = m[2]!;
      const want = (Op as Record<string, number>)[name];
      if (want !== n) bad.push(`${name}: exec.ts says ${n}, ops.ts ${want}`);
    }
    for (const m of EXEC.matchAll(/case (\d+) \/\*/g)) seen.add(Number(m[1]));
    expect(bad).toEqual([]);
    const missing = [...Array(OP_COUNT).keys()].filter((n) => !seen.has(n)).map((n) => OP_NAMES[n]);
    expect(missing).toEqual([]);
  });

  it('names and numbers are a bijection', () => {
    const values = Object.values(Op);
    expect(new Set(values).size).toBe(values.length);
    expect(values.length).toBe(OP_COUNT);
    expect(Math.max(...values)).toBe(OP_COUNT - 1);
    expect(ENDS_BLOCK.length).toBe(OP_COUNT);
  });
});
