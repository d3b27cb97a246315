/**
 * Debian's real xenstore-utils (libxenstore 4.x) against our socket, pointed at it with
 * XENSTORED_PATH (and XENSTORED_RUNDIR): the tools' outputs must be what they print
 * against Xen's own xenstored, and their effects must show in the store.
 *
 * Runs when the tools are installed (CI installs xenstore-utils); the daemon lives in this
 * process, so the tools are run asynchronously (a blocking spawn would stall the daemon).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import { daemon, socketFixture, type SocketFixture } from './harness.ts';

const HAVE_TOOLS = existsSync('/usr/bin/xenstore-ls') && existsSync('/usr/bin/xenstore-write');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let d: XenStored;
let dom0: XsLocalHandle;
let sock: SocketFixture;

function tool(name: string, args: string[], env: Record<string, string> = { XENSTORED_PATH: sock.path }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(`/usr/bin/${name}`, args, { env: { ...env, PATH: '/usr/bin:/bin' }, timeout: 10_000, encoding: 'latin1' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!HAVE_TOOLS)('Debian xenstore-utils against the tsxen xenstored socket', () => {
  beforeAll(async () => {
    ({ d, dom0 } = daemon());
    sock = await socketFixture(d);
  });
  afterAll(async () => {
    await sock?.close();
  });
  beforeEach(() => {
    for (const top of dom0.directory('/')) if (!['tool', 'local', 'vm'].includes(top)) dom0.rm(`/${top}`);
  });

  it('xenstore-write then xenstore-read, and the store agrees', async () => {
    expect((await tool('xenstore-write', ['/t/a', 'hello', '/t/b/c', 'x y z'])).code).toBe(0);
    expect(dom0.read('/t/a')).toBe('hello');
    expect(dom0.read('/t/b/c')).toBe('x y z');
    expect(dom0.read('/t/b')).toBe('');
    const r = await tool('xenstore-read', ['/t/a', '/t/b/c']);
    expect(r).toEqual({ code: 0, stdout: 'hello\nx y z\n', stderr: '' });
    expect((await tool('xenstore-read', ['-p', '/t/a'])).stdout).toBe('/t/a: hello\n');
  });

  it('xenstore-read of a missing node fails with the tool\'s message', async () => {
    const r = await tool('xenstore-read', ['/missing']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/couldn't read path \/missing/);
    expect(r.stdout).toBe('');
  });

  it('xenstore-ls prints the standard tree in creation order, with -p permissions', async () => {
    dom0.write('/t/one', '1');
    dom0.write('/t/two', 'second');
    dom0.setPerms('/t/two', ['n0', 'r5']);
    const r = await tool('xenstore-ls', ['-p', '/']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.replace(/ (\. )*\.? *\(/, ' (').replace(/ +\(/, ' ('));
    expect(lines).toEqual([
      'tool = "" (n0)',
      ' xenstored = "" (n0)',
      'local = "" (n0)',
      ' domain = "" (n0)',
      '  0 = "" (n0)',
      '   name = "Domain-0" (n0)',
      '   domid = "0" (n0)',
      'vm = "" (n0)',
      't = "" (n0)',
      ' one = "1" (n0)',
      ' two = "second" (n0,r5)',
      '',
    ]);
    const f = await tool('xenstore-ls', ['-f', '/t']);
    expect(f.stdout).toBe('/t/one = "1"\n/t/two = "second"\n');
  });

  it('xenstore-list and xenstore-exists', async () => {
    dom0.write('/t/x', '');
    dom0.write('/t/y', '');
    expect((await tool('xenstore-list', ['/t'])).stdout).toBe('x\ny\n');
    expect((await tool('xenstore-list', ['-p', '/t'])).stdout).toBe('/t/x\n/t/y\n');
    expect((await tool('xenstore-exists', ['/t/x'])).code).toBe(0);
    expect((await tool('xenstore-exists', ['/t/none'])).code).toBe(1);
  });

  it('xenstore-list of a directory larger than one message uses XS_DIRECTORY_PART', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `child-${String(i).padStart(4, '0')}-${'p'.repeat(30)}`);
    const t = dom0.transactionStart();
    for (const n of names) dom0.mkdir(`/t/big/${n}`, t);
    expect(dom0.transactionEnd(t, true)).toBe(true);
    const r = await tool('xenstore-list', ['/t/big']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(names);
  });

  it('xenstore-rm removes subtrees; -t tidies empty parents', async () => {
    dom0.write('/t/a/b/c', 'v');
    dom0.write('/t/keep', 'k');
    expect((await tool('xenstore-rm', ['/t/a/b'])).code).toBe(0);
    expect(dom0.directory('/t/a')).toEqual([]);
    dom0.write('/t/a/b/c', 'v');
    expect((await tool('xenstore-rm', ['-t', '/t/a/b/c'])).code).toBe(0);
    expect(dom0.directory('/t')).toEqual(['keep']);
    const r = await tool('xenstore-rm', ['/t/none/deeper']);
    expect(r.code).toBe(1);
  });

  it('xenstore-chmod sets permissions (and -r recursively)', async () => {
    dom0.write('/t/p/q', '');
    expect((await tool('xenstore-chmod', ['/t/p', 'n0', 'r5', 'w6', 'b7'])).code).toBe(0);
    expect(dom0.getPerms('/t/p')).toEqual(['n0', 'r5', 'w6', 'b7']);
    expect(dom0.getPerms('/t/p/q')).toEqual(['n0']);
    expect((await tool('xenstore-chmod', ['-r', '/t/p', 'b3'])).code).toBe(0);
    expect(dom0.getPerms('/t/p')).toEqual(['b3']);
    expect(dom0.getPerms('/t/p/q')).toEqual(['b3']);
    expect((await tool('xenstore-chmod', ['/t/p', 'x5'])).code).not.toBe(0);
  });

  it('xenstore-watch prints the initial event, then each change below the path', async () => {
    dom0.write('/t/w', '');
    const child = spawn('/usr/bin/xenstore-watch', ['-n', '3', '/t/w'], { env: { XENSTORED_PATH: sock.path } });
    let out = '';
    let waiter: (() => void) | undefined;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('latin1');
      waiter?.();
    });
    const lines = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`xenstore-watch printed only: ${JSON.stringify(out)}`)), 10_000);
        waiter = (): void => {
          if (out.split('\n').length > n) {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          }
        };
        waiter();
      });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await lines(1);
    dom0.write('/t/w/x', '1');
    await lines(2);
    dom0.rm('/t/w');
    expect(await exited).toBe(0);
    expect(out).toBe('/t/w\n/t/w/x\n/t/w\n');
  });

  it('XENSTORED_RUNDIR finds <rundir>/socket', async () => {
    dom0.write('/t/rundir', 'found');
    const r = await tool('xenstore-read', ['/t/rundir'], { XENSTORED_RUNDIR: sock.dir });
    expect(r.stdout).toBe('found\n');
    expect(join(sock.dir, 'socket')).toBe(sock.path);
  });

  it('values with control and high bytes: -R prints them raw', async () => {
    dom0.write('/t/bin', new Uint8Array([0x41, 0x01, 0x0a, 0xff]));
    const raw = await tool('xenstore-read', ['-R', '/t/bin']);
    expect([...Buffer.from(raw.stdout, 'latin1')]).toEqual([0x41, 0x01, 0x0a, 0xff]); // -R: no newline either
    const escaped = await tool('xenstore-read', ['/t/bin']);
    expect(escaped.stdout).toBe('A\\001\\n\\xff\n'); // libxenstore's sanitising escapes
  });
});
