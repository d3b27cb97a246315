/**
 * Reading a kernel's COM1 transcript (the format of guests/lib/bare/test.h) and comparing
 * a tsxen run with the QEMU run of the same image.
 *
 * The two must print the same lines, except: a check QEMU fails as a known deviation
 * ("deviation N - what...") must read "ok N - what" on tsxen, and the "checks:" summary
 * (which counts deviations) is not compared. tsxen itself may print no deviation at all.
 */
export interface Transcript {
  readonly lines: readonly string[];
  /** The "Test result: ..." line, or null. */
  readonly result: string | null;
  readonly failed: readonly string[];
  readonly deviations: readonly string[];
}

export function parseTranscript(output: string): Transcript {
  const lines = output.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return {
    lines,
    result: lines.find((l) => l.startsWith('Test result: ')) ?? null,
    failed: lines.filter((l) => l.startsWith('not ok ')),
    deviations: lines.filter((l) => l.startsWith('deviation ')),
  };
}

/** The first differences between the QEMU and the tsxen transcript (empty: they agree). */
export function compareTranscripts(qemu: Transcript, tsxen: Transcript, max = 10): string[] {
  const diffs: string[] = [];
  const q = qemu.lines.filter((l) => !l.startsWith('checks: '));
  const t = tsxen.lines.filter((l) => !l.startsWith('checks: '));
  const n = Math.max(q.length, t.length);
  for (let i = 0; i < n && diffs.length < max; i++) {
    const a = q[i];
    const b = t[i];
    if (a === b) continue;
    if (a !== undefined && b !== undefined) {
      const dev = /^deviation (\d+) - /.exec(a);
      const ok = /^ok (\d+) - (.*)$/.exec(b);
      if (dev && ok && dev[1] === ok[1] && a.startsWith(`deviation ${ok[1]} - ${ok[2]}`)) continue;
    }
    diffs.push(`line ${i + 1}: qemu ${JSON.stringify(a ?? '<end>')} vs tsxen ${JSON.stringify(b ?? '<end>')}`);
  }
  return diffs;
}
