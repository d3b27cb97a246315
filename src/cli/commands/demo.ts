/**
 * `tsxen demo` (what `npm start` runs): boot a host in this process, create two minios
 * domUs (on xenbr0 when the host has netback: they get addresses by DHCP and ping each
 * other and the gateway), show their consoles side by side (each line prefixed with its
 * domain), print `xl list`, and say what to try next. The host serves the control socket,
 * so `tsxen list`, `tsxen console demo-1`, `tsxen top` work from another terminal while
 * the demo runs; Ctrl-C (or `tsxen host stop --force`) ends it.
 *
 * `--once` (for scripts and CI): the same, then shut the guests down and exit.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { CliExit } from '../xl_opts.ts';
import { colour, err, out } from '../output.ts';
import { formatList } from './xl_domain.ts';
import type { HostDaemon } from '../../host/daemon.ts';
import { hostPaths } from '../../host/paths.ts';
import { ApiClient } from '../../dom0/api/client.ts';
import type { DomainListEntry } from '../../dom0/toolstack/toolstack_ops.ts';

const MINIOS = fileURLToPath(new URL('../../../guests/build/minios.elf', import.meta.url));

const USAGE = `usage: tsxen demo [--once] [--clock host|virtual]

Boots a host in this process with dom0 and two minios domains (demo-1, demo-2) on the
bridge xenbr0, shows their consoles and 'xl list', and prints what to try next. The host
serves the usual control socket, so other tsxen/xl commands reach it while it runs.
Ctrl-C stops it.

  --once    create, show, list, then shut the guests down and exit (for scripts)`;

function demoConfig(n: number, net: boolean): string {
  const name = `demo-${n}`;
  const ip = `10.0.2.${14 + n}`, peer = `10.0.2.${n === 1 ? 16 : 15}`;
  const cmds = net
    ? `info; net info; ping 10.0.2.2 2; ping ${peer} 2; mem; shell`
    : 'info; xs read name; mem; smp; shell';
  const lines = [`name = "${name}"`, `kernel = "${MINIOS}"`, 'memory = 32', `vcpus = ${n}`];
  if (net) lines.push(`vif = [ 'bridge=xenbr0,mac=00:16:3e:de:00:0${n}' ]`);
  lines.push(`extra = "${net ? `ip=${ip} gw=10.0.2.2 ` : ''}cmd=\\"${cmds}\\""`);
  return `${lines.join('\n')}\n`;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'boot the demo host: dom0 and two minios domUs on xenbr0 (npm start)',
  usage: USAGE,
  async run(args) {
    let once = false, clock: 'host' | 'virtual' = 'host';
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--once') once = true;
      else if (args[i] === '--clock') {
        const v = args[++i];
        if (v !== 'host' && v !== 'virtual') throw new UsageError('--clock host|virtual');
        clock = v;
      } else throw new UsageError(`unknown option '${args[i]}'; see 'tsxen demo --help'`);
    }
    if (!existsSync(MINIOS)) throw new CliExit(1, '', `tsxen demo: ${MINIOS} is missing: build the guests first (make -C guests, or npm start)\n`);
    const paths = hostPaths();
    let daemon: HostDaemon;
    try {
      const { HostDaemon: Daemon } = await import('../../host/daemon.ts'); // the machine: loaded when needed
      // Not `embedded`: the demo host runs until Ctrl-C, and `create`/`restore` from another
      // terminal put their guests on it (what to try next suggests it).
      daemon = await Daemon.start({ paths, clock });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new CliExit(1, '', 'tsxen demo: a tsxen host is already running; stop it first (tsxen host stop --force)\n');
      }
      throw e;
    }
    const c = await ApiClient.connect(paths.socket);
    const net = daemon.host.toolstack.drivers !== null;
    out(`${colour('tsxen demo', 'bold')}: the hypervisor and dom0 are up (${daemon.host.clockKind} clock); creating two minios domains${net ? ' on xenbr0' : ''}\n\n`);
    const tags = [colour('[demo-1]', 'cyan'), colour('[demo-2]', 'yellow')];
    const prompts = [false, false];
    const consoles: Array<Promise<unknown>> = [];
    const streams: Array<{ cancel(): void }> = [];
    try {
      for (const n of [1, 2]) {
        await c.call('create', { config: demoConfig(n, net), source: `demo-${n}.cfg`, overrides: [], cwd: process.cwd() });
        let partial = '';
        const s = c.stream('console', { domain: `demo-${n}`, replay: 1 << 20 }, (e) => {
          const data = (e as { data?: string }).data;
          if (data === undefined) return;
          partial += Buffer.from(data, 'base64').toString('latin1').replace(/\r/g, '');
          const lines = partial.split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) out(`${tags[n - 1]} ${l}\n`);
          if (partial.includes('minios> ')) prompts[n - 1] = true;
        });
        streams.push(s);
        consoles.push(s.done.catch(() => undefined));
      }
      // Show the consoles until both guests sit at their shell prompt (or 60 s pass).
      for (let i = 0; i < 600 && !(prompts[0] && prompts[1]); i++) await new Promise((r) => setTimeout(r, 100));
      const rows = await c.call<DomainListEntry[]>('list');
      out(`\n${colour('$ xl list', 'bold')}\n${formatList(rows, false)}\n`);
      if (once) {
        for (const s of streams) s.cancel();
        await c.stream('shutdown', { all: true, wait: true }, () => undefined).done;
        return 0;
      }
      out([
        colour('What to try next', 'bold') + ' (in another terminal; this one keeps the host running):',
        '  npx tsxen list                       xl list; also: info, uptime, vcpu-list, dmesg',
        '  npx tsxen console demo-1             the minios shell (try: help, mem, ping 10.0.2.2); Ctrl-] leaves',
        '  npx tsxen top                        live per-domain CPU and memory (q quits)',
        '  npx tsxen mem-set demo-2 16          balloon demo-2 down to 16 MiB, watch it in list',
        '  npx tsxen save demo-2 /tmp/d2.save   suspend it to a file; npx tsxen restore /tmp/d2.save brings it back',
        '  npx tsxen shutdown -a -w             shut both guests down and wait',
        '  npx tsxen create -c /dev/null kernel=guests/build/minios.elf name=mine  another guest, console attached',
        '  npx tsxen trace -n 20                hypercalls and scheduling decisions as they happen',
        ...(net ? ['  npx tsxen net-trace 10.0.2.15        each ping of demo-1 (console: ping 10.0.2.16) through its ring, netback, xenbr0 and back'] : []),
        `Ctrl-C stops the demo host (it destroys its guests).${net ? '' : ' (No netback in this host yet: the guests run without vifs.)'}`,
        '',
      ].join('\n'));
      for (const s of streams) s.cancel();
      const stop = (): void => void daemon.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await daemon.stopped;
      return 0;
    } finally {
      c.close();
      await daemon.stop();
      await Promise.all(consoles);
      err('tsxen demo: host stopped\n');
    }
  },
};
