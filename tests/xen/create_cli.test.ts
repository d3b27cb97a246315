/**
 * `tsxen create -c`, end to end in a child process: the guest's console on stdout and the
 * exit status from its shutdown reason (0 poweroff, 1 crash, 2 bad config or kernel).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const KERNEL = (name: string): string => join(ROOT, 'guests', 'build', `pv-${name}.elf`);

// A run dir of our own: a host daemon someone else runs on this machine must not be the
// one `create` finds (it would attach to it instead of booting its embedded host).
const RUNDIR = mkdtempSync(join(tmpdir(), 'tsxen-create-test-'));

function create(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, TSXEN_RUNDIR: RUNDIR };
  delete env.TSXEN_SOCKET;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'tsxen.mjs'), 'create', ...args], {
    cwd: ROOT, encoding: 'latin1', timeout: 120_000, env,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tsxen create', () => {
  it.skipIf(!existsSync(KERNEL('xen_version')))('prints the console and exits 0 on poweroff', () => {
    const r = create('-c', '/dev/null', `kernel=${KERNEL('xen_version')}`, 'memory=32');
    expect(r.stdout).toMatch(/Test result: SUCCESS/);
    expect(r.status).toBe(0);
  }, 120_000);

  it.skipIf(!existsSync(KERNEL('no_trap_handler')))('exits 1 when the guest crashes', () => {
    const r = create('-c', '/dev/null', `kernel=${KERNEL('no_trap_handler')}`, 'memory=32', '--dmesg');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/domain crashed/);
  }, 120_000);

  it('exits 2 on a bad config or kernel', () => {
    expect(create('/dev/null', 'memory=32').status).toBe(2);
    expect(create('/dev/null', 'kernel=/nonexistent.elf').status).toBe(2);
    expect(create('/dev/null', `kernel=${join(ROOT, 'package.json')}`).status).toBe(2);
  }, 60_000);
});
