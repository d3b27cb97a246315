/**
 * tsxen host start|stop|status|run: the host daemon that boots the hypervisor and dom0 and
 * serves the control API (JSON over a Unix socket; over HTTP on 127.0.0.1 with --http).
 * `start` runs it in the background (log in the run directory), `run` in this process
 * (until Ctrl-C or `host stop`).
 */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { CliExit } from '../xl_opts.ts';
import { startHostInBackground, tryConnect, withHost } from '../host_client.ts';
import { err, json, out } from '../output.ts';
import { hostPaths } from '../../host/paths.ts';
import type { HostDaemon } from '../../host/daemon.ts';

const USAGE = `usage: tsxen host start [--http PORT] [--memory MIB] [--clock host|virtual]
                        [--pcpus N] [--sched credit|rr] [--no-net]
       tsxen host stop [--force]
       tsxen host status [--json]
       tsxen host run [same options as start]

The host daemon boots the hypervisor and dom0 on the emulated machine and serves the
control API that every other command (and xl) uses: JSON over the Unix socket
$TSXEN_SOCKET (default: <run dir>/control.sock, the run dir being $TSXEN_RUNDIR,
$XDG_RUNTIME_DIR/tsxen or /tmp/tsxen-<uid>). 'create' and 'restore' start one
themselves when none runs.

  start     run the daemon in the background (log: <run dir>/host.log)
  run       run it in this process until Ctrl-C or 'tsxen host stop'
  stop      stop it; refuses while guests run unless --force (which destroys them)
  status    what runs: pid, uptime, domains, memory, the socket and HTTP port

Options:
  --http PORT          also serve the API over HTTP on 127.0.0.1:PORT (0: any port); requests
                       need 'Authorization: Bearer <token>' from <run dir>/http.token
  --memory MIB         machine memory (default 256)
  --clock host|virtual guest time from the host clock (default) or from retired instructions
  --pcpus N            physical CPUs (default 2; 1..31)
  --sched credit|rr    the hypervisor's scheduler (default credit)
  --no-net             no xenbr0 and gateway (vif= and network-attach then fail)`;

interface HostStartOpts {
  readonly http?: number;
  readonly memoryMiB?: number;
  readonly clock: 'host' | 'virtual';
  readonly pcpus?: number;
  readonly scheduler?: 'credit' | 'rr';
  readonly network: boolean;
  readonly force: boolean;
  readonly json: boolean;
}

function parse(args: readonly string[]): HostStartOpts {
  let http: number | undefined, memoryMiB: number | undefined, clock: 'host' | 'virtual' = 'host', force = false, asJson = false;
  let pcpus: number | undefined, scheduler: 'credit' | 'rr' | undefined, network = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--http') {
      http = Number(val());
      if (!Number.isInteger(http) || http < 0 || http > 65535) throw new UsageError(`--http ${args[i]}: not a port number`);
    } else if (a === '--memory') {
      memoryMiB = Number(val());
      if (!Number.isInteger(memoryMiB) || memoryMiB < 16 || memoryMiB > 4096) throw new UsageError(`--memory ${args[i]}: a whole number of MiB in 16..4096`);
    } else if (a === '--clock') {
      const c = val();
      if (c !== 'host' && c !== 'virtual') throw new UsageError(`--clock ${c}: use host or virtual`);
      clock = c;
    } else if (a === '--pcpus') {
      pcpus = Number(val());
      if (!Number.isInteger(pcpus) || pcpus < 1 || pcpus > 31) throw new UsageError(`--pcpus ${args[i]}: a whole number in 1..31`);
    } else if (a === '--sched') {
      const c = val();
      if (c !== 'credit' && c !== 'rr') throw new UsageError(`--sched ${c}: use credit or rr`);
      scheduler = c;
    } else if (a === '--no-net') network = false;
    else if (a === '--force') force = true;
    else if (a === '--json') asJson = true;
    else throw new UsageError(`unknown option '${a}'; see 'tsxen host --help'`);
  }
  return { http, memoryMiB, clock, pcpus, scheduler, network, force, json: asJson };
}

