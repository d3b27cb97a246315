/**
 * xl save and xl restore (tools/xl/xl_saverestore.c): the image is written and read by
 * the host; these print xl's messages and a progress bar (a line per quarter when stderr
 * is not a terminal). restore starts a host when none runs, like create, and like create
 * does not put its domain on the private host of a `create -c`.
 */
import type { Command } from '../command.ts';
import { flag, xlCommand } from '../xl_command.ts';
import { asCliExit, connectHost, PRIVATE_HOST_MESSAGE, tryConnectShared, withHost } from '../host_client.ts';
import { CliExit, commandHelp } from '../xl_opts.ts';
import { consoleSession } from '../console_session.ts';
import { err, Progress } from '../output.ts';

interface ProgressEvent {
  readonly stderr?: string;
  readonly progress?: { phase: string; done: number; total: number };
}

function progressPrinter(verb: string): { on: (e: unknown) => void; end: () => void } {
  const bar = new Progress();
  return {
    on: (e) => {
      const ev = e as ProgressEvent;
      if (ev.stderr !== undefined) {
        bar.end();
        err(ev.stderr);
      }
      const pr = ev.progress;
      if (pr === undefined) return;
      if (pr.phase === 'suspend') err(`${verb}: asking the guest to suspend\n`);
      else if (pr.phase === 'memory') bar.update(`${verb} memory`, pr.done, pr.total);
      else if (pr.phase === 'done') bar.end();
    },
    end: () => bar.end(),
  };
}

const save = xlCommand({
  name: 'save', synopsis: '[options] <Domain> <CheckpointFile> [<ConfigFile>]', summary: 'Save a domain state to restore later',
  options: '-h  Print this help.\n-c  Leave domain running after creating the snapshot.\n-p  Leave domain paused after creating the snapshot.',
  spec: { short: 'cp', required: 2 },
  async run(p, cmd) {
    if (p.operands.length > 3) throw new CliExit(1, commandHelp(cmd));
    const [domain, file, config] = p.operands as [string, string, string | undefined];
    return withHost(async (c) => {
      const pr = progressPrinter('Saving');
      try {
        const r = await c.stream<{ bytes: number }>('save', {
          domain, file, config, cwd: process.cwd(), checkpoint: flag(p, 'c'), pause: flag(p, 'p'),
        }, pr.on).done;
        pr.end();
        err(`Saved ${(r.bytes / 1048576).toFixed(1)} MiB to ${file}\n`);
        return 0;
      } finally {
        pr.end();
      }
    });
  },
});

const restore = xlCommand({
  name: 'restore', synopsis: '[options] [<ConfigFile>] <CheckpointFile>', summary: 'Restore a domain from a saved state',
  options: '-h                       Print this help.\n-p                       Do not unpause domain after restoring it.\n'
    + '-e                       Do not wait in the background for the death of the domain.\n-d                       Enable debug messages.\n'
    + '-V, --vncviewer          Connect to the VNC display after the domain is created.\n'
    + '-A, --vncviewer-autopass Pass VNC password to viewer via stdin.\n-c                       (as create) connect to the console afterwards',
  spec: { short: 'FcpdeVA', long: { vncviewer: 'V', 'vncviewer-autopass': 'A' }, required: 1 },
  async run(p, cmd) {
    let config: string | undefined, file: string;
    if (p.operands.length === 1) file = p.operands[0]!;
    else if (p.operands.length === 2) [config, file] = p.operands as [string, string];
    else throw new CliExit(1, commandHelp(cmd));
    const existing = await tryConnectShared();
    if (existing === 'private') throw new CliExit(1, '', `tsxen restore: ${PRIVATE_HOST_MESSAGE}\n`);
    const c = existing ?? await connectHost({ autostart: true });
    const pr = progressPrinter('Restoring');
    try {
      const r = await c.stream<{ domid: number; name: string }>('restore', {
        file, config, cwd: process.cwd(), paused: flag(p, 'p'),
      }, pr.on).done;
      pr.end();
      if (flag(p, 'c')) await consoleSession(c, String(r.domid), { follow: true });
      return 0;
    } catch (e) {
      throw asCliExit(e);
    } finally {
      pr.end();
      c.close();
    }
  },
});

export const SAVE_RESTORE_COMMANDS: readonly Command[] = [save, restore];
