/**
 * A Linux network namespace on xenbr0 through a TAP device, for testing the gateway
 * against the host kernel's real TCP/IP stack. Needs root, /dev/net/tun, iproute2 and gcc
 * (tools/net/tap_relay.c is built into build/net on first use); netnsUnavailable() says
 * which one is missing so the tests can skip with the reason.
 *
 * Cleanup is unconditional: close() ends the helper (the TAP goes with it) and deletes the
 * namespace, killing whatever the test left running inside.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bridge } from '../../src/dom0/net/bridge.ts';
import { TapPort } from '../../src/dom0/net/tap_port.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const RELAY_SRC = join(ROOT, 'tools/net/tap_relay.c');
export const RELAY_BIN = join(ROOT, 'build/net/tap_relay');

const which = (cmd: string): boolean => {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
};

/** Why the namespace tests cannot run here, or null if they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces and TAP devices need CAP_NET_ADMIN)';
  try { accessSync('/dev/net/tun', constants.R_OK | constants.W_OK); } catch { return '/dev/net/tun is not available'; }
  if (!which('ip')) return 'iproute2 (ip) is not installed';
  if (!which('gcc') && !existsSync(RELAY_BIN)) return 'gcc is not installed (needed to build tools/net/tap_relay.c)';
  return null;
}

export function buildRelay(): string {
  if (!existsSync(RELAY_BIN) || statSync(RELAY_BIN).mtimeMs < statSync(RELAY_SRC).mtimeMs) {
    mkdirSync(dirname(RELAY_BIN), { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', RELAY_BIN, RELAY_SRC]);
  }
  return RELAY_BIN;
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/** Run a command in the namespace; resolves with stdout, rejects with stderr on failure. */
export function nsExec(ns: string, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (code, sig) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} in ${ns} failed (${code ?? sig}): ${err.trim() || out.trim()}`));
    });
    // A command that exits without reading its input (ping) closes the pipe first: the
    // EPIPE is no failure of ours, and the exit status above tells how the command went.
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
  });
}

export class NetnsGuest {
  private constructor(readonly ns: string, readonly ifname: string, readonly tap: TapPort) {}

  /** Create the namespace and its TAP on `bridge`, link up (no address yet). */
  static async create(bridge: Bridge, tag: string): Promise<NetnsGuest> {
    const ns = `tsxen-${tag}-${process.pid}`;
    const ifname = `tsx${tag.slice(0, 4)}${process.pid % 10000}`;
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not there: fine */ }
    ip('netns', 'add', ns);
    let tap: TapPort | undefined;
    try {
      tap = await TapPort.open(buildRelay(), ifname, bridge);
      ip('link', 'set', ifname, 'address', '52:54:00:ab:cd:ef');
      ip('link', 'set', ifname, 'netns', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', ifname, 'up');
      return new NetnsGuest(ns, ifname, tap);
    } catch (e) {
      await tap?.close();
      try { ip('netns', 'del', ns); } catch { /* best effort */ }
      throw e;
    }
  }

  exec(argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<string> {
    return nsExec(this.ns, argv, opts);
  }

  async close(): Promise<void> {
    await this.tap.close();
    try { ip('netns', 'del', this.ns); } catch { /* already gone */ }
  }
}
