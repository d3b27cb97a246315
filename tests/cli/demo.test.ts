/**
 * `tsxen demo --once` (what `npm start` runs, minus the waiting): a host in the process,
 * two minios domains on xenbr0 that ping the gateway and each other, their consoles
 * interleaved and tagged, `xl list`, then the guests shut down and the host stops.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from './xl_host.ts';

describe('tsxen demo', () => {
  it('boots two minios on the bridge that reach the gateway and each other, lists them, and cleans up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsxen-demo-'));
    try {
      const r = spawnSync(process.execPath, [BIN, 'demo', '--once'], {
        env: { ...process.env, TSXEN_RUNDIR: dir, TSXEN_SOCKET: undefined, NO_COLOR: '1' }, encoding: 'utf8', timeout: 170_000,
      });
      expect(r.status, r.stderr).toBe(0);
      for (const [me, peer] of [['1', '16'], ['2', '15']]) {
        expect(r.stdout).toMatch(new RegExp(`^\\[demo-${me}\\] OK ping 10\\.0\\.2\\.2 sent=2 received=2`, 'm'));
        expect(r.stdout).toMatch(new RegExp(`^\\[demo-${me}\\] OK ping 10\\.0\\.2\\.${peer} sent=2 received=2`, 'm'));
        expect(r.stdout).toMatch(new RegExp(`^\\[demo-${me}\\] minios shell: type help for commands`, 'm'));
      }
      expect(r.stdout).toMatch(/^\$ xl list\nName +ID +Mem VCPUs\tState\tTime\(s\)\nDomain-0 +0 .*\ndemo-1 +1 +32 +1 .*\ndemo-2 +2 +32 +2 /m);
      expect(r.stderr).toContain('tsxen demo: host stopped');
      expect(readdirSync(dir)).toEqual([]); // socket, pid file: gone
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
