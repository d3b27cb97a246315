/**
 * `tsxen console <domain>` on a terminal, as a user runs it: the command runs on a real
 * pseudo-terminal (util-linux `script` gives it one, so stdin is a TTY in raw mode), keys
 * reach the guest's PV console through dom0's console backend, the guest's output comes
 * back, and Ctrl-] (0x1d) detaches — the command exits 0, nothing typed after the escape
 * in the same read reaches the guest, and the guest keeps running, so a second attach
 * works again.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, MINIOS, TestHost, eventually } from '../cli/xl_host.ts';

const SCRIPT = '/usr/bin/script';
const HAVE = existsSync(SCRIPT) && existsSync(MINIOS) &&
  spawnSync(SCRIPT, ['-qec', 'true', '/dev/null'], { stdio: 'ignore' }).status === 0;

/** Run `tsxen console <dom>` on a pty; returns helpers to type and to wait for output. */
function attach(h: TestHost, dom: string) {
  const child = spawn(SCRIPT, ['-qec', `${process.execPath} ${BIN} console ${dom}`, '/dev/null'],
    { env: h.env, cwd: h.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.stdin.on('error', () => {}); // typing after the console detached: the exit status tells
  return {
    type: (s: string): void => void child.stdin.write(s),
    output: (): string => out,
    exited,
    kill: (): void => void child.kill('SIGKILL'),
  };
}

async function waitFor(f: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!HAVE)('tsxen console on a terminal: Ctrl-] detaches', () => {
  const h = new TestHost();
  beforeAll(async () => {
    await h.start('--no-net');
    const cfg = h.cfg('con', `name = "con"\nkernel = "${MINIOS}"\nmemory = 32\nextra = "cmd=\\"shell\\""\n`);
    expect(h.xl('create', cfg).status).toBe(0);
    await eventually(() => h.xl('console', '--dump', 'con').stdout.includes('minios> '), 'the guest\'s shell');
  }, 120_000);
  afterAll(async () => {
    h.xl('destroy', 'con');
    await h.stop();
  }, 60_000);

  it('types into the guest, detaches on Ctrl-], drops what follows the escape, leaves the guest running', async () => {
    const a = attach(h, 'con');
    try {
      // The banner, then the replayed output: the session is attached.
      await waitFor(() => a.output().includes('Ctrl-] detaches') && a.output().includes('minios> '), 'the attach and replay');
      a.type('echo typed-on-a-tty\r');
      await waitFor(() => a.output().includes('typed-on-a-tty\r\n') || a.output().split('typed-on-a-tty').length > 2,
        'the guest to echo the command');
      // The escape, then keys that must not reach the guest.
      a.type('echo after-escape\x1dXYZ\r');
      expect(await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('still attached'), 30_000))])).toBe(0);
    } finally {
      a.kill();
    }
    const list = h.xl('list', 'con');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/\ncon\s+\d+/);
    // The guest got "echo after-escape" (before the escape) but no Enter: finishing the
    // line from a second session runs it, proving the session and the guest are intact.
    const b = attach(h, 'con');
    try {
      await waitFor(() => b.output().includes('Ctrl-] detaches') && b.output().includes('minios> echo after-escape'),
        'the second attach and its replay');
      b.type('-2\r');
      // The command's output line (not the echo of the typed line, which has "echo ").
      await waitFor(() => /(^|\n)after-escape-2\r*\n/.test(b.output()), 'the guest to run the finished line');
      b.type('\x1d');
      expect(await b.exited).toBe(0);
    } finally {
      b.kill();
    }
    const log = h.xl('console', '--dump', 'con').stdout;
    expect(log).not.toContain('\x1d');
    expect(log).not.toContain('XYZ');
  }, 120_000);
});
