/**
 * The guest lifecycle (what libxl does for `xl create` / `xl destroy`, for PV guests):
 * build the domain from its config and kernel, connect its console to the backend,
 * unpause it, watch for it to stop (VIRQ_DOM_EXC, then getdomaininfo as libxl's
 * domain-death watch does), and apply its on_poweroff/on_reboot/on_crash action.
 *
 * Invariants: a guest is in `guests` from creation until it is destroyed; its console is
 * drained before the domain is destroyed (so the last lines are never lost); every
 * onExit listener runs exactly once, after the action has been applied.
 *
 * Not here: xenstore entries (libxl's device and domain paths) and restart actions; a
 * guest whose action is restart / rename-restart is destroyed and reported as such.
 */
import { randomBytes } from 'node:crypto';
import { VIRQ_DOM_EXC } from '../../abi/xen.ts';
import { XEN_DOMINF_dying, XEN_DOMINF_shutdown } from '../../abi/domctl.ts';
import { SHUTDOWN_crash, SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_watchdog } from '../../abi/sched.ts';
import { type Xc, XcError } from '../libxc/xc.ts';
import type { Dom0Events } from '../libxc/events.ts';
import type { ConsoleBackend, ConsoleConnection, ConsoleSink } from '../console/console_backend.ts';
import { buildPvDomain, type BuiltDomain } from './pv_builder.ts';
import type { OnAction, PvGuestConfig } from './xl_config.ts';

export interface GuestExit {
  /** SHUTDOWN_* reason, or -1 if it was destroyed without shutting down. */
  readonly reason: number;
  readonly action: OnAction | 'destroyed';
}

export class Guest {
  exit: GuestExit | null = null;
  private readonly _exitListeners: ((e: GuestExit) => void)[] = [];

  constructor(readonly name: string, readonly domid: number, readonly config: PvGuestConfig,
    readonly built: BuiltDomain, readonly console: ConsoleConnection) {}

  onExit(fn: (e: GuestExit) => void): void {
    if (this.exit !== null) fn(this.exit);
    else this._exitListeners.push(fn);
  }

  /** @internal */
  finish(e: GuestExit): void {
    if (this.exit !== null) return;
    this.exit = e;
    for (const fn of this._exitListeners.splice(0)) fn(e);
  }
}

export interface CreateOptions {
  /** Where the guest's console output goes (the `-c` terminal). */
  readonly sink?: ConsoleSink | null;
  /** Leave the guest paused (xl create -p). */
  readonly paused?: boolean;
  /** The domain's UUID (default: a random version-4 UUID, as libxl makes). */
  readonly uuid?: Uint8Array;
}

/** A random RFC 4122 version-4 UUID. */
export function randomUuid(): Uint8Array {
  const u = new Uint8Array(randomBytes(16));
  u[6] = (u[6]! & 0x0f) | 0x40;
  u[8] = (u[8]! & 0x3f) | 0x80;
  return u;
}

export class Toolstack {
  private readonly _guests = new Map<number, Guest>();
  private readonly _virqPort: number;

  constructor(private readonly _xc: Xc, private readonly _events: Dom0Events, private readonly _consoles: ConsoleBackend) {
    const p = _xc.bindVirq(VIRQ_DOM_EXC);
    if (p < 0) throw new XcError('binding VIRQ_DOM_EXC', p);
    this._virqPort = p;
    _events.on(p, () => this.poll());
  }

  get guests(): IterableIterator<Guest> {
    return this._guests.values();
  }

  guest(nameOrId: string | number): Guest | undefined {
    if (typeof nameOrId === 'number') return this._guests.get(nameOrId);
    for (const g of this._guests.values()) if (g.name === nameOrId) return g;
    return undefined;
  }

  /** xl create: build, attach the console, unpause. Throws (BuildError, XcError) on failure. */
  createPv(cfg: PvGuestConfig, kernel: Uint8Array, opts: CreateOptions = {}): Guest {
    if (this.guest(cfg.name) !== undefined) throw new XcError(`a domain named ${cfg.name} already exists`, -17);
    const built = buildPvDomain(this._xc, {
      kernel, memoryMiB: cfg.memoryMiB, maxmemMiB: cfg.maxmemMiB, vcpus: cfg.maxvcpus,
      cmdline: cfg.cmdline, backendDomid: this._xc.port.domid, handle: opts.uuid ?? randomUuid(),
    });
    let con: ConsoleConnection;
    try {
      // libxl__domain_build: I/O resources before the guest runs.
      for (const [first, last] of cfg.ioports) {
        const rc = this._xc.ioportPermission(built.domid, first, last - first + 1, true);
        if (rc < 0) throw new XcError(`granting ports ${first.toString(16)}-${last.toString(16)}`, rc);
      }
      con = this._consoles.attach(built.domid, built.consoleMfn, built.consolePort, opts.sink ?? null);
    } catch (e) {
      this._xc.destroyDomain(built.domid);
      throw e;
    }
    const g = new Guest(cfg.name, built.domid, cfg, built, con);
    this._guests.set(g.domid, g);
    if (!opts.paused) {
      const rc = this._xc.unpauseDomain(g.domid);
      if (rc < 0) {
        this.destroy(g.domid);
        throw new XcError('unpausing the new domain', rc);
      }
    }
    return g;
  }

  unpause(domid: number): number {
    return this._xc.unpauseDomain(domid);
  }

  /** xl destroy: drain the console, destroy the domain. */
  destroy(domid: number, reason = -1): void {
    const g = this._guests.get(domid);
    if (g !== undefined) {
      this._consoles.detach(domid);
      this._guests.delete(domid);
    }
    this._xc.destroyDomain(domid);
    g?.finish({ reason, action: 'destroyed' });
  }

  /** The domain-death watch: find guests that shut down and apply their on_* action. */
  poll(): void {
    for (const g of [...this._guests.values()]) {
      const info = this._xc.getDomainInfo(g.domid);
      if (info === null || info.domid !== g.domid || (info.flags & XEN_DOMINF_dying) !== 0) {
        // Gone (destroyed behind our back).
        this._consoles.detach(g.domid);
        this._guests.delete(g.domid);
        g.finish({ reason: -1, action: 'destroyed' });
        continue;
      }
      if ((info.flags & XEN_DOMINF_shutdown) === 0) continue;
      this._consoles.connection(g.domid)?.pump();
      const reason = info.shutdownCode;
      const action = actionFor(g.config, reason);
      if (action === 'preserve') {
        this._consoles.detach(g.domid);
        this._guests.delete(g.domid);
        g.finish({ reason, action });
        continue;
      }
      this._consoles.detach(g.domid);
      this._guests.delete(g.domid);
      this._xc.destroyDomain(g.domid);
      g.finish({ reason, action });
    }
  }

  close(): void {
    this._events.off(this._virqPort);
    this._xc.closePort(this._virqPort);
  }
}

function actionFor(cfg: PvGuestConfig, reason: number): OnAction {
  switch (reason) {
    case SHUTDOWN_poweroff:
      return cfg.onPoweroff;
    case SHUTDOWN_reboot:
      return cfg.onReboot;
    case SHUTDOWN_crash:
    case SHUTDOWN_watchdog:
      return cfg.onCrash;
    default:
      return 'destroy';
  }
}
