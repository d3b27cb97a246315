/**
 * Reading what minios prints (docs/minios.md, "Output"): result lines
 * `OK|FAIL|SKIP <what> key=value...`, the `SUMMARY` line and the final
 * `Test result: ...` line; plus the disk test pattern and CRC-32 the disk commands use,
 * so a test can recompute what the guest reported.
 *
 * Invariant: `what` is the words before the first key=value (or ':'), so the same command
 * gives the same `what` on any Xen; values (timings, MFNs, counts) are only in `fields`.
 */

export interface ResultLine {
  readonly status: 'OK' | 'FAIL' | 'SKIP';
  readonly what: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly line: string;
}

export interface MiniosRun {
  readonly results: readonly ResultLine[];
  readonly verdict: string | null;       // the text after "Test result: "
  readonly summary: Readonly<Record<string, string>> | null;
  readonly lines: readonly string[];
}

/** Strip the dom0 runner's "<epoch> " stamp and a trailing CR. */
export function cleanLine(l: string): string {
  return l.replace(/\r$/, '').replace(/^\d+\.\d+ /, '');
}

/** Split on blanks outside double quotes (values like data="a b" stay one word). */
export function splitWords(text: string): string[] {
  return text.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

function fieldsOf(words: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) out[w.slice(0, eq)] = w.slice(eq + 1).replace(/^"|"$/g, '');
  }
  return out;
}

export function parseResultLine(line: string): ResultLine | null {
  const m = /^(OK|FAIL|SKIP) (.*)$/.exec(line);
  if (!m) return null;
  const words = splitWords(m[2]!); // group 2 always matches
  const what: string[] = [];
  for (const w of words) {
    if (w.includes('=') || w === '=') break;
    if (w.endsWith(':')) {
      what.push(w.slice(0, -1));
      break;
    }
    what.push(w);
  }
  return { status: m[1] as ResultLine['status'], what: what.join(' '), fields: fieldsOf(words), line };
}

export function parseMiniosConsole(text: string): MiniosRun {
  const lines = text.split('\n').map(cleanLine);
  const results: ResultLine[] = [];
  let verdict: string | null = null;
  let summary: Record<string, string> | null = null;
  for (const l of lines) {
    const r = parseResultLine(l);
    if (r) results.push(r);
    const v = /^Test result: (.*)$/.exec(l);
    if (v) verdict = v[1]!; // group 1 always matches
    if (l.startsWith('SUMMARY ')) summary = fieldsOf(splitWords(l).slice(1));
  }
  return { results, verdict, summary, lines };
}

const M32 = 0xffffffff;

function xorshift32(x: number): number {
  x = (x ^ (x << 13)) >>> 0;
  x = (x ^ (x >>> 17)) >>> 0;
  x = (x ^ (x << 5)) >>> 0;
  return x;
}

/** The 512 bytes of sector `sector` in the disk test pattern (cmd_disk.c). */
export function diskPatternSector(seed: number, sector: number): Uint8Array {
  const out = new Uint8Array(512);
  const v = new DataView(out.buffer);
  const s = Math.imul(sector >>> 0, 0x9e3779b1) >>> 0;
  for (let w = 0; w < 128; w++) {
    const x = ((seed ^ s ^ Math.imul(w, 0x85ebca6b)) | 1) >>> 0;
    v.setUint32(w * 4, xorshift32(x), true);
  }
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib), continued from crc. */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = (crc ^ M32) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ M32) >>> 0;
}

/** The crc= a `disk write START COUNT SEED` prints. */
export function diskPatternCrc(start: number, count: number, seed: number): number {
  let c = 0;
  for (let s = start; s < start + count; s++) c = crc32(diskPatternSector(seed, s), c);
  return c;
}
