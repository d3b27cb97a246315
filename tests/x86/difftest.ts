/**
 * The differential run: generate a suite, run it natively and in the emulator, compare,
 * and sort the mismatches into known findings (tests/x86/known_failures.ts, each one written
 * up in FINDINGS.md) and new ones. Used by difftest.test.ts and the replay tool.
 *
 * Invariants:
 *  - Everything is a function of (suite, seed, scale); the replay command printed with a
 *    failure reproduces exactly that case (X86_ONLY=suite:index).
 *  - A case the native oracle could not run cleanly (timeout) is never compared.
 */

import { compareStates, report, type Diff } from './compare.ts';
import { EmuOracle, type EmuOptions } from './emu_oracle.ts';
import { KNOWN_FAILURES, KNOWN_SEED } from './known_failures.ts';
import type { Selectors } from './layout.ts';
import { runNative } from './native_oracle.ts';
import type { FinalState, TestCase } from './protocol.ts';
import { suiteCases, type SuiteName } from './suites.ts';

export interface Mismatch {
  readonly index: number;
  readonly c: TestCase;
  readonly native: FinalState;
  readonly emu: FinalState;
  readonly diffs: Diff[];
  /** The known finding this matches, if any. */
  readonly known?: string;
  readonly text: () => string;
}

export interface DiffRun {
  readonly cases: number;
  readonly compared: number;
  readonly mismatches: Mismatch[];
  readonly nativeMs: number;
  readonly emuMs: number;
  /** Pinned known-failure cases that now pass (fixed? then unpin them). */
  readonly unseenKnown: string[];
}

export function replayCommand(suite: SuiteName, seed: number, scale: number, index: number, paging: boolean): string {
  return `X86_SEED=${seed} X86_CASES=${scale} X86_ONLY=${suite}:${index}${paging ? '' : ' X86_PAGING=0'} npx vitest run tests/x86/difftest.test.ts`;
}

export function classify(suite: SuiteName, seed: number, scale: number, index: number): string | undefined {
  if (seed !== KNOWN_SEED || scale !== 1) return undefined;
  return KNOWN_FAILURES.find((k) => k.cases[suite]?.includes(index))?.id;
}

export function runDiff(suite: SuiteName, seed: number, scale: number, sel: Selectors, opts: EmuOptions, only?: number): DiffRun {
  let cases = suiteCases(suite, seed, sel, scale);
  const indices = only === undefined ? cases.map((_, i) => i) : [only];
  if (only !== undefined) {
    if (!(only >= 0 && only < cases.length)) throw new Error(`X86_ONLY index ${only} outside ${suite} (0..${cases.length - 1})`);
    cases = [cases[only]!];
  }
  let t = performance.now();
  const native = runNative(cases).states;
  const nativeMs = performance.now() - t;
  const emu = new EmuOracle(sel, opts);
  const mismatches: Mismatch[] = [];
  let compared = 0;
  t = performance.now();
  const seen = new Set<string>();
  cases.forEach((c, i) => {
    const n = native[i]!;
    if (n.status === 'timeout') return;
    if (!opts.paging && n.status === 'fault' && n.vector === 14) return; // #PF needs paging on
    let e: FinalState;
    try {
      e = emu.run(c);
    } catch (err) {
      // A thrown Error out of the CPU is a tsxen bug: report it as a mismatch of its own.
      const msg = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
      e = { ...n, status: 'timeout', vector: -1 };
      const diffs: Diff[] = [{ field: 'emulator threw', a: 'no', b: msg.split('\n').slice(0, 6).join(' / ') }];
      mismatches.push(mk(suite, seed, scale, opts, indices[i]!, c, n, e, diffs, undefined));
      compared++;
      return;
    }
    compared++;
    const diffs = compareStates(c, n, e);
    if (diffs.length === 0) return;
    const known = classify(suite, seed, scale, indices[i]!);
    if (known) seen.add(`${known}:${indices[i]!}`);
    mismatches.push(mk(suite, seed, scale, opts, indices[i]!, c, n, e, diffs, known));
  });
  const emuMs = performance.now() - t;
  const unseenKnown = only !== undefined || seed !== KNOWN_SEED || scale !== 1 ? [] : KNOWN_FAILURES.flatMap((k) =>
    (k.cases[suite] ?? []).filter((i) => !seen.has(`${k.id}:${i}`)).map((i) => `${k.id} ${suite}:${i}`));
  return { cases: cases.length, compared, mismatches, nativeMs, emuMs, unseenKnown };
}

function mk(suite: SuiteName, seed: number, scale: number, opts: EmuOptions, index: number, c: TestCase, native: FinalState, emu: FinalState, diffs: Diff[], known: string | undefined): Mismatch {
  return {
    index, c, native, emu, diffs, known,
    text: () => report(c, 'native', native, 'tsxen', emu, diffs, replayCommand(suite, seed, scale, index, opts.paging)),
  };
}
