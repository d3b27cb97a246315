/**
 * Parser for the serial log of a refxen run (/work/shared/refxen/boot.sh): Xen's console
 * lines ("(XEN) ...") and dom0's (run-tests.sh prints "=== BEGIN name (cfg: ...)",
 * "  con: <epoch> <guest console line>", "  err: <xl stderr>", "RESULT|...", "=== END
 * name") arrive interleaved in time order, each line possibly ending in one or more \r (the serial console doubles them).
 *
 * Invariant: a kernel's window is BEGIN..END; only lines inside it are attributed to it.
 * A window without a "Test result:" console line is a CRASH if Xen logged a crash of a
 * guest domain inside it, else NO-RESULT.
 */

export type Verdict = 'SUCCESS' | 'FAILURE' | 'ERROR' | 'SKIP' | 'CRASH' | 'NO-RESULT';

export interface KernelRun {
  readonly domain: string;
  readonly verdict: Verdict;
  /** The "Test result: ..." line, if the kernel printed one. */
  readonly resultLine: string | null;
  /** Why the domain crashed, from Xen's log, if it did. */
  readonly crash: string | null;
  readonly console: readonly string[];
  readonly xenLog: readonly string[];
  readonly xlErrors: readonly string[];
  readonly totalSeconds: number | null;
}

export interface SerialLog {
  readonly xenVersion: string | null;
  readonly runs: readonly KernelRun[];
}

/* Xen's lines when it crashes a guest: the cause (if it names one), the domain_crash
 * call site, the "crashed on cpu" banner. */
const CRASH_RE = /domain_crash|crashed on cpu/i;
const CAUSE_RE = /^\(XEN\) d[1-9]\d*v\d+ /;

export function parseSerialLog(text: string): SerialLog {
  const lines = text.split('\n').map((l) => l.replace(/\r+$/, ''));
  let xenVersion: string | null = null;
  const runs: KernelRun[] = [];
  let cur: { domain: string; console: string[]; xen: string[]; err: string[]; total: number | null } | null = null;
  for (const line of lines) {
    const v = /Xen version (\d+\.\d+[.\w-]*)/.exec(line);
    if (v && !xenVersion) xenVersion = v[1] ?? null;
    const begin = /^=== BEGIN (\S+)/.exec(line);
    if (begin) {
      cur = { domain: begin[1] ?? '', console: [], xen: [], err: [], total: null };
      continue;
    }
    if (!cur) continue;
    if (line.startsWith(`=== END ${cur.domain}`)) {
      runs.push(finish(cur));
      cur = null;
      continue;
    }
    const con = /^ {2}con: [0-9.]+ ?(.*)$/.exec(line);
    if (con) {
      cur.console.push(con[1] ?? '');
      continue;
    }
    const err = /^ {2}err: (.*)$/.exec(line);
    if (err) {
      cur.err.push(err[1] ?? '');
      continue;
    }
    if (line.startsWith('RESULT|')) {
      const t = /total_s=([0-9.]+)/.exec(line);
      cur.total = t ? Number(t[1]) : null;
      continue;
    }
    const xen = line.indexOf('(XEN) ');
    if (xen >= 0) cur.xen.push(line.slice(xen));
  }
  return { xenVersion, runs };
}

function finish(r: { domain: string; console: string[]; xen: string[]; err: string[]; total: number | null }): KernelRun {
  const result = [...r.console].reverse().find((l) => l.includes('Test result: '));
  const resultLine = result ? result.slice(result.indexOf('Test result: ')) : null;
  const crashed = r.xen.some((l) => CRASH_RE.test(l) && !/Domain 0 /.test(l));
  const crashLine = crashed
    ? r.xen.filter((l) => CRASH_RE.test(l) || CAUSE_RE.test(l)).join(' | ')
    : null;
  let verdict: Verdict;
  if (resultLine) {
    const word = /^Test result: (\w+)/.exec(resultLine)?.[1];
    verdict = word === 'SUCCESS' || word === 'FAILURE' || word === 'ERROR' || word === 'SKIP' ? word : 'NO-RESULT';
  } else {
    verdict = crashLine ? 'CRASH' : 'NO-RESULT';
  }
  return {
    domain: r.domain,
    verdict,
    resultLine,
    crash: crashLine,
    console: r.console,
    xenLog: r.xen,
    xlErrors: r.err,
    totalSeconds: r.total,
  };
}
