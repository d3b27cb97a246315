/**
 * The host daemon (`tsxen host start`): one Host (hypervisor + dom0) running forever under
 * a HostRunner, and the control API on a Unix socket (plus HTTP on 127.0.0.1 when asked),
 * whose methods drive dom0's toolstack. `tsxen create -c` and the demo run the same daemon
 * inside their own process.
 *
 * Invariants: API requests are served between scheduler slices (the runner yields to the
 * event loop after each); the socket and pid file exist exactly while the daemon serves;
 * stop() destroys every guest (their memory goes back to the pool), stops the loop and
 * removes the socket, pid and token files.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Host, type HostOptions } from './host.ts';
import { HostRunner } from './runner.ts';
import { ApiServer, type ApiMethod } from '../dom0/api/server.ts';
import { PROTOCOL_VERSION } from '../dom0/api/protocol.ts';
import { XlError } from '../dom0/toolstack/xl_error.ts';
import { physInfo } from '../dom0/toolstack/xc_domain.ts';
import { hostPaths, type HostPaths } from './paths.ts';
import type { DaemonContext } from './daemon_context.ts';
import { domainMethods } from './daemon_methods.ts';
import { streamMethods } from './daemon_streams.ts';
import { deviceMethods } from './daemon_devices.ts';
import { saveRestoreMethods } from './daemon_saverestore.ts';
import { netTraceMethods } from './daemon_net_trace.ts';
import { packageVersion } from './version.ts';
import { ensureXenstored } from './xenstore_wiring.ts';
import { closeDrivers, ensureDrivers, ensureDriversWithNet } from './devices_wiring.ts';

export interface DaemonOptions extends HostOptions {
  readonly paths?: HostPaths;
  /** Serve HTTP on 127.0.0.1:port too (0 picks a port); off when undefined. */
  readonly httpPort?: number;
  /** Log lines (the daemon's log file when detached). */
  readonly log?: (line: string) => void;
  /** Write the pid file (a detached daemon does; an embedded one does not). */
  readonly pidFile?: boolean;
  readonly sliceNs?: number;
  /** Virtual clock: the machine has nothing left to do until outside input arrives. */
  readonly onIdle?: () => void;
  /** This host lives only as long as one `create -c`: create and restore must not put other guests on it. */
  readonly embedded?: boolean;
  /** Run netback on xenbr0 with the user-mode gateway (default true; blkback always runs). */
  readonly network?: boolean;
}

export class HostDaemon {
  readonly host: Host;
  readonly runner: HostRunner;
  readonly paths: HostPaths;
  private readonly _server: ApiServer;
  private readonly _ctx: DaemonContext;
  private _stopping: Promise<void> | null = null;
  private readonly _stopped: Promise<void>;
  private _resolveStopped!: () => void;
  private readonly _log: (line: string) => void;

