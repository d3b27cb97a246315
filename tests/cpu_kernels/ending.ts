/** How a kernel run ended, judged against its spec (kernels.ts). */
import { parseTranscript } from './compare.ts';
import type { KernelSpec } from './kernels.ts';
import type { RunResult } from './qemu.ts';

/** How a run ended, against the kernel's spec; '' when it ended right. */
export function endingProblem(k: KernelSpec, r: RunResult): string {
  const t = parseTranscript(r.output);
  if (r.timedOut) return 'timed out';
  if (k.expect === 'shutdown') {
    if (!r.shutdown) return `expected a shutdown, got status ${r.status} (${t.result ?? 'no result line'})`;
    if (t.result) return `expected no result line after the shutdown, got ${t.result}`;
    if (t.lines[t.lines.length - 1] !== k.shutdownMarker) return `last line before shutdown: ${t.lines[t.lines.length - 1]}`;
    return '';
  }
  if (t.result !== 'Test result: SUCCESS') return t.result ?? `no result line (status ${r.status})`;
  if (r.exitValue !== 0) return `exit value ${r.exitValue} (status ${r.status})`;
  if (t.failed.length) return `failed checks: ${t.failed.join('; ')}`;
  return '';
}
