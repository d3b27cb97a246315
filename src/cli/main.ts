/**
 * The tsxen command line (also installed as `xl`). Parses the global options, dispatches
 * to a command from the table, and turns the two kinds of early exit into output and an
 * exit status: CliExit (xl's help and usage errors, API errors carrying xl's message) and
 * UsageError (tsxen's own commands). Any other error is a bug and keeps its stack trace.
 *
 * xl's global options are accepted: -v (verbose, repeatable), -N (dry run: `create` prints
 * the config it would create; every other command refuses it, as xl does for those without one),
 * -f (force), -t (timestamps; ignored) and -T.
 */
import { basename } from 'node:path';
import { COMMANDS, TSXEN_COMMANDS, XL_COMMANDS } from './commands.ts';
import { UsageError, type Command } from './command.ts';
import { CliExit } from './xl_opts.ts';
import { packageVersion } from './version.ts';

function listing(cmds: readonly Command[]): string[] {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return cmds.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
}

function helpText(prog: string): string {
  return [
    `usage: ${prog} <command> [options]`,
    '',
    'tsxen runs the Xen virtualization architecture in TypeScript on an emulated IA-32 machine.',
    'The xl commands talk to the host daemon (started by `tsxen host start`, or by create and',
    'restore when none runs); each takes --help.',
    '',
    'tsxen commands:',
    ...listing(TSXEN_COMMANDS),
    '',
    'xl commands:',
    ...listing(XL_COMMANDS),
    '',
    'Options:',
    `  -h, --help     show this help, or a command's with \`${prog} <command> --help\``,
    '  -V, --version  print the version',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], prog = basename(process.argv[1] ?? 'tsxen').replace(/\.m?js$/, '')): Promise<number> {
  const name = prog === 'xl' ? 'xl' : 'tsxen';
  let args = [...argv];
  // xl's global options before the subcommand.
  let dryRun = false;
  while (args[0] !== undefined && /^-[vNftT]+$/.test(args[0])) {
    if (args[0].includes('N')) dryRun = true;
    args = args.slice(1);
  }
  const [first, ...rest] = args;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const cmd = topic ? COMMANDS.find((c) => c.name === topic) : undefined;
    if (topic !== undefined && cmd === undefined) {
      process.stdout.write(`command "${topic}" not implemented\n`);
      return 1;
    }
    process.stdout.write(cmd ? `${cmd.usage}\n` : helpText(name));
    return first === undefined ? 1 : 0;
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(`tsxen ${packageVersion()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    process.stderr.write(`${name}: unknown command '${first}'; see '${name} --help'\n`);
    return 1;
  }
  if (!XL_COMMANDS.includes(cmd) && (rest.includes('-h') || rest.includes('--help'))) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  if (dryRun && cmd.name !== 'create') {
    // xl refuses -N for commands without a dry run rather than doing the real thing.
    process.stderr.write('command does not implement -N (dryrun) option\n');
    return 1;
  }
  try {
    return await cmd.run(dryRun ? ['-n', ...rest] : rest);
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.out) process.stdout.write(e.out);
      if (e.err) process.stderr.write(e.err);
      return e.status;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${name} ${cmd.name}: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
