/** `tsxen xenstored`: the daemon alone on a socket, reachable by Debian's xenstore-utils. */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/tsxen.mjs', import.meta.url));
const HAVE_TOOLS = existsSync('/usr/bin/xenstore-read');

function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { PATH: '/usr/bin:/bin', ...env }, timeout: 10_000 }, (e, out) => (e ? reject(e) : resolve(out))));
}

describe.skipIf(!HAVE_TOOLS)('tsxen xenstored', () => {
  it('serves the socket until SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsxen-xscli-'));
    const sock = join(dir, 'socket');
    const child = spawn(process.execPath, [BIN, 'xenstored', '--socket', sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('listening')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      expect(out).toContain(`export XENSTORED_PATH=${sock}`);
      await run('/usr/bin/xenstore-write', ['/cli/x', 'hello'], { XENSTORED_PATH: sock });
      expect(await run('/usr/bin/xenstore-read', ['/cli/x', '/local/domain/0/name'], { XENSTORED_PATH: sock })).toBe('hello\nDomain-0\n');
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
