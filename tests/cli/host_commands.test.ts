/**
 * The host daemon as a user meets it, each in a fresh run directory: `tsxen host start`
 * (background), `status` (text and --json), a second `start`, `stop` refusing with guests
 * and `stop --force`; `create` on a machine with no host starting one in the background;
 * `--help` on every xl command (xl's usage text, exit 0, no host needed); `create -n` and
 * global `-N` (libxl's JSON, nothing created, -N refused by other commands); the demo host
 * (what `npm start` runs) taking guests created from another terminal, as its "what to try
 * next" says; and the private host of a `create -c`, which neither create nor restore may
 * put another guest on (it stops with its guest).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XL_COMMANDS } from '../../src/cli/commands.ts';
import { BIN, eventually, MINIOS, TestHost } from './xl_host.ts';

function minios(h: TestHost, name: string, cmd = 'shell'): string {
  return h.cfg(name, `name = "${name}"\nkernel = "${MINIOS}"\nmemory = 16\nextra = "cmd=\\"${cmd}\\""\n`);
}

describe('the host daemon and its commands', () => {
  it('host start/status/stop in the background, and create starting a host on a fresh machine', async () => {
    const h = new TestHost();
    try {
      expect(h.xl('host', 'status')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^tsxen: no host is running/) });
      const st = h.xl('host', 'start', '--memory', '64', '--no-net');
      expect(st.status, st.stderr).toBe(0);
      expect(st.stderr).toMatch(/^tsxen: host started \(pid \d+\); socket .*control\.sock; log .*host\.log\n$/);
      expect(h.xl('host', 'start').stderr).toMatch(/^tsxen: a host is already running \(pid \d+/);
      const text = h.xl('host', 'status');
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/^ {2}memory +64 MiB total, \d+ MiB free$/m);
      const js = JSON.parse(h.xl('host', 'status', '--json').stdout) as { embedded: boolean; pid: number };
      expect(js.embedded).toBe(false);
      expect(h.xl('create', minios(h, 'bg')).status).toBe(0);
      expect(h.xl('host', 'stop')).toMatchObject({ status: 1, stderr: expect.stringMatching(/1 domain is still running \(bg\)/) });
      expect(h.xl('host', 'stop', '--force')).toMatchObject({ status: 0, stderr: `tsxen: host stopped (pid ${js.pid})\n` });
      expect(existsSync(join(h.dir, 'control.sock'))).toBe(false);

      // No host: create starts one in the background and the guest runs there.
      const c = h.xl('create', minios(h, 'auto'));
      expect(c.status, c.stderr).toBe(0);
      expect(c.stderr).toMatch(/^tsxen: started a host in the background \(pid \d+, .*control\.sock\)$/m);
      expect(h.xl('list', 'auto').stdout).toMatch(/^auto +\d+ +16 +1 /m);
    } finally {
      h.xl('host', 'stop', '--force');
      await h.stop();
    }
  }, 120_000);

  it('--help on every xl command prints xl\'s usage and exits 0 without a host', () => {
    const h = new TestHost();
    try {
      for (const cmd of XL_COMMANDS) {
        const r = h.xl(cmd.name, '--help');
        expect(r.status, `${cmd.name} --help: ${r.stderr}`).toBe(0);
        expect(r.stdout, cmd.name).toMatch(new RegExp(`^Usage: xl \\[-v\\] ${cmd.name}\\b[^]*?\n\n${cmd.summary.replace(/[()]/g, '\\$&')}`));
      }
      for (const name of ['create', 'list', 'vcpu-pin']) expect(h.xl(name, '-h').stdout, `${name} -h`).toBe(h.xl(name, '--help').stdout);
    } finally {
      void h.stop();
    }
  }, 120_000);

  it('create -n and global -N: libxl\'s domain config as JSON, no kernel read, no host started; -N elsewhere refused', () => {
    const h = new TestHost();
    try {
      const cfg = h.cfg('dry', 'name = "dry"\nkernel = "missing.elf"\nmemory = 24\nmaxmem = 32\nvcpus = 2\ncpu_weight = 300\n'
        + "vif = [ 'mac=00:16:3e:00:00:07' ]\non_crash = 'rename-restart'\n");
      for (const args of [['create', '-n', cfg], ['-N', 'create', cfg]]) {
        const r = h.xl(...args);
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({
          c_info: { type: 'pv', name: 'dry', run_hotplug_scripts: 'True' },
          b_info: { max_vcpus: 2, avail_vcpus: [0, 1], max_memkb: 32768, target_memkb: 24576, sched_params: { weight: 300 },
            'type.pv': { kernel: join(h.dir, 'missing.elf') } },
          nics: [{ devid: 0, mac: '00:16:3e:00:00:07', bridge: 'xenbr0', script: 'vif-bridge', nictype: 'vif' }],
          on_poweroff: 'destroy', on_reboot: 'restart', on_watchdog: 'destroy', on_crash: 'restart_rename', on_soft_reset: 'soft_reset',
        });
      }
      expect(existsSync(join(h.dir, 'control.sock'))).toBe(false);
      expect(h.xl('-N', 'destroy', 'dry')).toMatchObject({ status: 1, stderr: 'command does not implement -N (dryrun) option\n' });
    } finally {
      void h.stop();
    }
  }, 60_000);

  it('the demo host takes guests created from another terminal', async () => {
    const h = new TestHost();
    const demo = spawn(process.execPath, [BIN, 'demo'], { env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    demo.stdout.on('data', (d) => (log += String(d)));
    demo.stderr.on('data', (d) => (log += String(d)));
    const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    try {
      await eventually(() => log.includes('What to try next'), 'the demo to be up');
      const c = h.xl('create', minios(h, 'mine'));
      expect(c.status, c.stderr).toBe(0);
      expect(h.xl('list').stdout).toMatch(/^demo-1 .*\ndemo-2 .*\nmine +3 +16 /m);
      expect(h.xl('host', 'stop', '--force').status).toBe(0);
      expect(await exited).toBe(0);
      expect(log).toContain('tsxen demo: host stopped');
    } finally {
      if (demo.exitCode === null) demo.kill('SIGINT');
      await h.stop();
    }
  }, 180_000);

  it('create and restore put no guest on the private host of a create -c', async () => {
    const h = new TestHost();
    const owner = spawn(process.execPath, [BIN, 'create', '-c', '--clock', 'host', minios(h, 'owner')], {
      env: h.env, cwd: h.dir, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => owner.once('exit', (code) => r(code)));
    try {
      await eventually(() => existsSync(join(h.dir, 'control.sock')) && h.xl('list', 'owner').status === 0, 'the create -c host');
      expect(JSON.parse(h.xl('host', 'status', '--json').stdout)).toMatchObject({ embedded: true });
      const msg = /the running host belongs to another 'tsxen create -c' \(it stops with that guest\); start a shared one with 'tsxen host start'/;
      expect(h.xl('create', minios(h, 'other'))).toMatchObject({ status: 1, stderr: expect.stringMatching(msg) });
      expect(h.xl('restore', 'any.save')).toMatchObject({ status: 1, stderr: expect.stringMatching(new RegExp(`^tsxen restore: ${msg.source}`)) });
      expect(h.xl('list').stdout).not.toMatch(/^other /m);
      // The guest's end ends the command (destroyed by someone else: xl's status for it).
      expect(h.xl('destroy', 'owner').status).toBe(0);
      expect(await exited).not.toBeNull();
    } finally {
      if (owner.exitCode === null) owner.kill('SIGTERM');
      await h.stop();
    }
  }, 120_000);
});
