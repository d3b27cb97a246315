/**
 * xl console: attach this terminal to a guest's PV console through the host (Ctrl-]
 * detaches). Only the PV console exists for PV guests: `-t serial`/`vuart` and `-n` other
 * than 0 are refused with what exists instead.
 */
import { flag, value, xlCommand } from '../xl_command.ts';
import { withHost } from '../host_client.ts';
import { CliExit } from '../xl_opts.ts';
import { consoleSession } from '../console_session.ts';
import { err } from '../output.ts';

export const consoleCommand = xlCommand({
  name: 'console', synopsis: '[options] <Domain>\n-t <type>       console type, pv , serial or vuart\n-n <number>     console number',
  summary: 'Attach to domain\'s console', spec: { short: 't:n:D', long: { dump: 'D' }, required: 1 },
  extra: 'Ctrl-] detaches; the guest keeps running.\n--dump (tsxen): print the console output so far (up to 64 KiB) and exit.',
  async run(p) {
    const type = value(p, 't') ?? 'pv';
    if (type !== 'pv' && type !== 'serial' && type !== 'vuart') throw new CliExit(1, '', `console type "${type}" not supported\n`);
    if (type !== 'pv') throw new CliExit(1, '', `${p.operands[0]} has no ${type} console (PV guests have their PV console: -t pv)\n`);
    const num = value(p, 'n') ?? '0';
    if (num !== '0') throw new CliExit(1, '', `${p.operands[0]} has no PV console ${num} (only console 0)\n`);
    return withHost(async (c) => {
      if (flag(p, 'D')) {
        process.stdout.write(Buffer.from(await c.call<string>('console.log', { domain: p.operands[0]! }), 'base64'));
        return 0;
      }
      if (process.stdin.isTTY) err(`(connected to ${p.operands[0]}; Ctrl-] detaches)\r\n`);
      await consoleSession(c, p.operands[0]!, { replay: 2048 });
      return 0;
    });
  },
});
