/**
 * The small value grammars xl shares between its config file and its commands:
 * memory sizes (`mem-set`: 512, 512m, 1g, 65536k, 4096b), CPU sets (`cpus=`,
 * `vcpu-pin`: all, 3, 0-3, 0-7,^5, nodes:0), virtual disk names (xen-vbd-interface(7):
 * xvda, xvdb2, sdb3, hdc, d0p1, or a raw number) and MAC addresses.
 *
 * Each parser returns a value or null (the caller words the error, naming its key or
 * argument); none of them throws.
 */

/**
 * xl's parse_mem_size_kb: a decimal number with an optional unit b/k/m/g/t (default m),
 * in KiB; null if malformed. Bytes are rounded down to whole KiB, as xl does.
 */
export function parseMemSizeKb(text: string): number | null {
  const m = /^\s*(\d+)([bBkKmMgGtT]?)$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  switch ((m[2] ?? '').toLowerCase()) {
    case 't': return n * 1024 * 1024 * 1024;
    case 'g': return n * 1024 * 1024;
    case '': case 'm': return n * 1024;
    case 'k': return n;
    case 'b': return Math.floor(n / 1024);
    default: return null;
  }
}

/**
 * xl's parse_cpurange over `nrCpus` CPUs: comma-separated terms "all", "N", "N-M", each
 * optionally prefixed "^" (remove) or "node:"/"nodes:" (one NUMA node: all CPUs here).
 * Returns the CPU bitmap or an error message naming the bad term (xl's wording).
 */
export function parseCpuRange(text: string, nrCpus: number): number[] | string {
  const set = new Set<number>();
  for (let term of text.split(',')) {
    if (term === '') continue;
    let not = false, nodes = false;
    if (term.startsWith('^')) { not = true; term = term.slice(1); }
    if (term.startsWith('nodes:')) { nodes = true; term = term.slice(6); }
    else if (term.startsWith('node:')) { nodes = true; term = term.slice(5); }
    if (term === 'all') {
      if (not) return 'Can\'t combine "^" and "all".';
      for (let c = 0; c < nrCpus; c++) set.add(c);
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(term);
    if (!m) return `Invalid pcpu range: ${term}.`;
    const a = Number(m[1]), b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) return `Invalid pcpu range: ${term}.`;
    if (nodes) {
      // One NUMA node holding every CPU: node 0 is all of them, other nodes are empty.
      if (a > 0) return `Invalid node range: ${term} (the host has one NUMA node, 0).`;
      for (let c = 0; c < nrCpus; c++) {
        if (not) set.delete(c);
        else set.add(c);
      }
      continue;
    }
    for (let c = a; c <= b; c++) {
      if (not) set.delete(c);
      else set.add(c);
    }
  }
  return [...set].sort((x, y) => x - y);
}

/** xl's print_bitmap: "all", "none", or ranges like "0-3,5" over nrCpus bits. */
export function formatCpuSet(cpus: readonly number[] | ReadonlySet<number>, nrCpus: number): string {
  const has = new Set(cpus);
  let all = true, any = false;
  for (let c = 0; c < nrCpus; c++) {
    if (has.has(c)) any = true;
    else all = false;
  }
  if (!any) return 'none';
  if (all) return 'all';
  const parts: string[] = [];
  for (let c = 0; c < nrCpus; c++) {
    if (!has.has(c)) continue;
    let e = c;
    while (e + 1 < nrCpus && has.has(e + 1)) e++;
    parts.push(e > c ? `${c}-${e}` : `${c}`);
    c = e;
  }
  return parts.join(',');
}

/** xvd disk letters: bijective base 26 (a=0, z=25, aa=26, ..., tq=536). */
function diskFromLetters(s: string): number {
  let n = 0;
  for (const ch of s) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

export interface Vdev {
  /** The xenstore `virtual-device` number (the vbd's devid). */
  readonly devid: number;
  readonly disk: number;
  readonly partition: number;
}

/**
 * A virtual disk name to its VBD number (xen-vbd-interface(7)): xvd<letters>[part],
 * d<disk>[p<part>], sd<letter>[part], hd<letter>[part], or a plain number (decimal, 0x
 * hex or 0 octal) written as is. Null if the name is not one of these.
 */
export function parseVdev(name: string): Vdev | null {
  let m = /^xvd([a-z]+)(\d*)$/.exec(name) ?? null;
  let disk: number, part: number;
  if (m) {
    disk = diskFromLetters(m[1]!);
    part = m[2] ? Number(m[2]) : 0;
    return xvdNumber(disk, part);
  }
  m = /^d(\d+)(?:p(\d+))?$/.exec(name);
  if (m) return xvdNumber(Number(m[1]), m[2] !== undefined ? Number(m[2]) : 0);
  m = /^sd([a-z])(\d*)$/.exec(name);
  if (m) {
    disk = diskFromLetters(m[1]!);
    part = m[2] ? Number(m[2]) : 0;
    if (disk > 15 || part > 15) return null;
    return { devid: (8 << 8) | (disk << 4) | part, disk, partition: part };
  }
  m = /^hd([a-z])(\d*)$/.exec(name);
  if (m) {
    disk = diskFromLetters(m[1]!);
    part = m[2] ? Number(m[2]) : 0;
    if (disk > 3 || part > 63) return null;
    const devid = disk < 2 ? (3 << 8) | (disk << 6) | part : (22 << 8) | ((disk - 2) << 6) | part;
    return { devid, disk, partition: part };
  }
  m = /^(0x[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(name);
  if (m) {
    const t = m[1]!;
    const devid = t.startsWith('0x') ? parseInt(t, 16) : t.length > 1 && t.startsWith('0') ? parseInt(t, 8) : Number(t);
    if (devid > 0x7fffffff) return null;
    return { devid, disk: 0, partition: 0 };
  }
  return null;
}

function xvdNumber(disk: number, part: number): Vdev | null {
  if (disk < 16 && part < 16) return { devid: (202 << 8) | (disk << 4) | part, disk, partition: part };
  if (disk < 1 << 20 && part < 256) return { devid: (1 << 28) | (disk << 8) | part, disk, partition: part };
  return null;
}

/** xl's mac= parsing: six hex groups separated by ':' (each <= 0xff); bytes or null. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(':');
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = parseInt(p, 16);
  }
  return out;
}

export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
