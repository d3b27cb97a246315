/**
 * "An acknowledged write survives a kill -9 of the host process": a child process runs a
 * whole host (durability_child.ts) whose frontend streams numbered blocks to a disk image;
 * the parent SIGKILLs it in the middle of the stream and checks every block the child
 * reported acknowledged. A backend that answered before pwrite(2) returned would lose some.
 */
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./durability_child.ts', import.meta.url));
const BLOCK = 8 * 4096;

function blockOk(data: Buffer, b: number): boolean {
  for (let w = 0; w < BLOCK / 4; w++) if (data.readUInt32LE(b * BLOCK + w * 4) !== ((b * 0x10000 + w) >>> 0)) return false;
  return true;
}

describe('durability', () => {
  it.each([40, 150, 400])('SIGKILL after %i acknowledged blocks: every acknowledged block is in the image', async (killAfter) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsxen-kill9-'));
    try {
      const img = join(dir, 'disk.img');
      const fd = openSync(img, 'w');
      ftruncateSync(fd, 64 << 20);
      closeSync(fd);
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, img, '2048'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const acked = new Set<number>();
      let errText = '';
      let buf = '';
      let killed = false;
      child.stderr.on('data', (d: Buffer) => { errText += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(sig === 'SIGKILL' ? -9 : code)));
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = /^ACK (\d+)$/.exec(line);
          if (m && !killed) acked.add(Number(m[1]));
          if (!killed && acked.size >= killAfter) {
            killed = true;
            child.kill('SIGKILL');
          }
        }
      });
      const code = await exited;
      expect(code, errText.slice(-2000)).toBe(-9);
      expect(acked.size).toBeGreaterThanOrEqual(killAfter);
      const data = readFileSync(img);
      const lost = [...acked].filter((b) => !blockOk(data, b));
      expect(lost).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
