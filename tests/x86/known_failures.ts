/**
 * Mismatches between tsxen's CPU and the host CPU that are written up in FINDINGS.md and
 * not fixed yet. A mismatch matching an entry here is reported but does not fail the run;
 * an entry that no longer shows up fails the run too (remove it: the bug is fixed), so this
 * list cannot rot.
 *
 * Invariant: every entry has a FINDINGS.md section with the same id.
 */

import type { SuiteName } from './suites.ts';

export interface KnownFailure {
  /** The FINDINGS.md section id ("F1"). */
  readonly id: string;
  /** Which case labels it covers. */
  readonly label: RegExp;
  /** If given, every differing field must start with one of these. */
  readonly fields?: readonly string[];
  /** Suites that reliably show it with the default seed (for the "fixed?" check). */
  readonly suites: readonly SuiteName[];
}

export const KNOWN_FAILURES: readonly KnownFailure[] = [];
