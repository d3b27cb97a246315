/**
 * The shape of tests/pv_refxen/refxen-results.json: per PV test kernel, what it expects
 * (from its pvtest note) and what real Xen did with it (from the refxen serial log). The
 * tsxen-side comparison reads this file and runs the same images.
 */
import type { PvTestInfo } from './pvtest_manifest.ts';
import type { KernelRun } from './serial_log.ts';

export interface RefxenKernelResult {
  readonly file: string;
  readonly expect: PvTestInfo['expect'];
  readonly hostile: boolean;
  readonly cfg: readonly string[];
  readonly summary: string;
  readonly refxen: KernelRun & { readonly matchesExpectation: boolean; readonly runAt: string };
}

export interface RefxenResults {
  readonly description: string;
  readonly xen: { readonly version: string; readonly image: string };
  readonly rerun: string;
  readonly kernels: Record<string, RefxenKernelResult>;
}
