/**
 * Scheduling seen from the command line, as a Xen user sees it: a spawned host daemon
 * (host clock, 2 pCPUs, credit), a minios guest with `extra="spin"` on two vCPUs, and the
 * xl commands that show and steer it: list (Time(s)), vcpu-list (CPU, State, Time(s),
 * Affinity), vcpu-pin, sched-credit (-d -w -c, -s -t), top.
 *
 * Rates are measured against the hypervisor's system time (Domain-0's uptime in
 * `xl list --json`) taken from the same list as the CPU times: they do not depend on how
 * fast the test process itself gets scheduled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, MINIOS, TestHost } from '../cli/xl_host.ts';

const h = new TestHost();

beforeAll(async () => {
  await h.start('--memory', '128');
}, 120_000);

afterAll(async () => {
  await h.stop();
});

interface ListRow { name: string; id: number; vcpus: number; state: string; time: number }

function list(): Map<string, ListRow> {
  const r = h.xl('list');
  expect(r.status, r.stderr).toBe(0);
  const out = new Map<string, ListRow>();
  for (const line of r.stdout.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    out.set(f[0]!, { name: f[0]!, id: Number(f[1]), vcpus: Number(f[3]), state: f[4]!, time: Number(f[5]) });
  }
  return out;
}

interface VcpuRow { vcpu: number; cpu: number; state: string; time: number; affinity: string }

function vcpuList(dom: string): VcpuRow[] {
  const r = h.xl('vcpu-list', dom);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.split('\n')[0]).toMatch(/^Name +ID +VCPU +CPU +State +Time\(s\) +Affinity \(Hard \/ Soft\)$/);
  return r.stdout.split('\n').slice(1).filter((l) => l.startsWith(`${dom} `)).map((l) => {
    const f = l.trim().split(/\s+/);
    return { vcpu: Number(f[2]), cpu: Number(f[3]), state: f[4]!, time: Number(f[5]), affinity: f.slice(6).join(' ') };
  });
}

/** System time (Domain-0's uptime, s) and the spinner's CPU time (s), from one `xl list --json`. */
function sample(): { up: number; spinner: number } {
  const r = h.xl('list', '--json');
  expect(r.status, r.stderr).toBe(0);
  const rows = JSON.parse(r.stdout) as Array<{ name: string; uptimeS: number; cpuTimeNs: number }>;
  const up = rows.find((x) => x.name === 'Domain-0')!.uptimeS; // SAFETY: dom0 is always listed
  return { up, spinner: rows.find((x) => x.name === 'spinner')!.cpuTimeNs / 1e9 }; // SAFETY: created before
}

/** The spinner's CPU time per second of system time over `ms` of wall time. */
async function rate(ms: number): Promise<number> {
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  return (b.spinner - a.spinner) / (b.up - a.up);
}

describe('xl shows and steers the scheduler', () => {
  it('a spinning SMP guest: Time(s) in list and vcpu-list grows on both pCPUs', async () => {
    const cfg = h.cfg('spinner', `name = "spinner"\nkernel = "${MINIOS}"\nmemory = 32\nvcpus = 2\nextra = "spin"\n`);
    const c = h.xl('create', cfg);
    expect(c.status, c.stderr).toBe(0);
    await eventually(() => h.xl('console', '--dump', 'spinner').stdout.includes('> spin'), 'the spin command');
    const info = h.xl('info');
    expect(info.stdout).toMatch(/^nr_cpus +: 2$/m);
    expect(info.stdout).toMatch(/^xen_scheduler +: credit$/m);
    expect(list().get('spinner')?.vcpus).toBe(2);
    expect(await rate(3000)).toBeGreaterThan(1.8);
    const v = vcpuList('spinner');
    expect(v.map((x) => x.vcpu)).toEqual([0, 1]);
    expect(new Set(v.map((x) => x.cpu))).toEqual(new Set([0, 1]));
    for (const x of v) {
      expect(x.time).toBeGreaterThan(1);
      expect(x.affinity).toBe('all / all');
    }
  }, 120_000);

  it('vcpu-pin puts both vCPUs on pCPU 1: they share it', async () => {
    expect(h.xl('vcpu-pin', 'spinner', 'all', '1').status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    for (const x of vcpuList('spinner')) {
      expect(x.cpu).toBe(1);
      expect(x.affinity).toBe('1 / all');
    }
    const r = await rate(3000);
    expect(r).toBeGreaterThan(0.85);
    expect(r).toBeLessThan(1.1);
    const before = vcpuList('spinner');
    await new Promise((res) => setTimeout(res, 2000));
    const after = vcpuList('spinner');
    for (const i of [0, 1]) expect(after[i]!.time - before[i]!.time).toBeGreaterThan(0.5);
  }, 120_000);

  it('sched-credit -w/-c: the weight and cap show, and the cap holds', async () => {
    expect(h.xl('sched-credit', '-d', 'spinner', '-w', '512', '-c', '50').status).toBe(0);
    const s = h.xl('sched-credit', '-d', 'spinner');
    expect(s.stdout).toMatch(/^Name +ID Weight +Cap\nspinner +\d+ +512 +50\n$/);
    const r = await rate(4000);
    expect(r).toBeGreaterThan(0.4);
    expect(r).toBeLessThan(0.56);
    expect(h.xl('sched-credit', '-d', 'spinner', '-c', '0').status).toBe(0);
    expect(h.xl('vcpu-pin', 'spinner', 'all', 'all').status).toBe(0);
    expect(await rate(3000)).toBeGreaterThan(1.8);
  }, 120_000);

  it('sched-credit -s: the pool parameters, Xen\'s range checks', () => {
    const s = h.xl('sched-credit', '-s');
    expect(s.stdout).toMatch(/Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us/);
    expect(h.xl('sched-credit', '-s', '-t', '10').status).toBe(0);
    expect(h.xl('sched-credit', '-s').stdout).toMatch(/tslice=10ms ratelimit=1000us/);
    expect(h.xl('sched-credit', '-s', '-t', '5000').status).not.toBe(0);
    expect(h.xl('sched-credit', '-s', '-t', '30').status).toBe(0);
  }, 60_000);

  it('top shows the spinner using about two CPUs', () => {
    const t = h.xl('top', '-b', '-i', '2', '-d', '2');
    expect(t.status, t.stderr).toBe(0);
    const rows = t.stdout.split('\n').filter((l) => l.trim().startsWith('spinner '));
    expect(rows.length, t.stdout).toBe(2);
    const pct = Number(rows[1]!.trim().split(/\s+/)[3]);
    expect(pct, t.stdout).toBeGreaterThan(170);
    expect(h.xl('destroy', 'spinner').status).toBe(0);
  }, 60_000);
});
