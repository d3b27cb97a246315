/**
 * The xl.cfg file syntax (libxlutil's config reader, xl.cfg(5) "Syntax"): settings
 * `KEY = VALUE` separated by newlines or ';', `#` comments to the end of the line, and
 * `KEY += VALUE` to append to an earlier string or list. A VALUE is
 *   - a "string" or 'string' (C escapes \n \t \\ \" \' \xHH and octal \NNN),
 *   - a number (xl keeps numbers as text and converts where a number is wanted, so
 *     `memory = "64"` and `memory = 64` are the same; 0x.. is hex),
 *   - or a [list, of, values] (newlines allowed inside, trailing comma allowed, nested lists
 *     for keys such as vnuma).
 *
 * Invariants: every setting remembers the source and line it came from (the last
 * assignment wins, as in xl), so every later error can name file, line and key; a syntax
 * error throws XlConfigError naming the file, the line and what was found instead.
 *
 * `KEY=VALUE` arguments after the file on xl's command line are extra config lines
 * (applyXlOverrides); tsxen also takes a shell-friendly bare word there (kernel=a/b.elf).
 */

export type XlValue = string | number | XlValue[];

export class XlConfigError extends Error {
  override name = 'XlConfigError';
}

/** Where a setting was made. */
export interface XlWhere {
  readonly source: string;
  readonly line: number;
}

/**
 * Parsed settings in file order. A Map (key -> value) that also knows where each key was
 * last set; `set` from code (tests, overrides) records the given or a default place.
 */
export class XlSettings extends Map<string, XlValue> {
  private readonly _where = new Map<string, XlWhere>();

  constructor(readonly source = 'config', entries?: Iterable<readonly [string, XlValue]>) {
    super();
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  override set(key: string, value: XlValue, where?: XlWhere): this {
    super.set(key, value);
    // Map's constructor calls set before our fields exist.
    this._where?.set(key, where ?? this._where.get(key) ?? { source: this.source, line: 0 });
    return this;
  }

  override delete(key: string): boolean {
    this._where.delete(key);
    return super.delete(key);
  }

  /** Where `key` was last set (line 0: not from a file line). */
  where(key: string): XlWhere {
    return this._where.get(key) ?? { source: this.source, line: 0 };
  }

  /** "file:line" of a key (just "file" when it has no line), for messages. */
  at(key: string): string {
    const w = this.where(key);
    return w.line > 0 ? `${w.source}:${w.line}` : w.source;
  }
}

/** Build the error every config problem turns into: `file:line: key: message`. */
export function settingError(cfg: XlSettings | Map<string, XlValue>, key: string, message: string): XlConfigError {
  const at = cfg instanceof XlSettings ? cfg.at(key) : 'config';
  return new XlConfigError(`${at}: ${key}: ${message}`);
}

/** Parse xl.cfg text into settings (a repeated key keeps its last value; `+=` appends). */
export function parseXlConfig(text: string, source = 'config'): XlSettings {
  const out = new XlSettings(source);
  const p = new Parser(text, source);
  for (;;) {
    p.skipSpace(true);
    if (p.eof()) break;
    const line = p.line;
    const key = p.ident();
    p.key = key;
    p.skipSpace(false);
    const append = p.eat('+');
    p.expect('=');
    p.skipSpace(false);
    const value = p.value();
    const where = { source, line };
    if (append) {
      const prev = out.get(key);
      if (prev === undefined) out.set(key, value, where);
      else if (Array.isArray(prev)) out.set(key, [...prev, ...(Array.isArray(value) ? value : [value])], where);
      else if (typeof prev === 'string' && typeof value === 'string') out.set(key, prev + value, where);
      else p.failAt(line, `${key}: += needs a string or a list on both sides`);
    } else {
      out.set(key, value, where);
    }
    p.skipSpace(false);
    if (!p.eof() && !p.eat(';') && !p.eat('\n')) p.fail('expected a newline or ; after the value');
    p.key = null;
  }
  return out;
}

/** Apply `key=value` command-line settings (xl create's extra config lines), in order. */
export function applyXlOverrides(cfg: Map<string, XlValue>, overrides: readonly string[]): void {
  for (const o of overrides) {
    const where = { source: 'command line', line: 0 };
    const set = (k: string, v: XlValue): void => {
      if (cfg instanceof XlSettings) cfg.set(k, v, where);
      else cfg.set(k, v);
    };
    // A shell-friendly KEY=word (no quotes) is taken as a string, e.g. kernel=build/x.elf.
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^"'[\s;#][^;#]*?)\s*$/.exec(o);
    if (m && !/^(0x[0-9a-fA-F]+|\d+)$/.test(m[2]!)) {
      set(m[1]!, m[2]!);
      continue;
    }
    for (const [k, v] of parseXlConfig(o, 'command line')) set(k, v);
  }
}

class Parser {
  private _i = 0;
  line = 1;
  /** The setting being parsed (named in errors), or null between settings. */
  key: string | null = null;

