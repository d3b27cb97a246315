/**
 * The recorded verdicts of the devchan scenarios on the real Xen 4.17 (refxen), written by
 * tests/devchan/refxen/collect.ts into tests/devchan/refxen/refxen-results.json and read by
 * the tsxen runs, which must reach the same verdicts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevchanDomainResult {
  readonly kernel: string;
  readonly role: string;
  readonly expect: string;
  readonly verdict: string;
  readonly resultLine: string | null;
  readonly matches: boolean;
  readonly console: readonly string[];
}

export interface DevchanRefxenResults {
  readonly xen: string;
  readonly image: string;
  readonly date: string;
  /** scenario -> domain name -> result. */
  readonly scenarios: Record<string, Record<string, DevchanDomainResult>>;
}

export const REFXEN_RESULTS_PATH = join(import.meta.dirname, 'refxen', 'refxen-results.json');

export function loadRefxenResults(): DevchanRefxenResults | null {
  if (!existsSync(REFXEN_RESULTS_PATH)) return null;
  return JSON.parse(readFileSync(REFXEN_RESULTS_PATH, 'utf8')) as DevchanRefxenResults;
}
