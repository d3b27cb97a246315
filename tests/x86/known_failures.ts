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

export const KNOWN_FAILURES: readonly KnownFailure[] = [];
