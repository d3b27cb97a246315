/**
 * xl's option handling (SWITCH_FOREACH_OPT over getopt_long): short options from an
 * optstring ("awF", "d:w:c:" for options with a value), long options mapped to short ones,
 * options and operands in any order (GNU permutation; "--" ends options), -h/--help prints
 * the command's help and exits 0, an unknown option prints "option `x' not supported." and
 * exits 2, too few operands print "'xl CMD' requires at least N argument(s)." and the help,
 * and exit 2.
 *
 * Parsing never exits the process itself: it throws CliExit (status + text) which main.ts
 * prints, so commands stay testable.
 */
import type { Command } from './command.ts';

/** An early, intended end of a command (help, usage error): print `out`/`err`, exit `status`. */
export class CliExit extends Error {
  override name = 'CliExit';
  constructor(readonly status: number, readonly out = '', readonly err = '') {
    super(`exit ${status}`);
  }
}

export interface OptSpec {
  /** getopt optstring without 'h' (xl adds it): letters, ':' after one that takes a value. */
  readonly short: string;
  /** Long option name -> short letter (or a pseudo letter for long-only options). */
  readonly long?: Readonly<Record<string, string>>;
  /** Long-only options that take a value (the others are flags). */
  readonly longWithValue?: readonly string[];
  /** Operands required (xl's num_required_opts). */
  readonly required?: number;
}

export interface ParsedOpts {
  /** Last value of each option given (true for flags). */
  readonly opts: Map<string, string | true>;
  /** Every value of each option, in order (for repeatable ones). */
  readonly all: Map<string, string[]>;
  readonly operands: string[];
}

/** xl's help(cmd) text. */
export function commandHelp(cmd: Command): string {
  return `${cmd.usage}\n`;
}

export function parseXlOpts(cmd: Command, args: readonly string[], spec: OptSpec): ParsedOpts {
  const takes = new Map<string, boolean>();
  for (let i = 0; i < spec.short.length; i++) {
    const c = spec.short[i]!;
    if (c === ':') continue;
    takes.set(c, spec.short[i + 1] === ':');
  }
  const longTakes = new Set(spec.longWithValue ?? []);
  const opts = new Map<string, string | true>();
  const all = new Map<string, string[]>();
  const operands: string[] = [];
  const set = (k: string, v: string | true): void => {
    opts.set(k, v);
    if (typeof v === 'string') all.set(k, [...(all.get(k) ?? []), v]);
  };
  const unsupported = (o: string): never => {
    throw new CliExit(2, '', `option \`${o}' not supported.\n`);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (name === 'help') throw new CliExit(0, commandHelp(cmd));
      const letter = spec.long?.[name];
      if (letter === undefined) unsupported(a);
      const needs = takes.get(letter!) === true || longTakes.has(name);
      if (needs) {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new CliExit(2, '', `option \`${name}' requires an argument.\n`);
        set(letter!, v);
      } else {
        if (eq > 0) throw new CliExit(2, '', `option \`${name}' doesn't allow an argument.\n`);
        set(letter!, true);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c === 'h') throw new CliExit(0, commandHelp(cmd));
        const t = takes.get(c);
        if (t === undefined) unsupported(c);
        if (t) {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) throw new CliExit(2, '', `option \`${c}' requires an argument.\n`);
          set(c, v);
          break;
        }
        set(c, true);
      }
      continue;
    }
    operands.push(a);
  }
  const req = spec.required ?? 0;
  if (operands.length < req) {
    throw new CliExit(2, commandHelp(cmd), `'xl ${cmd.name}' requires at least ${req} argument${req > 1 ? 's' : ''}.\n\n`);
  }
  return { opts, all, operands };
}

/** xl's help layout: "Usage: xl [-v] CMD USAGE\n\nSUMMARY.\n\nOptions:\n\nOPTIONS". */
export function xlUsage(name: string, synopsis: string, summary: string, options = '', extra = ''): string {
  const lines = [`Usage: xl [-v] ${name} ${synopsis}`.trimEnd(), '', `${summary}.`];
  if (options) lines.push('', 'Options:', '', options);
  if (extra) lines.push('', extra);
  return lines.join('\n');
}
