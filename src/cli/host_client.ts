/**
 * How a command reaches the host: connect to the daemon's socket (src/host/paths.ts), or,
 * for commands that need a host to exist (create, restore), start one in the background
 * first, so a single command works on a fresh machine. Other commands say that no host
 * runs and how to start one.
 *
 * API failures become CliExit with the host's message (xl's wording) and exit status.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../dom0/api/client.ts';
import { ApiError } from '../dom0/api/protocol.ts';
import { hostPaths, type HostPaths } from '../host/paths.ts';
import { CliExit } from './xl_opts.ts';

export const BIN = fileURLToPath(new URL('../../bin/tsxen.mjs', import.meta.url));

function noHost(paths: HostPaths): CliExit {
  return new CliExit(1, '', `tsxen: no host is running (nothing answers on ${paths.socket});\n`
    + '  start one with \'tsxen host start\' (\'tsxen create\' and \'tsxen restore\' start one themselves)\n');
}

function isNoHost(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
}

export async function tryConnect(paths = hostPaths()): Promise<ApiClient | null> {
  try {
    return await ApiClient.connect(paths.socket);
  } catch (e) {
    if (isNoHost(e)) return null;
    throw e;
  }
}

/** Start a detached daemon (`tsxen host run`) and wait until it answers. */
export async function startHostInBackground(paths: HostPaths, extraArgs: readonly string[] = [], timeoutMs = 30_000): Promise<number> {
  mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
  const log = openSync(paths.logFile, 'a', 0o600);
  const child = spawn(process.execPath, [BIN, 'host', 'run', ...extraArgs], {
    detached: true, stdio: ['ignore', log, log], env: process.env,
  });
  closeSync(log);
  child.unref();
  const pid = child.pid ?? 0;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  const t0 = Date.now();
  for (;;) {
    const c = await tryConnect(paths);
    if (c !== null) {
      c.close();
      return pid;
    }
    if (exited !== null) throw new CliExit(1, '', `tsxen: the host failed to start (exit ${exited}); see ${paths.logFile}\n`);
    if (Date.now() - t0 > timeoutMs) throw new CliExit(1, '', `tsxen: the host did not start within ${timeoutMs / 1000} s; see ${paths.logFile}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ConnectOptions {
  /** Start a background host when none runs. */
  readonly autostart?: boolean;
  readonly quiet?: boolean;
  readonly paths?: HostPaths;
}

export async function connectHost(opts: ConnectOptions = {}): Promise<ApiClient> {
  const paths = opts.paths ?? hostPaths();
  const c = await tryConnect(paths);
  if (c !== null) return c;
  if (!opts.autostart) throw noHost(paths);
  const pid = await startHostInBackground(paths);
  if (!opts.quiet) process.stderr.write(`tsxen: started a host in the background (pid ${pid}, ${paths.socket})\n`);
  const c2 = await tryConnect(paths);
  if (c2 === null) throw noHost(paths);
  return c2;
}

/** The running host belongs to one `create -c` and ends with its guest: no other guests go there. */
export const PRIVATE_HOST_MESSAGE = 'the running host belongs to another \'tsxen create -c\' (it stops with that guest);'
  + ' start a shared one with \'tsxen host start\'';

/**
 * A connection to a host that takes new guests (create, restore), or null when none runs.
 * A host embedded in a `create -c` is closed over and reported as `private`.
 */
export async function tryConnectShared(paths = hostPaths()): Promise<ApiClient | 'private' | null> {
  const c = await tryConnect(paths);
  if (c === null) return null;
  if (!(await c.call<{ embedded: boolean }>('host.status')).embedded) return c;
  c.close();
  return 'private';
}

/** Run `fn` with a connection; API errors become the command's exit (xl's message). */
export async function withHost<T>(fn: (c: ApiClient) => Promise<T>, opts: ConnectOptions = {}): Promise<T> {
  const c = await connectHost(opts);
  try {
    return await fn(c);
  } catch (e) {
    throw asCliExit(e);
  } finally {
    c.close();
  }
}

/**
 * Follow a stream until it ends or Ctrl-C cancels it; API errors become the command's exit.
 * The connection is closed either way.
 */
export async function followStream(c: ApiClient, stream: { readonly done: Promise<unknown>; cancel(): void }): Promise<void> {
  const stop = (): void => stream.cancel();
  process.once('SIGINT', stop);
  try {
    await stream.done;
  } catch (e) {
    throw asCliExit(e);
  } finally {
    process.off('SIGINT', stop);
    c.close();
  }
}

export function asCliExit(e: unknown): unknown {
  if (e instanceof ApiError) return new CliExit(e.exitCode, '', e.message.endsWith('\n') ? e.message : `${e.message}\n`);
  return e;
}
