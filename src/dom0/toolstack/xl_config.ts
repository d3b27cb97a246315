/**
 * xl.cfg: the domain configuration file `xl create` reads (docs/man/xl.cfg.5.pod.in).
 * Syntax: `KEY = VALUE` settings separated by newlines or ';', `#` comments, where VALUE
 * is a "string" or 'string', a number, or a [list, of, values]. Later settings of a key
 * replace earlier ones; `KEY=VALUE` arguments after the file on the command line are
 * applied last (xl's "extra config lines"; there an unquoted word is also a string).
 *
 * parseXlConfig gives the raw settings; pvConfig() the typed subset a PV guest uses here,
 * with xl's defaults (memory 128 MiB, maxmem = memory, vcpus 1, on_* actions), and the
 * I/O ports to grant (ioports).
 */

export type XlValue = string | number | XlValue[];

export class XlConfigError extends Error {
  override name = 'XlConfigError';
}

/** Parse xl.cfg text into settings (in file order; a repeated key keeps the last value). */
export function parseXlConfig(text: string, source = 'config'): Map<string, XlValue> {
  const p = new Parser(text, source);
  const out = new Map<string, XlValue>();
  for (;;) {
    p.skipSpace(true);
    if (p.eof()) break;
    const key = p.ident();
    p.skipSpace(false);
    p.expect('=');
    p.skipSpace(false);
    out.set(key, p.value());
    p.skipSpace(false);
    if (!p.eof() && !p.eat(';') && !p.eat('\n')) p.fail('expected a newline or ; after the value');
  }
  return out;
}

/** Apply `key=value` command-line overrides (xl create's trailing arguments). */
export function applyXlOverrides(cfg: Map<string, XlValue>, overrides: readonly string[]): void {
  for (const o of overrides) {
    // A shell-friendly KEY=word (no quotes) is taken as a string, e.g. kernel=build/x.elf.
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^"'[\s;#][^;#]*?)\s*$/.exec(o);
    if (m && !/^(0x[0-9a-fA-F]+|\d+)$/.test(m[2]!)) {
      cfg.set(m[1]!, m[2]!);
      continue;
    }
    for (const [k, v] of parseXlConfig(o, 'command line')) cfg.set(k, v);
  }
}

export type OnAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart' | 'coredump-destroy' | 'coredump-restart' | 'soft-reset';

export interface PvGuestConfig {
  readonly name: string;
  readonly kernel: string;
  readonly memoryMiB: number;
  readonly maxmemMiB: number;
  readonly vcpus: number;
  readonly maxvcpus: number;
  readonly cmdline: string;
  readonly onPoweroff: OnAction;
  readonly onReboot: OnAction;
  readonly onCrash: OnAction;
  /** I/O port ranges granted to the guest (ioports=["IOPORT_FROM[-IOPORT_TO]", ...], hex). */
  readonly ioports: ReadonlyArray<readonly [number, number]>;
  /** Settings this toolstack does not act on (reported, not fatal). */
  readonly ignored: readonly string[];
}

const KNOWN = new Set([
  'name', 'type', 'kernel', 'memory', 'maxmem', 'vcpus', 'maxvcpus', 'cmdline', 'extra', 'root',
  'on_poweroff', 'on_reboot', 'on_crash', 'on_watchdog', 'on_soft_reset', 'ioports',
]);
const ACTIONS = new Set<string>(['destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart', 'soft-reset']);

