/**
 * The xl command set against a real, spawned host daemon: each command's output (xl's
 * tables), messages and exit statuses, on live minios guests — create, list, domid/
 * domname, pause/unpause, rename, mem-max/mem-set, vcpu-list/-pin/-set, sched-credit,
 * info, dmesg [-c], uptime [-s], console (piped), create -p with KEY=VALUE, reboot with
 * on_reboot restart and rename-restart, shutdown -w, destroy, save/restore (with progress)
 * of a running guest that checks its own memory afterwards, top, trace, and host stop.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, MINIOS, TestHost } from './xl_host.ts';

const h = new TestHost();

beforeAll(async () => {
  await h.start('--memory', '192');
}, 120_000);

afterAll(async () => {
  await h.stop();
});

const LIST_HEADER = 'Name                                        ID   Mem VCPUs\tState\tTime(s)';

function minios(name: string, cmd: string, extraLines = ''): string {
  return h.cfg(name, `name = "${name}"\nkernel = "${MINIOS}"\nmemory = 32\nmaxmem = 48\nvcpus = 2\n${extraLines}extra = "cmd=\\"${cmd}\\""\n`);
}

function row(name: string): string[] | undefined {
  const r = h.xl('list');
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${name} `));
  return line?.trim().split(/\s+/);
}

describe('xl commands against a host daemon', () => {
  it('list, info, dmesg, uptime on a fresh host', () => {
    const l = h.xl('list');
    expect(l.status).toBe(0);
    expect(l.stdout.split('\n')[0]).toBe(LIST_HEADER);
    // dom0 runs while it serves the request (xl runs in dom0), as a real `xl list` shows it.
    expect(l.stdout).toMatch(/^Domain-0 {37}0 {5}1 {5}1 {5}r-{5} +\d+\.\d$/m);
    const info = h.xl('info');
    expect(info.stdout).toMatch(/^xen_major {14}: 4$/m);
    expect(info.stdout).toMatch(/^xen_caps {15}: xen-3\.0-x86_32p$/m);
    expect(info.stdout).toMatch(/^virt_caps {14}: pv$/m);
    expect(info.stdout).toMatch(/^xen_scheduler {10}: credit$/m);
    expect(info.stdout).toMatch(/^total_memory {11}: 192$/m);
    expect(h.xl('info', 'xen_version').stdout).toMatch(/^4\.17\S*\n$/);
    expect(h.xl('dmesg').stdout).toMatch(/\(XEN\) .*booting/);
    expect(h.xl('uptime').stdout).toMatch(/^Name {32}ID Uptime\nDomain-0 {29}0 +\d+:\d\d:\d\d\n/);
    expect(h.xl('uptime', '-s').stdout).toMatch(/^ \d\d:\d\d:\d\d up +\d+:\d\d, Domain-0 \(0\)\n/);
    // dmesg -c prints the buffer and clears it.
    expect(h.xl('dmesg', '-c').stdout).toMatch(/\(XEN\) .*booting/);
    expect(h.xl('dmesg').stdout).not.toMatch(/booting/);
  }, 60_000);

  it('usage errors and unknown domains: xl\'s messages and exit statuses', () => {
    expect(h.xl('destroy')).toMatchObject({ status: 2, stderr: "'xl destroy' requires at least 1 argument.\n\n" });
    expect(h.xl('destroy', '-q', 'x')).toMatchObject({ status: 2, stderr: "option `q' not supported.\n" });
    expect(h.xl('destroy', '0').stderr).toMatch(/^Not destroying domain 0; use -f to force\./);
    expect(h.xl('pause', 'nosuch')).toMatchObject({ status: 1, stderr: 'nosuch is an invalid domain identifier (rc=-6)\n' });
    expect(h.xl('list', 'nosuch')).toMatchObject({ status: 1, stderr: 'nosuch is an invalid domain identifier (rc=-6)\n' });
    expect(h.xl('domid', 'nosuch')).toMatchObject({ status: 1, stderr: "Can't get domid of domain name 'nosuch', maybe this domain does not exist.\n" });
    expect(h.xl('shutdown')).toMatchObject({ status: 1, stderr: 'You must specify -a or a domain id.\n\n' });
    expect(h.xl('sched-credit', '-w', '5')).toMatchObject({ status: 1, stderr: 'Must specify a domain.\n' });
    expect(h.xl('destroy', '--help')).toMatchObject({ status: 0 });
    expect(h.xl('destroy', '--help').stdout).toMatch(/^Usage: xl \[-v\] destroy \[options\] <Domain>\n\nTerminate a domain immediately\./);
    const bad = h.xl('create', h.cfg('bad', 'name = "bad"\nkernel = "k"\nmemory = "lots"\n'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad\.cfg:3: memory: parameter `memory' is not a valid number \("lots"\)/);
    // A check only the host can make still names the file and line, and leaves no domain behind.
    const pin = h.xl('create', h.cfg('pin', `name = "pin"\nkernel = "${MINIOS}"\nmemory = 16\ncpus = "7"\n`));
    expect(pin).toMatchObject({ status: 2, stderr: expect.stringMatching(/^\/.*\/pin\.cfg:4: cpus: "7" names no CPU of this host \(it has 2: 0-1\)$/m) });
    expect(h.xl('list').stdout.trim().split('\n')).toHaveLength(2); // the header and Domain-0
  }, 60_000);

  it('create, then the per-domain commands on a live minios', async () => {
    const c = h.xl('create', minios('t1', 'memtest fill 2 9; shell'));
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/^Parsing config from .*t1\.cfg$/m);
    const r = row('t1');
    expect(r?.[2]).toBe('32');
    expect(r?.[3]).toBe('2');
    const id = h.xl('domid', 't1').stdout.trim();
    expect(id).toMatch(/^\d+$/);
    expect(h.xl('domname', id).stdout).toBe('t1\n');
    expect(h.xl('pause', 't1').status).toBe(0);
    expect(row('t1')?.[4]).toMatch(/^..p/);
    expect(h.xl('unpause', 't1').status).toBe(0);
    expect(h.xl('rename', 't1', 't2').status).toBe(0);
    expect(h.xl('domid', 't2').stdout.trim()).toBe(id);
    expect(JSON.parse(h.xl('list', '-l', 't2').stdout)).toMatchObject([{ // libxl_domain_config, as xl prints it
      domid: Number(id),
      config: {
        c_info: { type: 'pv', name: 't2' },
        b_info: { max_vcpus: 2, avail_vcpus: [0, 1], max_memkb: 48 * 1024, target_memkb: 32 * 1024, 'type.pv': { kernel: MINIOS } },
        on_poweroff: 'destroy', on_reboot: 'restart', on_crash: 'destroy',
      },
    }]);
    expect(h.xl('list', '-l', '--json', 't2').stdout).toMatch(/"xlcfg": "name = 't2'\\n/);
    // Memory: the balloon follows mem-set; the static maximum bounds it.
    expect(h.xl('mem-set', 't2', 'lots')).toMatchObject({ status: 1, stderr: 'invalid memory size: lots\n' });
    expect(h.xl('mem-set', 't2', '64').stderr).toMatch(/memory_dynamic_max must be less than or equal to memory_static_max/);
    expect(h.xl('mem-max', 't2', '40').status).toBe(0);
    expect(h.xl('mem-set', 't2', '16m').status).toBe(0);
    await eventually(() => row('t2')?.[2] === '16', 'the balloon to reach 16 MiB');
    // vCPUs and scheduling.
    const vl = h.xl('vcpu-list', 't2');
    expect(vl.stdout.split('\n')[0]).toBe('Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)');
    expect(vl.stdout.split('\n').filter((l) => l.startsWith('t2 '))).toHaveLength(2);
    expect(h.xl('vcpu-pin', 't2', '1', '1').status).toBe(0);
    expect(h.xl('vcpu-list', 't2').stdout).toMatch(/^t2 +\d+ +1 .* 1 \/ all$/m);
    expect(h.xl('vcpu-pin', 't2', 'x', '0')).toMatchObject({ status: 1, stderr: 'Error: Invalid argument x as VCPU.\n' });
    // vcpu-set writes cpu/N/availability (minios does not hot-unplug; Linux would).
    expect(h.xl('vcpu-set', 't2', '1').status).toBe(0);
    expect(h.xl('vcpu-set', 't2', '3').stderr).toMatch(/^You are overcommmitting! You have 2 physical CPUs and want 3 vCPUs!/);
    expect(h.xl('vcpu-set', '-i', 't2', '3').stderr).toMatch(/Requested 3 VCPUs, however maxcpus is 2!/);
    expect(h.xl('sched-credit', '-d', 't2', '-w', '512', '-c', '50').status).toBe(0);
    expect(h.xl('sched-credit', '-d', 't2').stdout).toMatch(/^Name {29} {3}ID Weight {2}Cap\nt2 {31} +\d+ +512 +50\n$/);
    // The console, piped: a shell command, then poweroff ends the session.
    await eventually(() => h.xl('console', '--dump', 't2').stdout.includes('minios> '), 't2\'s shell');
    const con = h.xlInput('echo hello-from-the-console\rpoweroff\r', 'console', 't2');
    expect(con.status).toBe(0);
    expect(con.stdout).toContain('hello-from-the-console');
    await eventually(() => row('t2') === undefined, 't2 to be destroyed after poweroff');
  }, 180_000);

  it('create -p with KEY=VALUE overrides, reboot through on_reboot restart and rename-restart', async () => {
    const base = minios('base', 'shell');
    const p = h.xl('create', '-p', base, 'name="rb"', 'memory=24');
    expect(p.status, p.stderr).toBe(0);
    expect(row('rb')?.slice(2, 5)).toEqual(['24', '1', '--p---']);
    expect(h.xl('unpause', 'rb').status).toBe(0);
    const id = Number(h.xl('domid', 'rb').stdout);
    expect(h.xl('reboot', 'rb')).toMatchObject({ status: 0, stderr: `Rebooting domain ${id}\n` });
    await eventually(() => Number(row('rb')?.[1]) > id, 'rb to come back as a new domain');
    expect(h.xl('create', base, 'name="rr"', 'on_reboot="rename-restart"').status).toBe(0);
    expect(h.xl('reboot', 'rr').status).toBe(0);
    await eventually(() => /^rr-\d{8}T\d{4}Z +\d+ .*---sr-/m.test(h.xl('list').stdout) && row('rr') !== undefined, 'rr renamed and restarted');
    const renamed = h.xl('list').stdout.match(/^(rr-\S+)/m)![1]!; // matched above
    for (const d of ['rb', 'rr', renamed]) expect(h.xl('destroy', d).status).toBe(0);
    expect(h.xl('create', base, 'name="rb"', 'on_reboot="bounce"')).toMatchObject({ status: 2,
      stderr: expect.stringMatching(/^command line: on_reboot: Unknown on_reboot action "bounce" specified/m) });
  }, 120_000);

  it('shutdown -w and destroy', async () => {
    expect(h.xl('create', minios('s1', 'wait shutdown 120')).status).toBe(0);
    expect(h.xl('create', minios('s2', 'spin')).status).toBe(0);
    await eventually(() => row('s1')?.[4] !== undefined && row('s2') !== undefined, 'both guests');
    const s = h.xl('shutdown', '-w', 's1');
    expect(s.status).toBe(0);
    expect(s.stderr).toMatch(/^Shutting down domain \d+\nWaiting for 1 domains\nDomain \d+ has been shut down, reason code 0\n$/);
    expect(row('s1')).toBeUndefined();
    expect(h.xl('destroy', 's2').status).toBe(0);
    expect(row('s2')).toBeUndefined();
  }, 120_000);

  it('save and restore a running guest, which then checks its own memory', async () => {
    expect(h.xl('create', minios('sr', 'memtest fill 6 77; wait resume 120; memtest verify; shell')).status).toBe(0);
    await eventually(() => h.xl('console', '--dump', 'sr').stdout.includes('WAIT resume'), 'the guest to wait for resume');
    // Ballooned down first: the domain must come back with the memory it had, not the file's.
    expect(h.xl('mem-set', 'sr', '24').status).toBe(0);
    await eventually(() => row('sr')?.[2] === '24', 'the balloon to reach 24 MiB');
    const sv = h.xl('save', 'sr', 'sr.save');
    expect(sv.status, sv.stderr).toBe(0);
    expect(sv.stderr).toMatch(/^Saving to sr\.save new xl format \(info 0x10002\/0x0\/\d+\)$/m);
    expect(sv.stderr).toMatch(/^Saving memory: 50%\nSaving memory: 75%\nSaving memory: 100%\nSaved \d+\.\d MiB to sr\.save$/m);
    expect(row('sr')).toBeUndefined();
    expect(existsSync(join(h.dir, 'sr.save'))).toBe(true);
    const rs = h.xl('restore', 'sr.save');
    expect(rs.status, rs.stderr).toBe(0);
    expect(rs.stderr).toMatch(/^Loading new save file sr\.save \(new xl fmt info 0x10002\/0x0\/\d+\)\n Savefile contains xl domain config\nParsing config from <saved>\n/);
    expect(rs.stderr).toMatch(/^Restoring memory: 25%\nRestoring memory: 50%\nRestoring memory: 75%\nRestoring memory: 100%$/m);
    await eventually(() => h.xl('console', '--dump', 'sr').stdout.includes('minios> '), 'the restored guest\'s shell');
    const log = h.xl('console', '--dump', 'sr').stdout;
    expect(log).toMatch(/RESUME: rc=0 \(new domain\)/);
    expect(log).toMatch(/OK memtest verify pages=1536/);
    expect(JSON.parse(h.xl('list', '-l', 'sr').stdout)).toMatchObject([{ config: { b_info: { target_memkb: 24 * 1024, max_memkb: 48 * 1024 } } }]);
    expect(row('sr')?.[2]).toBe('24');
    expect(h.xlInput('poweroff\r', 'console', 'sr').status).toBe(0);
    expect(h.xl('restore', 'nosuch.save')).toMatchObject({ status: 1, stderr: expect.stringMatching(/Can't open restore file: No such file or directory/) });
    h.cfg('garbage', 'not a save file at all');
    expect(h.xl('restore', 'garbage.cfg').stderr).toMatch(/wrong magic number|truncated/);
  }, 180_000);

  it('top and trace stream, devices need backends, the host stops only when asked to force', async () => {
    const top = h.xl('top', '-b', '-i', '2', '-d', '0.2');
    expect(top.status).toBe(0);
    expect(top.stdout.match(/^xentop - \d\d:\d\d:\d\d {3}Xen 4\.17/gm)).toHaveLength(2);
    expect(top.stdout).toMatch(/^ +NAME +STATE +CPU\(sec\) +CPU\(%\) +MEM\(k\)/m);
    const tr = h.xl('trace', '-n', '5', '--history');
    expect(tr.status).toBe(0);
    expect(tr.stdout.trim().split('\n')).toHaveLength(5);
    expect(h.xl('create', minios('last', 'shell')).status).toBe(0);
    const stop = h.xl('host', 'stop');
    expect(stop.status).toBe(1);
    expect(stop.stderr).toMatch(/1 domain is still running \(last\)/);
    expect(h.xl('host', 'stop', '--force').status).toBe(0);
    expect(existsSync(join(h.dir, 'control.sock'))).toBe(false);
    expect(h.xl('list')).toMatchObject({ status: 1, stderr: expect.stringMatching(/^tsxen: no host is running/) });
  }, 120_000);
});