  constructor(private readonly _s: string, private readonly _src: string) {}

  eof(): boolean {
    return this._i >= this._s.length;
  }

  /** A syntax error at the current line, naming what was found (xl: "near `X'"). */
  fail(msg: string): never {
    const near = this._near();
    const key = this.key !== null ? `${this.key}: ` : '';
    throw new XlConfigError(`${this._src}:${this.line}: ${key}config parsing error${near}: ${msg}`);
  }

  failAt(line: number, msg: string): never {
    throw new XlConfigError(`${this._src}:${line}: ${msg}`);
  }

  private _near(): string {
    if (this.eof()) return ' at end of file';
    if (this._s[this._i] === '\n' || this._s[this._i] === '\r') return ' at end of line';
    const m = /^[^\s;#,\]]{1,20}|^./.exec(this._s.slice(this._i, this._i + 20));
    return ` near \`${m ? m[0] : ''}'`;
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
        if (c === '\n') this.line++;
        this._i++;
      } else {
        break;
      }
    }
  }

  eat(c: string): boolean {
    if (this._s[this._i] !== c) return false;
    if (c === '\n') this.line++;
    this._i++;
    return true;
  }

  expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected '${c}'`);
  }

  ident(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this._s.slice(this._i, this._i + 256));
    if (!m) this.fail('expected a setting name');
    this._i += m[0].length;
    return m[0];
  }

  value(): XlValue {
    const c = this._s[this._i];
    if (c === '"' || c === "'") return this._string(c);
    if (c === '[') return this._list();
    // xl's NUMBER token: a digit followed by letters, digits, '.', '_' (kept as text, converted on use).
    const m = /^[0-9][0-9A-Za-z_.]*/.exec(this._s.slice(this._i, this._i + 64));
    if (!m) this.fail('expected a string, number or list');
    this._i += m[0].length;
    const t = m[0];
    if (/^(0x[0-9a-fA-F]+|[1-9][0-9]*|0)$/.test(t)) return Number(t);
    return t; // e.g. 08, 1.5, 12k: a string that numeric keys reject with their own message
  }

  private _string(q: string): string {
    this._i++;
    let out = '';
    for (;;) {
      if (this.eof() || this._s[this._i] === '\n') this.fail('unterminated string');
      const c = this._s[this._i++]!;
      if (c === q) return out;
      if (c !== '\\' || this.eof()) {
        out += c;
        continue;
      }
      const e = this._s[this._i++]!;
      if (e === 'n') out += '\n';
      else if (e === 't') out += '\t';
      else if (e === 'r') out += '\r';
      else if (e === 'x' && /^[0-9a-fA-F]{2}/.test(this._s.slice(this._i, this._i + 2))) {
        out += String.fromCharCode(parseInt(this._s.slice(this._i, this._i + 2), 16));
        this._i += 2;
      } else if (/[0-7]/.test(e)) {
        const m = /^[0-7]{0,2}/.exec(this._s.slice(this._i, this._i + 2))![0];
        out += String.fromCharCode(parseInt(e + m, 8) & 0xff);
        this._i += m.length;
      } else {
        out += e;
      }
    }
  }

  private _list(): XlValue[] {
    this._i++;
    const out: XlValue[] = [];
    const startLine = this.line;
    for (;;) {
      this._skipListSpace(startLine);
      if (this.eat(']')) return out;
      out.push(this.value());
      this._skipListSpace(startLine);
      if (this.eat(']')) return out;
      this.expect(',');
    }
  }

  private _skipListSpace(startLine: number): void {
    for (;;) {
      this.skipSpace(false);
      if (this.eof()) {
        this.line = startLine;
        this.fail('unterminated list (missing \']\')');
      }
      if (!this.eat('\n')) return;
    }
  }
}
