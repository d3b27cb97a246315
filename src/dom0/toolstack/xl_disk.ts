/**
 * xl's disk specification (xl-disk-configuration(5)), parsed the way libxlutil's flex
 * scanner does: the spec is cut into tokens by a table of rules where the longest match
 * wins and, on a tie, the earlier rule; keyword tokens set their parameter, other tokens
 * fill the positional parameters target, format, vdev, access in order.
 *
 *   /dev/vg/guest-volume,,hda           positional, empty format = raw
 *   format=raw, vdev=xvda, access=rw, target=/srv/a.img     keywords (target= eats the rest)
 *   raw:/root/image.iso,hdc:cdrom,ro    deprecated prefixes and vdev:devtype
 *
 * Errors carry xl's wording ("unknown value for format", "no vdev specified", ...) and,
 * like xl, the offending token ("near `X'") and the whole spec ("in `SPEC'").
 *
 * Invariant: the parser never throws on any input string; it returns a DiskSpec or a
 * DiskSpecError (the seeded fuzz test holds it to that).
 */
import { parseVdev } from './xl_values.ts';

export type DiskFormat = 'raw' | 'qcow' | 'qcow2' | 'vhd' | 'qed' | 'empty';
export type DiskBackendType = 'phy' | 'tap' | 'qdisk' | 'standalone';

export interface DiskSpec {
  /** Image path (pdev_path); '' for an empty cdrom drive. */
  readonly target: string;
  readonly format: DiskFormat;
  readonly vdev: string;
  /** The VBD number the guest sees as device/vbd/<devid> (null: vdev not understood). */
  readonly devid: number | null;
  readonly readwrite: boolean;
  readonly cdrom: boolean;
  readonly removable: boolean;
  readonly backend: string | null;
  readonly backendType: DiskBackendType | null;
  readonly script: string | null;
  readonly discard: boolean | null;
  readonly trusted: boolean | null;
  readonly directIoSafe: boolean;
  readonly specification: 'xen' | 'virtio' | null;
}

export class DiskSpecError extends Error {
  override name = 'DiskSpecError';
}

interface State {
  target: string | null;
  format: DiskFormat | null;
  vdev: string | null;
  readwrite: boolean;
  accessSet: boolean;
  cdrom: boolean;
  backend: string | null;
  backendType: DiskBackendType | null;
  script: string | null;
  discard: boolean | null;
  trusted: boolean | null;
  directIoSafe: boolean;
  specification: 'xen' | 'virtio' | null;
  hadDeprPrefix: boolean;
  err: string | null;
  stop: boolean;
}

type Action = (st: State, text: string) => void;

interface Rule {
  /** Matches at the start of the rest; group "tok" (if any) is the token text (yytext). */
  readonly re: RegExp;
  readonly act: Action;
}

const FORMATS: Record<string, DiskFormat> = { '': 'raw', raw: 'raw', qcow: 'qcow', qcow2: 'qcow2', vhd: 'vhd', empty: 'empty', qed: 'qed' };
const BACKENDS: Record<string, DiskBackendType> = { phy: 'phy', tap: 'tap', qdisk: 'qdisk', standalone: 'standalone' };

function err(st: State, near: string | null, message: string): void {
  if (st.err === null) st.err = near !== null ? `${message}: near \`${near}'` : message;
}

function strip(text: string, delim: string): string {
  return text.endsWith(delim) ? text.slice(0, -1) : text;
}

function fromEquals(text: string): string {
  return text.slice(text.indexOf('=') + 1);
}

function saveString(st: State, key: 'target' | 'vdev' | 'backend' | 'script', what: string, value: string): void {
  const cur = st[key];
  if (cur !== null && cur !== '') {
    err(st, value, `${what} respecified`);
    return;
  }
  st[key] = value;
}

function setFormat(st: State, s: string): void {
  const f = FORMATS[s];
  if (f === undefined) {
    err(st, s, 'unknown value for format');
    return;
  }
  if (st.format !== null && st.format !== f) err(st, s, 'format respecified');
  else st.format = f;
}

function setAccess(st: State, s: string): void {
  if (s === 'r' || s === 'ro') st.readwrite = false;
  else if (s === 'rw' || s === 'w' || s === '') st.readwrite = true;
  else err(st, s, 'unknown value for access');
}

