/**
 * Booting minios on tsxen through the host API (src/host/host.ts: Host, its toolstack's
 * createPv, runUntil) and driving scenarios the way refxen/dom0-run.sh drives them on the
 * real Xen.
 *
 * The host API is still growing (xenstored, backends and xl actions arrive from other
 * areas), so this harness probes for each capability a scenario needs and reports the
 * missing ones by name; tsxen.test.ts skips only on such a genuine absence and fails
 * whenever a capability exists but misbehaves.
 *
 * Invariants: every run uses the virtual clock (deterministic, idle time is skipped);
 * the console is collected byte for byte as the backend delivers it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Scenario } from './scenario.ts';

export const MINIOS_ELF = fileURLToPath(new URL('../../guests/build/minios.elf', import.meta.url));

/** The parts of the host API the harness uses (structural: see src/host/host.ts). */
interface GuestLike {
  readonly domid: number;
  readonly console?: { input(bytes: Uint8Array): void };
  readonly built?: { readonly consoleMfn: number };
  exit: { readonly reason: number; readonly action: string } | null;
  /** The guest after an on_reboot restart (toolstack). */
  readonly restartedAs?: GuestLike | null;
  addConsoleListener?(fn: (b: Uint8Array) => void): () => void;
}
interface ToolstackLike {
  createPv(cfg: unknown, kernel: Uint8Array, opts: { sink?: (b: Uint8Array) => void }): GuestLike;
  [action: string]: unknown;
}
interface HostLike {
  readonly toolstack: ToolstackLike;
  readonly xen: {
    readonly time: { now(): number };
    readonly mem: { read32(a: number): number; write32(a: number, v: number): void };
  };
  runUntil(done: () => boolean, opts: { timeoutMs?: number; maxSystemNs?: number }): Promise<string>;
}
interface HostModule {
  Host: new (opts: { memoryMiB?: number; clock?: 'virtual'; xenLog?: (l: string) => void }) => HostLike;
}
interface StoreWiringModule {
  /** Give the host's toolstack dom0's xenstored (src/host/xenstore_wiring.ts). */
  ensureXenstored(host: HostLike): unknown;
}
interface DevicesWiringModule {
  /** Backends (blkback; netback on xenbr0 with the user-mode gateway) for the host's toolstack (src/host/devices_wiring.ts). */
  ensureDriversWithNet(host: HostLike, gw?: { dnsUpstream?: null; hostLoopback?: string }): Promise<unknown>;
  closeDrivers(host: HostLike): void;
}
interface XlConfigModule {
  parseXlConfig(text: string, source?: string): Map<string, unknown>;
  pvConfig(cfg: Map<string, unknown>): { readonly ignored: readonly string[] };
}

export interface TsxenApi {
  readonly hostMod: HostModule;
  readonly xlMod: XlConfigModule;
  /** Absent while the host has no xenstored wiring for its toolstack. */
  readonly storeMod: StoreWiringModule | null;
  /** Absent while the host has no backends wired to its toolstack. */
  readonly devMod: DevicesWiringModule | null;
}

/** The host API, or why it is not there. */
export async function loadTsxen(): Promise<TsxenApi | string> {
  try {
    // Resolved at run time: the modules are optional while the host is being built.
    const hostPath = '../../src/host/host.ts';
    const xlPath = '../../src/dom0/toolstack/xl_config.ts';
    const hostMod = (await import(hostPath)) as HostModule; // shape checked below
    const xlMod = (await import(xlPath)) as XlConfigModule; // shape checked below
    if (typeof hostMod.Host !== 'function') return 'src/host/host.ts exports no Host';
    if (typeof xlMod.pvConfig !== 'function') return 'src/dom0/toolstack/xl_config.ts exports no pvConfig';
    const storePath = '../../src/host/xenstore_wiring.ts';
    const storeMod = await (import(storePath) as Promise<StoreWiringModule>).catch(() => null); // shape checked below
    const devPath = '../../src/host/devices_wiring.ts';
    const devMod = await (import(devPath) as Promise<DevicesWiringModule>).catch(() => null); // shape checked below
    return {
      hostMod, xlMod, storeMod: typeof storeMod?.ensureXenstored === 'function' ? storeMod : null,
      devMod: typeof devMod?.ensureDriversWithNet === 'function' && typeof devMod.closeDrivers === 'function' ? devMod : null,
    };
  } catch (e) {
    return `the tsxen host API cannot be loaded: ${(e as Error).message.split('\n')[0]}`; // any thrown value here is an Error from import()
  }
}