function startArgs(o: HostStartOpts): string[] {
  return [...(o.http !== undefined ? ['--http', String(o.http)] : []), ...(o.memoryMiB !== undefined ? ['--memory', String(o.memoryMiB)] : []),
    '--clock', o.clock, ...(o.pcpus !== undefined ? ['--pcpus', String(o.pcpus)] : []),
    ...(o.scheduler !== undefined ? ['--sched', o.scheduler] : []), ...(o.network ? [] : ['--no-net'])];
}

async function runInForeground(o: HostStartOpts): Promise<number> {
  const stamp = (): string => new Date().toISOString();
  let d: HostDaemon;
  try {
    const { HostDaemon: Daemon } = await import('../../host/daemon.ts'); // the machine: loaded when needed
    d = await Daemon.start({
      paths: hostPaths(), httpPort: o.http, memoryMiB: o.memoryMiB, clock: o.clock, pidFile: true,
      pcpus: o.pcpus, scheduler: o.scheduler, network: o.network,
      log: (l) => void process.stdout.write(`${stamp()} ${l}\n`),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CliExit(1, '', `tsxen host: ${(e as Error).message}\n`);
    throw e;
  }
  const stop = (): void => void d.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await d.stopped;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}

export const hostCommand: Command = {
  name: 'host',
  summary: 'start, stop or show the host daemon (hypervisor + dom0 + control API)',
  usage: USAGE,
  async run(args) {
    const [sub, ...rest] = args;
    const o = parse(rest);
    const paths = hostPaths();
    switch (sub) {
      case 'run':
        return runInForeground(o);
      case 'start': {
        const c = await tryConnect(paths);
        if (c !== null) {
          const st = await c.call<{ pid: number }>('host.status');
          c.close();
          err(`tsxen: a host is already running (pid ${st.pid}, ${paths.socket})\n`);
          return 0;
        }
        const pid = await startHostInBackground(paths, startArgs(o));
        err(`tsxen: host started (pid ${pid}); socket ${paths.socket}; log ${paths.logFile}\n`);
        return 0;
      }
      case 'stop': {
        const c = await tryConnect(paths);
        if (c === null) {
          err('tsxen: no host is running\n');
          return 0;
        }
        c.close();
        return withHost(async (h) => {
          const st = await h.call<{ pid: number }>('host.status');
          await h.call('host.stop', { force: o.force });
          // Wait until its socket is gone (it destroys guests first).
          for (let i = 0; i < 300 && (await tryConnect(paths).then((x) => (x?.close(), x !== null))); i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          err(`tsxen: host stopped (pid ${st.pid})\n`);
          return 0;
        });
      }
      case 'status':
        return withHost(async (c) => {
          const st = await c.call<Record<string, unknown>>('host.status');
          if (o.json) {
            json(st);
            return 0;
          }
          const mib = (k: number): string => `${Math.round(k / 1024)} MiB`;
          out([
            `tsxen host ${String(st.version)} (pid ${String(st.pid)}), up ${Number(st.uptimeS).toFixed(0)} s, ${String(st.clock)} clock`,
            `  socket   ${String(st.socket)}${st.http !== null ? `\n  http     http://127.0.0.1:${String(st.http)}/api/<method>` : ''}`,
            `  cpus     ${String(st.nrCpus)}`,
            `  memory   ${mib(Number(st.totalKiB))} total, ${mib(Number(st.freeKiB))} free`,
            `  domains  ${String(st.domains)} (${String(st.running)} guests running)`,
            '',
          ].join('\n'));
          return 0;
        });
      default:
        throw new UsageError(sub === undefined ? 'which? start, stop, status or run (see tsxen host --help)' : `unknown subcommand '${sub}'; see 'tsxen host --help'`);
    }
  },
};