/** "<vdev>:<devtype>" as a positional vdev (deprecated); false if there is no colon. */
function vdevAndDevtype(st: State, s: string): boolean {
  const colon = s.lastIndexOf(':');
  if (colon < 0) return false;
  saveString(st, 'vdev', 'vdev', s.slice(0, colon));
  const type = s.slice(colon + 1);
  if (type === 'cdrom') st.cdrom = true;
  else if (type === 'disk') st.cdrom = false;
  else err(st, type, 'unknown deprecated type');
  return true;
}

function positional(st: State, raw: string): void {
  const text = strip(raw, ',');
  if (st.err !== null) return;
  if (st.target === null) {
    saveString(st, 'target', 'target', text);
  } else if (!st.hadDeprPrefix && st.format === null) {
    if (st.target === '' && vdevAndDevtype(st, text)) st.format = 'empty';
    else setFormat(st, text);
  } else if (st.vdev === null) {
    if (!vdevAndDevtype(st, text)) saveString(st, 'vdev', 'vdev', text);
  } else if (!st.accessSet) {
    st.accessSet = true;
    setAccess(st, text);
  } else {
    err(st, text, 'too many positional parameters');
    st.stop = true;
  }
}

/** The scanner's rules, in the order of libxlu_disk_l.l (the order breaks length ties). */
const RULES: readonly Rule[] = [
  // Whitespace before a parameter; its trailing context makes it match to the end.
  { re: /^(?<tok>[ \t\n]+)(?:[^ \t\n][^]*)?$/, act: () => undefined },
  { re: /^(?<tok>format=[^,]*,?)/, act: (st, t) => setFormat(st, fromEquals(strip(t, ','))) },
  { re: /^(?<tok>cdrom,?)/, act: (st) => { st.cdrom = true; } },
  { re: /^(?<tok>devtype=cdrom,?)/, act: (st) => { st.cdrom = true; } },
  { re: /^(?<tok>devtype=disk,?)/, act: (st) => { st.cdrom = false; } },
  { re: /^(?<tok>devtype=[^,]*,?)/, act: (st, t) => err(st, t, 'unknown value for type') },
  { re: /^(?<tok>access=[^,]*,?)/, act: (st, t) => setAccess(st, fromEquals(strip(t, ','))) },
  { re: /^(?<tok>backend=[^,]*,?)/, act: (st, t) => saveString(st, 'backend', 'backend', fromEquals(strip(t, ','))) },
  {
    re: /^(?<tok>backendtype=[^,]*,?)/, act: (st, t) => {
      const v = fromEquals(strip(t, ','));
      const b = BACKENDS[v];
      if (b === undefined) err(st, v, 'unknown value for backendtype');
      else if (st.backendType !== null && st.backendType !== b) err(st, v, 'backend respecified');
      else st.backendType = b;
    },
  },
  {
    re: /^(?<tok>specification=[^,]*,?)/, act: (st, t) => {
      const v = fromEquals(strip(t, ','));
      if (v !== 'xen' && v !== 'virtio') err(st, v, 'unknown value for specification');
      else if (st.specification !== null && st.specification !== v) err(st, v, 'specification respecified');
      else st.specification = v;
    },
  },
  { re: /^(?<tok>vdev=[^,]*,?)/, act: (st, t) => saveString(st, 'vdev', 'vdev', fromEquals(strip(t, ','))) },
  { re: /^(?<tok>script=[^,]*,?)/, act: (st, t) => saveString(st, 'script', 'script', fromEquals(strip(t, ','))) },
  { re: /^(?<tok>direct-io-safe,?)/, act: (st) => { st.directIoSafe = true; } },
  { re: /^(?<tok>discard,?)/, act: (st) => { st.discard = true; } },
  { re: /^(?<tok>no-discard,?)/, act: (st) => { st.discard = false; } },
  { re: /^(?<tok>colo,?)/, act: (st, t) => err(st, t, 'COLO is not supported by tsxen') },
  { re: /^(?<tok>no-colo,?)/, act: () => undefined },
  { re: /^(?<tok>(?:colo-host|colo-port|colo-export|active-disk|hidden-disk)=[^,]*,?)/, act: (st, t) => err(st, t, 'COLO is not supported by tsxen') },
  { re: /^(?<tok>trusted,?)/, act: (st) => { st.trusted = true; } },
  { re: /^(?<tok>untrusted,?)/, act: (st) => { st.trusted = false; } },
  { re: /^(?<tok>grant_usage=1,?)/, act: () => undefined },
  { re: /^(?<tok>grant_usage=0,?)/, act: () => undefined },
  // target= consumes the rest of the spec.
  { re: /^(?<tok>target=[^]*)/, act: (st, t) => saveString(st, 'target', 'target', fromEquals(strip(t, ','))) },
  // Unknown keyword (the scanner takes one character of its value, as libxlutil does).
  { re: /^(?<tok>[a-z][-a-z0-9]*=[^,],?)/, act: (st, t) => err(st, t, 'unknown parameter') },
  // Deprecated prefixes: their trailing context makes them match the whole rest.
  {
    re: /^(?<tok>(?:raw|qcow2?|vhd):)[^]*$/, act: (st, t) => {
      st.hadDeprPrefix = true;
      setFormat(st, strip(t, ':'));
    },
  },
  {
    re: /^(?<tok>(?:iscsi|e?nbd|drbd):)[^]*$/, act: (st, t) => {
      st.hadDeprPrefix = true;
      saveString(st, 'script', 'script', `block-${strip(t, ':')}`);
    },
  },
  { re: /^(?<tok>(?:tapdisk|tap2?|aio|ioemu|file|phy):)[^]*$/, act: (st) => { st.hadDeprPrefix = true; } },
  {
    re: /^(?<tok>[a-z][a-z0-9]*:)(?:[^a-z0-9][^]*)?$/, act: (st, t) => {
      err(st, t, 'unknown deprecated disk prefix');
      st.stop = true;
    },
  },
  // Positional parameters.
  { re: /^(?<tok>[^=,]*,|[^=,]+,?)/, act: positional },
];