export interface BootResult {
  readonly console: string;
  readonly end: string;
  readonly exit: GuestLike['exit'];
  readonly systemNs: number;
  readonly hostMs: number;
  readonly ignored: readonly string[];
  readonly xenLog: readonly string[];
}

export type { GuestLike, HostLike };

export interface BootOptions {
  readonly xl: string;               // xl.cfg lines (name/kernel are added)
  readonly timeoutMs?: number;
  readonly maxSystemNs?: number;
  /** What 10.0.2.2 is on the host (the gateway's hostLoopback; default 127.0.0.1). */
  readonly hostLoopback?: string;
  /** Called after each slice with the console so far; may act on the host. */
  readonly onConsole?: (text: string, host: HostLike, guest: GuestLike, session: BootSession) => void;
}

/** The run in progress: actions that replace the guest (save + restore) go through it. */
export interface BootSession {
  /** The guest the run follows (a restore or restart replaces it). */
  guest: GuestLike;
  /** Asynchronous actions in flight: the run does not end while any is. */
  busy: number;
  /** Follow `g` from now on (its console joins the collected text). */
  follow(g: GuestLike): void;
}

/** Build a host, create minios from the config, run until it exits or a limit. */
export async function bootMinios(api: TsxenApi, opts: BootOptions): Promise<BootResult> {
  const xenLog: string[] = [];
  const host = new api.hostMod.Host({ memoryMiB: 256, clock: 'virtual', xenLog: (l) => xenLog.push(l) });
  api.storeMod?.ensureXenstored(host);
  await api.devMod?.ensureDriversWithNet(host, { dnsUpstream: null, hostLoopback: opts.hostLoopback });
  try {
    return await bootOn(api, host, opts, xenLog);
  } finally {
    api.devMod?.closeDrivers(host);
  }
}

async function bootOn(api: TsxenApi, host: HostLike, opts: BootOptions, xenLog: string[]): Promise<BootResult> {
  const cfgText = `name="minios"\nkernel="${MINIOS_ELF}"\n${/^\s*memory\s*=/m.test(opts.xl) ? '' : 'memory=32\n'}${opts.xl}`;
  const cfg = api.xlMod.pvConfig(api.xlMod.parseXlConfig(cfgText, 'scenario'));
  let text = '';
  const decoder = new TextDecoder('latin1');
  const collect = (b: Uint8Array): void => {
    text += decoder.decode(b);
  };
  const first = host.toolstack.createPv(cfg, readFileSync(MINIOS_ELF), { sink: collect });
  const session: BootSession = {
    guest: first, busy: 0,
    follow(g) {
      session.guest = g;
      g.addConsoleListener?.(collect);
    },
  };
  const t0 = Date.now();
  const limits = { timeoutMs: opts.timeoutMs ?? 120_000, maxSystemNs: opts.maxSystemNs ?? 600e9 };
  let end: string;
  let idleRounds = 0;
  for (;;) {
    const before = text.length;
    end = await host.runUntil(() => {
      opts.onConsole?.(text, host, session.guest, session);
      return session.guest.exit !== null && session.busy === 0;
    }, { ...limits, timeoutMs: limits.timeoutMs - (Date.now() - t0) });
    if (end !== 'idle') break;
    // Idle: every vCPU blocked with no deadline (minios keeps no periodic tick, as on
    // real Xen a blocked vCPU gets none). A save/restore in flight ends it; so may input
    // a test types from onConsole (the shell waits for a key). Give up once neither
    // happened for a while.
    idleRounds = text.length === before ? idleRounds + 1 : 0;
    if (session.busy === 0 && (!opts.onConsole || session.guest.exit !== null || idleRounds > 50)) break;
    if (session.busy === 0) opts.onConsole?.(text, host, session.guest, session);
    await new Promise((r) => setTimeout(r, 1));
  }
  return {
    console: text, end, exit: session.guest.exit, systemNs: host.xen.time.now(), hostMs: Date.now() - t0,
    ignored: cfg.ignored, xenLog,
  };
}