  private constructor(opts: DaemonOptions) {
    this.paths = opts.paths ?? hostPaths();
    this._log = opts.log ?? (() => undefined);
    this.host = new Host({ clock: 'host', ...opts, xenLog: (l) => { opts.xenLog?.(l); this._log(l); } });
    this.runner = new HostRunner(this.host, {
      sliceNs: opts.sliceNs, onIdle: opts.onIdle,
      onError: (e) => {
        this._log(`host: the hypervisor stopped on an internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        void this.stop();
      },
    });
    this._stopped = new Promise((r) => (this._resolveStopped = r));
    ensureXenstored(this.host, (l) => this._log(`xenstored: ${l}`));
    const ctx: DaemonContext = {
      host: this.host, ts: this.host.toolstack, runner: this.runner, log: this._log, startedAt: Date.now(),
      socketPath: this.paths.socket, httpPort: null, embedded: opts.embedded ?? false, requestStop: () => void setImmediate(() => void this.stop()),
    };
    this._ctx = ctx;
    this.host.toolstack.onEvent((e) => {
      if (e.type === 'log') this._log(e.line);
      this.runner.wake();
    });
    const methods = new Map<string, ApiMethod>([
      ...hostMethods(ctx, this), ...domainMethods(ctx), ...streamMethods(ctx), ...deviceMethods(ctx), ...saveRestoreMethods(ctx), ...netTraceMethods(ctx),
    ]);
    // A request is dom0's work (the toolstack runs in dom0): its synchronous part is charged.
    const host = this.host;
    for (const [name, m] of methods) methods.set(name, { ...m, handler: (p, api) => host.dom0Work(() => m.handler(p, api)) });
    this._server = new ApiServer(methods, { onActivity: () => this.runner.wake(), log: this._log });
  }

  /** Boot the host, start the loop and listen. Throws if another host owns the socket. */
  static async start(opts: DaemonOptions = {}): Promise<HostDaemon> {
    const d = new HostDaemon(opts);
    if (opts.network === false) ensureDrivers(d.host);
    else await ensureDriversWithNet(d.host);
    mkdirSync(d.paths.runDir, { recursive: true, mode: 0o700 });
    try {
      await d._server.listenUnix(d.paths.socket);
    } catch (e) {
      closeDrivers(d.host);
      d.host.toolstack.close();
      throw e;
    }
    if (opts.httpPort !== undefined) {
      const token = randomBytes(24).toString('hex');
      writeFileSync(d.paths.tokenFile, `${token}\n`, { mode: 0o600 });
      d._ctx.httpPort = await d._server.listenHttp(opts.httpPort, token);
      writeFileSync(d.paths.httpFile, `${d._ctx.httpPort}\n`, { mode: 0o600 });
    }
    if (opts.pidFile) writeFileSync(d.paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
    d.runner.start();
    d._log(`host: serving on ${d.paths.socket}${d._ctx.httpPort !== null ? ` and http://127.0.0.1:${d._ctx.httpPort}` : ''} (pid ${process.pid})`);
    return d;
  }

  get context(): DaemonContext {
    return this._ctx;
  }

  /** Resolves once the daemon has stopped (host.stop, a signal, or an internal error). */
  get stopped(): Promise<void> {
    return this._stopped;
  }

  stop(): Promise<void> {
    this._stopping ??= (async () => {
      await this._server.close();
      for (const g of [...this.host.toolstack.guests]) this.host.toolstack.destroy(g.domid);
      await this.runner.stop();
      closeDrivers(this.host);
      this.host.toolstack.close();
      for (const f of [this.paths.socket, this.paths.tokenFile, this.paths.httpFile]) removeQuietly(f);
      if (existsSync(this.paths.pidFile) && readFileSync(this.paths.pidFile, 'utf8').trim() === String(process.pid)) {
        removeQuietly(this.paths.pidFile);
      }
      this._log('host: stopped');
      this._resolveStopped();
    })();
    return this._stopping;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function hostMethods(ctx: DaemonContext, d: HostDaemon): Array<[string, ApiMethod]> {
  return [
    ['host.status', {
      handler: () => {
        const pi = physInfo(ctx.ts.xc);
        const guests = [...ctx.ts.guests];
        return {
          version: packageVersion(), protocol: PROTOCOL_VERSION, pid: process.pid, socket: ctx.socketPath,
          http: ctx.httpPort, uptimeS: (Date.now() - ctx.startedAt) / 1000, systemTimeS: ctx.host.xen.time.now() / 1e9,
          clock: ctx.host.clockKind, embedded: ctx.embedded, nrCpus: typeof pi === 'number' ? 0 : pi.nrCpus,
          totalKiB: typeof pi === 'number' ? 0 : pi.totalPages * 4, freeKiB: typeof pi === 'number' ? 0 : pi.freePages * 4,
          domains: guests.length + 1, running: guests.filter((g) => g.exit === null && !g.preserved).length,
          slices: d.runner.slices,
        };
      },
    }],
    ['host.stop', {
      handler: (p) => {
        const running = [...ctx.ts.guests].filter((g) => g.exit === null && !g.preserved);
        if (running.length > 0 && !p.bool('force')) {
          throw new XlError(`${running.length} domain${running.length > 1 ? 's are' : ' is'} still running (${running.map((g) => g.name).join(', ')}): `
            + 'shut them down first (tsxen shutdown -a -w), or use tsxen host stop --force');
        }
        ctx.requestStop();
        return null;
      },
    }],
  ];
}
