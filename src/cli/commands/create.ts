/**
 * xl create: a domain from an xl.cfg file plus `KEY=VALUE` extra config lines.
 *
 * The config is parsed here first, so a bad file is reported (file:line: key: ...) without
 * touching any host. Then the domain is created on the running host; when none runs,
 * `create -c` boots one inside this process (serving the control socket while it runs,
 * so other `tsxen`/`xl` commands see it) and `create` without -c starts one in the
 * background. With -c the console is attached (the guest's output from its first byte)
 * and followed across reboots, and the command exits with the guest:
 *   0 poweroff, 1 crash or watchdog, 3 reboot (not restarted), 5 suspend,
 *   2 bad config or kernel, 4 stopped by tsxen (--timeout, or blocked with nothing left
 *   to wake it). Without -c it exits 0 once the domain runs.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Command } from '../command.ts';
import { flag, value, xlCommand } from '../xl_command.ts';
import { CliExit, commandHelp } from '../xl_opts.ts';
import { asCliExit, connectHost, PRIVATE_HOST_MESSAGE, tryConnectShared } from '../host_client.ts';
import { consoleSession } from '../console_session.ts';
import { err, out } from '../output.ts';
import { loadConfig, parseConfigText } from '../../dom0/toolstack/xl_load.ts';
import { dryRunDomainConfig, libxlJsonText } from '../../dom0/toolstack/libxl_json.ts';
import { XlError } from '../../dom0/toolstack/xl_error.ts';
import type { HostDaemon } from '../../host/daemon.ts';
import { hostPaths, type HostPaths } from '../../host/paths.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '../../dom0/api/client.ts';

export const STATUS_CONFIG = 2;
export const STATUS_STOPPED = 4;

const OPTIONS = `-h                      Print this help.
-p                      Leave the domain paused after it is created.
-c                      Connect to the console after the domain is created.
-f FILE, --defconfig=FILE
                     Use the given configuration file.
-q, --quiet             Quiet.
-n, --dryrun            Dry run - prints the resulting configuration
                         (deprecated in favour of global -N option).
-d                      Enable debug messages.
-F                      Run in foreground until death of the domain.
-e                      Do not wait in the background for the death of the domain.
-V, --vncviewer         Connect to the VNC display after the domain is created.
-A, --vncviewer-autopass
                        Pass VNC password to viewer via stdin.
tsxen, when no host runs and -c boots one in this process:
--clock host|virtual    guest time from the host clock, or from retired instructions
                        (1 ns each; deterministic; the default here)
--timeout SECONDS       stop the guest after this much host time (exit status 4)
--dmesg                 print the hypervisor console (xl dmesg) to stderr as it happens`;

const EXTRA = `Exit status with -c: 0 poweroff, 1 crash or watchdog, 3 reboot, 5 suspend,
2 bad config or kernel, 4 stopped by tsxen (timeout, or blocked for good).
  tsxen create -c guest.cfg
  tsxen create -c /dev/null kernel=guests/build/minios.elf memory=32 'extra="shell"'`;

function statusOf(reason: number): number {
  switch (reason) {
    case 0: return 0; // poweroff
    case 1: return 3; // reboot
    case 2: return 5; // suspend
    case 3: case 4: return 1; // crash, watchdog
    default: return STATUS_STOPPED;
  }
}

export const createCommand: Command = xlCommand({
  name: 'create', synopsis: '<ConfigFile> [options] [vars]', summary: 'Create a domain from config file <filename>',
  options: OPTIONS, extra: EXTRA,
  spec: {
    short: 'Fnqf:pcdeVAC:T:D',
    long: { dryrun: 'n', quiet: 'q', defconfig: 'f', vncviewer: 'V', 'vncviewer-autopass': 'A', clock: 'C', timeout: 'T', dmesg: 'D' },
  },
  async run(p, cmd) {
    let filename = value(p, 'f');
    const extra: string[] = [];
    for (const a of p.operands) {
      if (a.includes('=')) extra.push(a);
      else if (filename === undefined) filename = a;
      else throw new CliExit(STATUS_CONFIG, commandHelp(cmd));
    }
    if (filename === undefined) throw new CliExit(STATUS_CONFIG, '', 'Config file not specified (use /dev/null with KEY=VALUE arguments)\n');
    const clock = value(p, 'C') ?? 'virtual';
    if (clock !== 'host' && clock !== 'virtual') throw new CliExit(STATUS_CONFIG, '', `--clock ${clock}: use host or virtual\n`);
    const timeoutText = value(p, 'T');
    const timeoutS = timeoutText === undefined ? undefined : Number(timeoutText);
    if (timeoutS !== undefined && !(timeoutS > 0)) throw new CliExit(STATUS_CONFIG, '', `--timeout ${timeoutText} is not a positive number\n`);
    let text = '';
    if (filename !== '/dev/null') {
      try {
        text = readFileSync(filename, 'utf8');
      } catch (e) {
        throw new CliExit(STATUS_CONFIG, '', `Failed to read config file: ${filename}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
      }
    }
    if (!flag(p, 'q')) err(`Parsing config from ${filename}\n`);
    // Check everything locally first: a bad config never starts a host. A dry run, like
    // xl's, prints libxl's domain config as JSON without reading the kernel or any host.
    let loaded;
    try {
      loaded = flag(p, 'n') ? parseConfigText(text, filename, extra, process.cwd()) : loadConfig(text, filename, extra, process.cwd());
    } catch (e) {
      if (e instanceof XlError) throw new CliExit(STATUS_CONFIG, '', `${e.message}\n`);
      throw e;
    }
    for (const w of loaded.cfg.warnings) err(`${w}\n`);
    if (flag(p, 'V') || flag(p, 'A')) err('WARNING: no VNC display: PV guests here have no framebuffer\n');
    if (flag(p, 'n')) {
      out(`${libxlJsonText(dryRunDomainConfig(loaded.cfg))}\n`);
      return 0;
    }
    const attach = flag(p, 'c');
    const params = { config: text, source: filename, overrides: extra, cwd: process.cwd(), paused: flag(p, 'p') };
    const existing = await tryConnectShared();
    if (existing === 'private') {
      // Another command's private host (it ends with that command): do not put guests on it.
      if (attach) return createEmbedded(params, clock, timeoutS, flag(p, 'D'), privatePaths());
      throw new CliExit(1, '', `tsxen create: ${PRIVATE_HOST_MESSAGE}\n`);
    }
    if (existing === null && attach) return createEmbedded(params, clock, timeoutS, flag(p, 'D'), hostPaths());
    if (existing !== null && (value(p, 'C') !== undefined || flag(p, 'D'))) err('tsxen create: --clock and --dmesg apply to a host this command boots; a host already runs\n');
    const c = existing ?? await connectHost({ autostart: true });
    try {
      return await createOn(c, params, attach, timeoutS);
    } catch (e) {
      throw statusFor(asCliExit(e));
    } finally {
      c.close();
    }
  },
});

/** A create failure on the host is a config/kernel failure for create's exit status. */
function statusFor(e: unknown): unknown {
  return e instanceof CliExit && e.status === 1 ? new CliExit(STATUS_CONFIG, e.out, e.err) : e;
}