/** Toolstack operations a scenario's actions need, by the method name the harness calls. */
const ACTION_METHODS: Record<string, string> = {
  'save-restore': 'save', 'mem-set': 'memSet', 'expect-mem': 'domainInfo', shutdown: 'shutdown',
  reboot: 'shutdown', ping: 'dom0Ping', 'udp-echo': 'dom0UdpEcho', 'vcpu-times': 'vcpuList',
};

/** What the scenario needs that this tsxen lacks (empty: it can run). */
export function missingFor(api: TsxenApi, sc: Scenario): string[] {
  const missing: string[] = [];
  const cfg = api.xlMod.pvConfig(api.xlMod.parseXlConfig(`name="x"\nkernel="x"\n${sc.xl}`, sc.name));
  const host = new api.hostMod.Host({ memoryMiB: 16, clock: 'virtual' });
  api.storeMod?.ensureXenstored(host);
  const drivers = api.devMod === null ? null : 'wired by devices_wiring.ts'; // bootMinios wires them
  for (const key of ['disk', 'vif']) {
    if (cfg.ignored.includes(key)) missing.push(`the toolstack ignores ${key}= (no ${key === 'disk' ? 'blkback' : 'netback'} yet)`);
    else if (/^\s*(disk|vif)\s*=/m.test(sc.xl) && new RegExp(`^\\s*${key}\\s*=`, 'm').test(sc.xl) && (drivers === null || drivers === undefined)) {
      missing.push(`the host has no ${key === 'disk' ? 'blkback' : 'netback'} wired to its toolstack`);
    }
  }
  for (const a of sc.after) {
    const m = ACTION_METHODS[a.action];
    if (m && typeof host.toolstack[m] !== 'function') missing.push(`the toolstack has no ${m}() for "${a.action}"`);
  }
  return [...new Set(missing)];
}

/** Does the host give its toolstack a xenstored (domain homes, control/shutdown, memory targets)? */
export function hostHasXenstored(api: TsxenApi): boolean {
  if (api.storeMod === null) return false;
  const host = new api.hostMod.Host({ memoryMiB: 16, clock: 'virtual' });
  api.storeMod.ensureXenstored(host);
  return (host.toolstack as { store?: unknown }).store != null; // null until a xenstored is attached
}

export interface HypervisorProbe {
  /** GNTTABOP_setup_table worked (minios prints why not otherwise). */
  readonly grantTables: boolean;
  readonly console: string;
}

let probed: Promise<HypervisorProbe> | null = null;

/** Boot minios once with no commands to see what the hypervisor offers (cached). */
export function probeHypervisor(api: TsxenApi): Promise<HypervisorProbe> {
  probed ??= bootMinios(api, { xl: 'extra="cmd=\\"echo probe\\""\n' }).then((r) => ({
    grantTables: !/gnttab: GNTTABOP_setup_table.*no grant table/.test(r.console),
    console: r.console,
  }));
  return probed;
}

/** Does the scenario need grant tables (devices, or the grant self-test)? */
export function needsGrantTables(sc: Scenario): boolean {
  return /^\s*(disk|vif)\s*=/m.test(sc.xl) || /selftest gnttab/.test(sc.xl);
}
