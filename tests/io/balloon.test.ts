/**
 * Ballooning with I/O: a minios guest with a disk and a vif balloons down, another domain
 * is created in the memory it gave back (which could not be created before) and talks to
 * it on xenbr0; the first is asked to grow back while that domain still holds the memory
 * (Xen gives only part of it) and grows the rest by itself, retrying, once the other
 * domain has gone. Its memory test pattern and its disk data survive all of it, and
 * nothing leaks.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditMemory } from '../../src/xen/audit.ts';
import { parseMiniosConsole } from '../minios/console_log.ts';
import { IoHost, type IoGuest } from '../../bench/blk_io_host.ts';

const GUESTS = new URL('../../guests/', import.meta.url).pathname;
let dir = '';
beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS, 'minios'], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'tsxen-balloon-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('balloon', () => {
  it('down, another domain takes the freed memory meanwhile, up again; data and I/O intact', async () => {
    const img = join(dir, 'a.img');
    const fd = openSync(img, 'w');
    ftruncateSync(fd, 8 << 20);
    closeSync(fd);
    const io = await IoHost.withNet({ memoryMiB: 144 });
    const freeMiB = (): number => {
      const p = io.host.xc.physinfo();
      if (typeof p === 'number') throw new Error(`physinfo ${p}`);
      return Math.floor(p.freePages / 256);
    };
    const a = io.create({
      name: 'balloon', memoryMiB: 64, disks: [{ target: img, vdev: 'xvda' }], vifs: [{ mac: '00:16:3e:00:03:01' }],
      extra: 'ip=10.0.2.15 gw=10.0.2.2 cmd="memtest fill 8 3; disk write 0 256 5; balloon wait 24576 120; mem; memtest verify; ' +
        'sleep 3; ping 10.0.2.16 3; balloon wait 65536 600; mem; memtest verify; disk verify 0 256 5; disk write 300 64 6"',
    });
    await io.run(() => a.text.includes('> balloon wait 24576'), { timeoutMs: 60_000 });
    const before = freeMiB();
    const bigger = before + 16;
    expect(() => io.create({ name: 'too-big', memoryMiB: bigger, extra: 'cmd="echo no"' }), `${bigger} MiB with ${before} free`).toThrow();
    io.xs.write(`/local/domain/${a.domid}/memory/target`, String(24576));
    await io.run(() => a.text.includes('OK balloon wait current_pages=6144'), { timeoutMs: 60_000 });
    const freed = freeMiB() - before;
    expect(freed).toBeGreaterThanOrEqual(38);
    // The other domain fits now, in (most of) the memory the first one gave back.
    let b: IoGuest | null = null;
    b = io.create({
      name: 'taker', memoryMiB: bigger, vifs: [{ mac: '00:16:3e:00:03:02' }],
      extra: 'ip=10.0.2.16 gw=10.0.2.2 cmd="net serve 15; mem"',
    });
    // xl mem-set 64 while the taker still holds the memory: Xen gives only part of it.
    await io.run(() => b!.text.includes('> net serve'), { timeoutMs: 60_000 });
    io.xs.write(`/local/domain/${a.domid}/memory/target`, String(65536));
    await io.run(() => a.text.includes('balloon: populate_physmap gave'), { timeoutMs: 60_000 });
    expect(b.exited, a.text.slice(-800)).toBe(false);
    expect(await io.run(() => b!.exited, { timeoutMs: 120_000 })).toBe('done');
    // The taker gave its memory back: the first guest grows into it again by itself (its
    // balloon retries; nobody writes the target again).
    const endA = await io.run(() => a.exited, { timeoutMs: 180_000 });
    expect(endA, `${a.text.slice(-800)} free=${freeMiB()}`).toBe("done");
    const ra = parseMiniosConsole(a.text), rb = parseMiniosConsole(b.text);
    expect(rb.verdict, b.text.slice(-1500)).toBe('SUCCESS');
    expect(ra.verdict, a.text.slice(-2500) + `\n${a.exited} ${a.guest.exit?.reason}`).toBe('SUCCESS');
    expect(ra.results.find((r) => r.what === 'ping 10.0.2.16')?.fields.received).toBe('3');
    expect(rb.results.find((r) => r.what === 'net serve')?.fields.icmp_answered).toBe('3');
    const mems = ra.results.filter((r) => r.what === 'mem').map((r) => r.fields.current_pages);
    expect(mems).toEqual(['6144', '16384']);
    expect(a.text).toContain('balloon: growing again');
    io.teardown();
    expect(io.drivers.counts()).toMatchObject({ devices: 0, grantMappings: 0, ports: 0 });
    expect(auditMemory(io.host.xen)).toEqual([]);
  });
});