/** The typed PV-guest view of a parsed config (throws XlConfigError on a bad setting). */
export function pvConfig(cfg: Map<string, XlValue>): PvGuestConfig {
  const str = (k: string, dflt?: string): string => {
    const v = cfg.get(k);
    if (v === undefined) {
      if (dflt === undefined) throw new XlConfigError(`${k} is not set`);
      return dflt;
    }
    if (typeof v !== 'string') throw new XlConfigError(`${k} must be a string`);
    return v;
  };
  const int = (k: string, dflt: number): number => {
    const v = cfg.get(k);
    if (v === undefined) return dflt;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new XlConfigError(`${k} must be a non-negative integer`);
    return n;
  };
  const action = (k: string, dflt: OnAction): OnAction => {
    const a = str(k, dflt);
    if (!ACTIONS.has(a)) throw new XlConfigError(`${k}="${a}" is not an action`);
    return a as OnAction;
  };
  const type = str('type', 'pv');
  if (type !== 'pv') throw new XlConfigError(`type="${type}": only PV guests are supported by this toolstack`);
  const memoryMiB = int('memory', 128);
  if (memoryMiB < 1) throw new XlConfigError('memory must be at least 1 (MiB)');
  const maxmemMiB = int('maxmem', memoryMiB);
  if (maxmemMiB < memoryMiB) throw new XlConfigError('maxmem must not be less than memory');
  const vcpus = int('vcpus', 1);
  if (vcpus < 1) throw new XlConfigError('vcpus must be at least 1');
  const maxvcpus = int('maxvcpus', vcpus);
  if (maxvcpus < vcpus) throw new XlConfigError('maxvcpus must not be less than vcpus');
  let cmdline = cfg.has('cmdline') ? str('cmdline') : '';
  if (!cfg.has('cmdline')) {
    // Legacy keys: root= and extra= are concatenated ("root=X extra").
    const parts: string[] = [];
    if (cfg.has('root')) parts.push(`root=${str('root')}`);
    if (cfg.has('extra')) parts.push(str('extra'));
    cmdline = parts.join(' ');
  }
  const ioports: Array<[number, number]> = [];
  const io = cfg.get('ioports');
  if (io !== undefined) {
    const list = Array.isArray(io) ? io : [io];
    for (const e of list) {
      const m = typeof e === 'string' ? /^\s*([0-9a-fA-F]+)\s*(?:-\s*([0-9a-fA-F]+))?\s*$/.exec(e) : null;
      if (!m) throw new XlConfigError(`ioports: ${JSON.stringify(e)} is not "IOPORT_FROM[-IOPORT_TO]" (hex)`);
      const first = parseInt(m[1]!, 16), last = m[2] !== undefined ? parseInt(m[2], 16) : first;
      if (last < first || last > 0xffff) throw new XlConfigError(`ioports: bad range ${e}`);
      ioports.push([first, last]);
    }
  }
  return {
    name: str('name'),
    kernel: str('kernel'),
    memoryMiB,
    maxmemMiB,
    vcpus,
    maxvcpus,
    cmdline,
    onPoweroff: action('on_poweroff', 'destroy'),
    onReboot: action('on_reboot', 'restart'),
    onCrash: action('on_crash', 'destroy'),
    ioports,
    ignored: [...cfg.keys()].filter((k) => !KNOWN.has(k)),
  };
}

class Parser {
  private _i = 0;
  private _line = 1;

  constructor(private readonly _s: string, private readonly _src: string) {}

  eof(): boolean {
    return this._i >= this._s.length;
  }

  fail(msg: string): never {
    throw new XlConfigError(`${this._src}:${this._line}: ${msg}`);
  }

  /** Skip blanks and comments; with `newlines`, also newlines and ';'. */
  skipSpace(newlines: boolean): void {
    while (!this.eof()) {
      const c = this._s[this._i]!;
      if (c === '#') {
        while (!this.eof() && this._s[this._i] !== '\n') this._i++;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        this._i++;
      } else if (newlines && (c === '\n' || c === ';')) {
        if (c === '\n') this._line++;
        this._i++;
      } else {
        break;
      }
    }
  }

  eat(c: string): boolean {
    if (this._s[this._i] !== c) return false;
    if (c === '\n') this._line++;
    this._i++;
    return true;
  }

  expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected '${c}'`);
  }

  ident(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this._s.slice(this._i));
    if (!m) this.fail('expected a setting name');
    this._i += m[0].length;
    return m[0];
  }

  value(): XlValue {
    const c = this._s[this._i];
    if (c === '"' || c === "'") return this._string(c);
    if (c === '[') return this._list();
    const m = /^(0x[0-9a-fA-F]+|\d+)/.exec(this._s.slice(this._i));
    if (!m) this.fail('expected a string, number or list');
    this._i += m[0].length;
    return Number(m[0]);
  }

  private _string(q: string): string {
    this._i++;
    let out = '';
    for (;;) {
      if (this.eof() || this._s[this._i] === '\n') this.fail('unterminated string');
      const c = this._s[this._i++]!;
      if (c === q) return out;
      if (c === '\\' && !this.eof()) {
        const e = this._s[this._i++]!;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else {
        out += c;
      }
    }
  }

  private _list(): XlValue[] {
    this._i++;
    const out: XlValue[] = [];
    for (;;) {
      this._skipListSpace();
      if (this.eat(']')) return out;
      out.push(this.value());
      this._skipListSpace();
      if (this.eat(']')) return out;
      this.expect(',');
    }
  }

  private _skipListSpace(): void {
    for (;;) {
      this.skipSpace(false);
      if (!this.eat('\n')) return;
    }
  }
}
