/**
 * The tsxen command line. Parses the global options, dispatches to a command from the
 * table, and turns UsageError into a one-line message with the command's exit code; any
 * other error is a bug and keeps its stack trace.
 */
import { COMMANDS } from './commands.ts';
import { UsageError } from './command.ts';
import { packageVersion } from './version.ts';

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: tsxen <command> [options]',
    '',
    'tsxen runs the Xen virtualization architecture in TypeScript on an emulated IA-32 machine.',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     show this help, or a command\'s with `tsxen <command> --help`',
    '  -V, --version  print the version',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const cmd = topic ? COMMANDS.find((c) => c.name === topic) : undefined;
    process.stdout.write(cmd ? `${cmd.usage}\n` : helpText());
    return first === undefined ? 1 : 0;
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(`tsxen ${packageVersion()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    process.stderr.write(`tsxen: unknown command '${first}'; see 'tsxen --help'\n`);
    return 1;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tsxen ${cmd.name}: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
