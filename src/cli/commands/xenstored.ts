import { join } from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { XenStored } from '../../dom0/xenstored/xenstored.ts';
import { XsSocketServer } from '../../dom0/xenstored/socket_server.ts';

const USAGE = `usage: tsxen xenstored [--socket <path>]

Runs tsxen's xenstored on its own (no hypervisor): the standard tree and the Unix socket
host tools speak to, until interrupted. Debian's xenstore-utils reach it with
  XENSTORED_PATH=<path> xenstore-ls
The socket path is --socket, else $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
/tmp/tsxen-xenstored/socket.`;

/** `tsxen xenstored`: the store daemon alone, for host tools and experiments. */
export const xenstoredCommand: Command = {
  name: 'xenstored',
  summary: 'run xenstored alone on a Unix socket (for xenstore-utils)',
  usage: USAGE,
  async run(args) {
    let path: string | undefined;
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--socket' && args[i + 1] !== undefined) path = args[++i];
      else throw new UsageError(`unknown argument '${args[i]}'; see 'tsxen xenstored --help'`);
    }
    const env = process.env;
    path ??= env.XENSTORED_PATH ?? (env.XENSTORED_RUNDIR !== undefined ? join(env.XENSTORED_RUNDIR, 'socket') : '/tmp/tsxen-xenstored/socket');
    const daemon = new XenStored({ defer: (run) => setImmediate(run), log: (l) => void process.stderr.write(`${l}\n`) });
    const server = await XsSocketServer.listen(daemon, path);
    process.stdout.write(`xenstored listening on ${server.path}\nexport XENSTORED_PATH=${server.path}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  },
};