/** Parse one spec (or the pieces block-attach gets as separate arguments). */
export function parseDiskSpec(specs: string | readonly string[]): DiskSpec | DiskSpecError {
  const list = typeof specs === 'string' ? [specs] : specs;
  const whole = list.join(' ');
  const st: State = {
    target: null, format: null, vdev: null, readwrite: true, accessSet: false, cdrom: false, backend: null,
    backendType: null, script: null, discard: null, trusted: null, directIoSafe: false, specification: null,
    hadDeprPrefix: false, err: null, stop: false,
  };
  for (const spec of list) {
    let rest = spec;
    while (rest.length > 0 && !st.stop) {
      let best: { rule: Rule; len: number; tok: string } | null = null;
      for (const rule of RULES) {
        const m = rule.re.exec(rest);
        if (!m) continue;
        const len = m[0].length; // includes trailing context, as flex counts it
        if (best === null || len > best.len) best = { rule, len, tok: m.groups?.tok ?? m[0] };
      }
      if (best === null || best.tok.length === 0) {
        // libxlutil's catch-all: "bad disk syntax" with the rest of the spec.
        err(st, rest, 'bad disk syntax');
        st.stop = true;
        break;
      }
      best.rule.act(st, best.tok);
      rest = rest.slice(best.tok.length);
    }
  }
  const fail = (message: string): DiskSpecError =>
    new DiskSpecError(`config parsing error in disk specification: ${message} in \`${whole}'`);
  if (st.err !== null) return fail(st.err);
  let format: DiskFormat = st.format ?? 'raw';
  let readwrite = st.readwrite;
  const removable = st.cdrom;
  if (st.cdrom) {
    readwrite = false;
    if (st.target === null || st.target === '') format = 'empty';
  }
  if (st.vdev === null) return fail('no vdev specified');
  if (st.target === null && !removable) return fail('no target specified (and device not removable)');
  const vd = parseVdev(st.vdev);
  return {
    target: st.target ?? '', format, vdev: st.vdev, devid: vd?.devid ?? null, readwrite, cdrom: st.cdrom, removable,
    backend: st.backend, backendType: st.backendType, script: st.script, discard: st.discard, trusted: st.trusted,
    directIoSafe: st.directIoSafe, specification: st.specification,
  };
}

/** The spec written back in the canonical keyword form (for `list -l` and save files). */
export function formatDiskSpec(d: DiskSpec): string {
  const parts = [`format=${d.format}`, `vdev=${d.vdev}`, `access=${d.readwrite ? 'rw' : 'ro'}`];
  if (d.cdrom) parts.push('devtype=cdrom');
  if (d.backend !== null) parts.push(`backend=${d.backend}`);
  if (d.backendType !== null) parts.push(`backendtype=${d.backendType}`);
  if (d.script !== null) parts.push(`script=${d.script}`);
  if (d.discard === false) parts.push('no-discard');
  if (d.trusted === false) parts.push('untrusted');
  parts.push(`target=${d.target}`);
  return parts.join(',');
}
