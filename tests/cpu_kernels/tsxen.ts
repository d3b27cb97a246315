/**
 * Runs a bare-metal kernel on tsxen's bare runner through its command line, the contract
 * the CPU engineer publishes: `tsxen bare --kernel <elf> [--cmdline ...] [--memory MiB]`,
 * COM1 on stdout, exit status as QEMU's ((value written to port 0xf4) << 1 | 1), a
 * shutdown (triple fault) ending the run with status 0 as QEMU -no-reboot does, 2 for an
 * image it cannot load and 4 when it stopped the guest (limit, timeout, hlt with IF=0).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MEMORY_MIB } from './kernels.ts';
import type { RunResult } from './qemu.ts';

const BIN = fileURLToPath(new URL('../../bin/tsxen.mjs', import.meta.url));

let checked: string | null | undefined;
/** null when `tsxen bare` exists, else why the tsxen side cannot run yet. */
export function tsxenBareUnavailable(): string | null {
  if (checked !== undefined) return checked;
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  checked = /^\s*bare\b/m.test(r.stdout ?? '') ? null : 'the tsxen bare runner does not exist yet (`tsxen --help` lists no `bare`)';
  return checked;
}

export function runTsxen(elf: string, cmdline = '', timeoutMs = 120_000): Promise<RunResult> {
  // Virtual time (1 ns per retired instruction): the run is deterministic, so a kernel's
  // transcript and timing-dependent checks (PIT interrupts) repeat exactly.
  const args = [BIN, 'bare', '--kernel', elf, '--memory', String(MEMORY_MIB), '--clock', 'virtual',
    '--timeout', String(Math.max(1, Math.floor(timeoutMs / 1000) - 5))];
  if (cmdline) args.push('--cmdline', cmdline);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      const output = Buffer.concat(out).toString('latin1').replace(/\r/g, '');
      const stderr = Buffer.concat(err).toString('utf8');
      const exitValue = status !== null && (status & 1) === 1 ? status >> 1 : null;
      resolve({ output, status, exitValue, shutdown: status === 0, timedOut, stderr });
    });
  });
}
