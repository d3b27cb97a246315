/**
 * Devices through the CLI against a spawned host daemon with its backends (blkback and
 * netback on xenbr0 with the user-mode gateway): a minios created with disk= and vif=
 * writes its disk and pings the gateway; block-/network-list show the connected devices;
 * block-/network-attach and -detach with xl's messages and exit statuses; destroy leaves
 * no device behind. A host started with --no-net refuses vif= with a message, and the
 * HTTP API (--http 0) answers with the bearer token only. sched-credit -s reads and sets the
 * credit scheduler's pool parameters.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, MINIOS, TestHost } from './xl_host.ts';
import { diskPatternSector } from '../minios/console_log.ts';

const h = new TestHost();

beforeAll(async () => {
  await h.start('--memory', '128');
}, 120_000);

afterAll(async () => {
  await h.stop();
});

function image(name: string, mib: number): string {
  const p = join(h.dir, name);
  writeFileSync(p, new Uint8Array(0));
  writeFileSync(p, new Uint8Array(mib * 1024 * 1024));
  return p;
}

const BLOCK_HEADER = 'Vdev  BE  handle state evt-ch ring-ref BE-path                       ';

describe('xl device commands against a host daemon with backends', () => {
  it('disk= and vif= at create, the lists, attach/detach and their errors, cleanup at destroy', async () => {
    const disk = image('dev.img', 8);
    const cfg = h.cfg('dev', [
      'name = "dev"', `kernel = "${MINIOS}"`, 'memory = 32',
      `disk = [ 'format=raw, vdev=xvda, access=rw, target=${disk}' ]`,
      "vif = [ 'mac=00:16:3e:5a:10:01, bridge=xenbr0' ]",
      'extra = "ip=10.0.2.21 gw=10.0.2.2 cmd=\\"disk write 0 64 3; disk verify 0 64 3; ping 10.0.2.2 2; net serve 600\\""', '',
    ].join('\n'));
    expect(h.xl('create', cfg)).toMatchObject({ status: 0 });
    await eventually(() => h.xl('console', '--dump', 'dev').stdout.includes('> net serve'), 'the guest to serve');
    const log = h.xl('console', '--dump', 'dev').stdout;
    expect(log).toMatch(/^OK disk verify start=0 count=64/m);
    expect(log).toMatch(/^OK ping 10\.0\.2\.2 .*received=2/m);
    const data = readFileSync(disk);
    for (let s = 0; s < 64; s++) expect(data.subarray(s * 512, (s + 1) * 512).equals(diskPatternSector(3, s)), `sector ${s}`).toBe(true);

    const domid = h.xl('domid', 'dev').stdout.trim();
    const bl = h.xl('block-list', 'dev');
    expect(bl.status).toBe(0);
    expect(bl.stdout.split('\n')[0]).toBe(BLOCK_HEADER);
    expect(bl.stdout).toMatch(new RegExp(`^51712 +0 +${domid} +4 +\\d+ +\\d+ +/local/domain/0/backend/vbd/${domid}/51712\\s*$`, 'm'));
    const nl = h.xl('network-list', 'dev');
    expect(nl.status).toBe(0);
    expect(nl.stdout).toMatch(/^Idx BE Mac Addr\. +handle state evt-ch +tx-\/rx-ring-ref BE-path/);
    expect(nl.stdout).toMatch(new RegExp(`^0 +0 +00:16:3e:5a:10:01 +0 +4 +\\d+ +\\d+/\\d+ +/local/domain/0/backend/vif/${domid}/0\\s*$`, 'm'));

    // A second disk and a second vif (minios only connects devices at boot: they wait in InitWait).
    const extra = image('extra.img', 2);
    expect(h.xl('block-attach', 'dev', `format=raw,vdev=xvdb,access=rw,target=${extra}`)).toMatchObject({ status: 0 });
    expect(h.xl('block-list', 'dev').stdout).toMatch(/^51728 +0 /m);
    const again = h.xl('block-attach', 'dev', `format=raw,vdev=xvdb,target=${extra}`);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`device vbd xvdb (51728) already exists`);
    expect(h.xl('block-attach', 'dev', 'format=raw,vdev=xvdc,target=/nonexistent/x.img')).toMatchObject({
      status: 1, stderr: expect.stringContaining('cannot open /nonexistent/x.img: ENOENT') as unknown,
    });
    expect(h.xl('block-attach', 'dev', 'vdev=xvdc,format=qcow9,target=x')).toMatchObject({ status: 1 });
    expect(h.xl('block-attach', 'dev')).toMatchObject({ status: 2, stderr: "'xl block-attach' requires at least 2 arguments.\n\n" });
    expect(h.xl('block-detach', 'dev', 'xvdb')).toMatchObject({ status: 0 });
    expect(h.xl('block-list', 'dev').stdout).not.toMatch(/^51728 /m);
    expect(h.xl('block-detach', 'dev', 'xvdz')).toMatchObject({ status: 1, stderr: 'Error: Device xvdz not connected.\n' });

    expect(h.xl('network-attach', 'dev', 'mac=00:16:3e:5a:10:02')).toMatchObject({ status: 0 });
    expect(h.xl('network-list', 'dev').stdout).toMatch(/^1 +0 +00:16:3e:5a:10:02 +1 /m);
    expect(h.xl('network-attach', 'dev', 'bridge=xenbr9')).toMatchObject({ status: 1 });
    expect(h.xl('network-detach', 'dev', '00:16:3e:5a:10:02')).toMatchObject({ status: 0 });
    expect(h.xl('network-list', 'dev').stdout).not.toMatch(/^1 /m);
    expect(h.xl('network-detach', 'dev', '7')).toMatchObject({ status: 1, stderr: 'Unknown device 7.\n' });

    // A list over several domains stops at the first unknown one, like xl's find_domain.
    const bad = h.xl('block-list', 'dev', 'nosuch');
    expect(bad).toMatchObject({ status: 1, stderr: 'nosuch is an invalid domain identifier (rc=-6)\n' });
    expect(bad.stdout).toMatch(/^51712 /m);

    expect(h.xl('destroy', 'dev')).toMatchObject({ status: 0 });
    expect(h.xl('list', 'dev').status).toBe(1);
    expect(JSON.parse(h.xl('host', 'status', '--json').stdout)).toMatchObject({ domains: 1, running: 0 }); // Domain-0 only
  }, 180_000);

  it('sched-credit -s: the credit scheduler\'s pool parameters through XEN_SYSCTL_scheduler_op', () => {
    expect(h.xl('sched-credit', '-s')).toMatchObject({ status: 0, stdout: 'Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us\n' });
    expect(h.xl('sched-credit', '-s', '-t', '20', '-r', '500')).toMatchObject({ status: 0, stdout: '' });
    expect(h.xl('sched-credit', '-s').stdout).toBe('Cpupool Pool-0: tslice=20ms ratelimit=500us migration-delay=0us\n');
    expect(h.xl('sched-credit', '-s', '-t', '0').status).toBe(1);
    expect(h.xl('sched-credit', '-s', '-t', '30', '-r', '1000').status).toBe(0);
  }, 60_000);

  it('the HTTP API needs the bearer token', async () => {
    const web = new TestHost();
    try {
      await web.start('--http', '0', '--no-net', '--memory', '64');
      const port = Number(web.file('http.port').trim());
      const token = web.file('http.token').trim();
      const ok = await fetch(`http://127.0.0.1:${port}/api/list`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
      expect(ok.status).toBe(200);
      expect(JSON.stringify(await ok.json())).toContain('Domain-0');
      const no = await fetch(`http://127.0.0.1:${port}/api/list`, { method: 'POST', body: '{}' });
      expect(no.status).toBe(401);
      // --no-net: vif= fails with a message, the domain is gone.
      const cfg = web.cfg('nonet', `name = "nonet"\nkernel = "${MINIOS}"\nmemory = 16\nvif = [ '' ]\n`);
      const r = web.xl('create', cfg);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/network backend|netback|xenbr0/);
      expect(web.xl('list', 'nonet').status).toBe(1);
    } finally {
      await web.stop();
    }
  }, 120_000);
});
