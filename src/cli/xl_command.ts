/**
 * The shape of an xl command in tsxen: its name, xl's synopsis/summary/options for the
 * help text, its option spec, and a body that gets the parsed options. The result is a
 * plain Command for the table in commands.ts.
 */
import type { Command } from './command.ts';
import { parseXlOpts, xlUsage, type OptSpec, type ParsedOpts } from './xl_opts.ts';

export interface XlCommandDef {
  readonly name: string;
  readonly synopsis: string;
  /** One line, xl's command description (no final period). */
  readonly summary: string;
  readonly options?: string;
  readonly extra?: string;
  readonly spec: OptSpec;
  run(p: ParsedOpts, cmd: Command): Promise<number>;
}

export function xlCommand(def: XlCommandDef): Command {
  const cmd: Command = {
    name: def.name,
    summary: def.summary,
    usage: xlUsage(def.name, def.synopsis, def.summary, def.options, def.extra),
    run: (args) => def.run(parseXlOpts(cmd, args, def.spec), cmd),
  };
  return cmd;
}

/** The option flag as a boolean. */
export function flag(p: ParsedOpts, c: string): boolean {
  return p.opts.has(c);
}

/** The option's string value, if given. */
export function value(p: ParsedOpts, c: string): string | undefined {
  const v = p.opts.get(c);
  return typeof v === 'string' ? v : undefined;
}
