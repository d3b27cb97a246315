/**
 * Mismatches between tsxen's CPU and the host CPU that are written up in FINDINGS.md and
 * not fixed yet. They are pinned to exact cases of the default run (seed 0x5eed0001, scale
 * 1): such a case still runs and is still reported, but does not fail the suite. A pinned
 * case that stops mismatching fails the suite (the bug is fixed: remove it here and move
 * the FINDINGS entry to "Fixed"), so this list cannot rot. Runs with another seed or scale
 * pin nothing: every mismatch there is new.
 *
 * Changing the form table or a generator renumbers cases: re-pin from the run's report files
 * (build/x86/difftest-<suite>.txt lists every mismatch with its index).
 *
 * Invariant: every id has a FINDINGS.md section of the same name.
 */

import type { SuiteName } from './suites.ts';

export const KNOWN_SEED = 0x5eed_0001;

export interface KnownFailure {
  /** The FINDINGS.md section id ("F1"). */
  readonly id: string;
  /** Cases of the default run that show it. */
  readonly cases: Readonly<Partial<Record<SuiteName, readonly number[]>>>;
}

export const KNOWN_FAILURES: readonly KnownFailure[] = [
  { id: 'F1', cases: { forms: [10128, 10129] } },
  { id: 'F2', cases: { forms: [10127] } },
  { id: 'F3', cases: { forms: [10578] } },
  { id: 'F4', cases: { forms: [11441] } },
  {
    id: 'F5',
    cases: {
      forms: [11567, 11569, 11570, 11573, 11574, 11576, 11579, 11581],
      seq: [69, 117, 164, 196, 262, 283, 296, 513, 626, 978, 985, 1069, 1272, 1274, 1441, 1494],
    },
  },
  { id: 'F6', cases: { forms: [11626], seq: [193, 1168, 1428, 1461] } },
  { id: 'F7', cases: { seq: [454] } },
];