interface CreateParams {
  readonly config: string;
  readonly source: string;
  readonly overrides: string[];
  readonly cwd: string;
  readonly paused: boolean;
}

async function createOn(c: ApiClient, params: CreateParams, attach: boolean, timeoutS?: number): Promise<number> {
  // With -c the domain starts paused until the console is attached (no output is lost).
  const r = await c.call<{ domid: number; name: string }>('create', { ...params, paused: params.paused || attach });
  if (!attach) return 0;
  let timedOut = false;
  const timer = timeoutS !== undefined ? setTimeout(() => {
    timedOut = true;
    c.call('destroy', { domain: String(r.domid) }).catch(() => undefined);
  }, timeoutS * 1000) : undefined;
  try {
    const session = consoleSession(c, String(r.domid), { replay: 1 << 30, follow: true, input: process.stdin.isTTY === true });
    session.catch(() => undefined); // awaited below; errors surface there
    if (!params.paused) await c.call('unpause', { domain: String(r.domid) });
    const end = await session;
    if (timedOut) {
      err(`tsxen create: stopped ${r.name} after ${timeoutS} s (--timeout)\n`);
      return STATUS_STOPPED;
    }
    if (end === null) return 0; // detached: the guest runs on
    return end.action === 'destroyed' && end.reason < 0 ? STATUS_STOPPED : statusOf(end.reason);
  } finally {
    clearTimeout(timer);
  }
}

/** A run directory of our own (another command's private host holds the shared one). */
function privatePaths(): HostPaths {
  return hostPaths({ ...process.env, TSXEN_SOCKET: undefined, TSXEN_RUNDIR: join(tmpdir(), `tsxen-create-${process.pid}-${Date.now()}`) });
}

/** No host runs: boot one here, serve the socket while the guest lives, then stop. */
async function createEmbedded(params: CreateParams, clock: 'host' | 'virtual', timeoutS: number | undefined, dmesg: boolean,
  paths: HostPaths): Promise<number> {
  let blocked = false;
  // Loaded here: the hypervisor and dom0 are not needed by commands that talk to a daemon.
  const [{ HostDaemon: Daemon }, { domInfo }] = await Promise.all([import('../../host/daemon.ts'), import('../../dom0/toolstack/xc_domain.ts')]);
  let daemon: HostDaemon | null = null;
  daemon = await Daemon.start({
    clock, paths, embedded: true, xenLog: dmesg ? (l) => void process.stderr.write(`${l}\n`) : undefined,
    onIdle: () => {
      // Virtual time: nothing can ever happen again unless someone types.
      if (process.stdin.isTTY === true || daemon === null) return;
      const live = [...daemon.host.toolstack.guests].filter((g) => g.exit === null && !g.preserved);
      // Paused guests wait for an unpause, not for time: that is not "blocked".
      if (live.length === 0 || live.some((g) => domInfo(daemon!.host.xc, g.domid)?.paused !== false)) return; // non-null: checked above
      blocked = true;
      for (const g of live) daemon.host.toolstack.destroy(g.domid);
    },
  });
  const c = await connectHost({ paths });
  try {
    const name = params.source;
    const status = await createOn(c, params, true, timeoutS).catch((e: unknown) => {
      throw statusFor(asCliExit(e));
    });
    if (blocked) {
      err(`tsxen create: the guest from ${name} is blocked with nothing left to wake it\n`);
      return STATUS_STOPPED;
    }
    return status;
  } finally {
    c.close();
    await daemon.stop();
    if (paths.runDir !== hostPaths().runDir) rmSync(paths.runDir, { recursive: true, force: true });
  }
}
