/**
 * Running the CLI as users do, against a real host daemon: `tsxen host run` spawned in a
 * private run directory (TSXEN_RUNDIR), commands run as child processes of bin/tsxen.mjs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'tsxen.mjs');
export const MINIOS = join(ROOT, 'guests', 'build', 'minios.elf');

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class TestHost {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsxen-cli-'));
  private _proc: ChildProcess | null = null;
  log = '';

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, TSXEN_RUNDIR: this.dir, TSXEN_SOCKET: undefined, NO_COLOR: '1' };
  }

  /** Spawn `tsxen host run` and wait until its socket answers `host status`. */
  async start(...args: string[]): Promise<void> {
    this._proc = spawn(process.execPath, [BIN, 'host', 'run', ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this._proc.stdout!.on('data', (d) => (this.log += String(d))); // piped above
    this._proc.stderr!.on('data', (d) => (this.log += String(d)));
    for (let i = 0; i < 300; i++) {
      if (existsSync(join(this.dir, 'control.sock')) && this.xl('host', 'status').status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the host did not start:\n${this.log}`);
  }

  xl(...args: string[]): Run {
    return this.xlInput(undefined, ...args);
  }

  xlInput(input: string | undefined, ...args: string[]): Run {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [BIN, ...args], { env: this.env, encoding: 'utf8', input, timeout: 120_000, cwd: this.dir });
    if (process.env.TSXEN_CLI_TIMES) console.log(`${Date.now() - t0} ms: xl ${args.join(' ')}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** A config file in the run directory. */
  cfg(name: string, text: string): string {
    const p = join(this.dir, `${name}.cfg`);
    writeFileSync(p, text);
    return p;
  }

  file(name: string): string {
    return readFileSync(join(this.dir, name), 'utf8');
  }

  async stop(): Promise<void> {
    const p = this._proc;
    if (p !== null && p.exitCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll `f` (a CLI check) until it holds or ~20 s pass. */
export async function eventually(f: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
