/**
 * The credit scheduler with real guests on the emulated machine (virtual clock,
 * deterministic): CPU hogs that spin with events masked, an I/O-bound guest that echoes
 * dom0's events, SMP minios spinning on every vCPU. What is measured is what dom0 sees
 * through libxc (getdomaininfo / getvcpuinfo cpu_time, the trace buffer), as xl does.
 *
 * 10 virtual ns per instruction (a 100 MIPS machine) keep virtual seconds cheap; the
 * scheduler's numbers (30 ms slice, 10 ms tick) are in virtual time either way.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUESTS, KERNEL, SchedHost } from './sched_host.ts';
import { readXenTrace } from '../../src/dom0/libxc/trace.ts';
import { TRC_HYPERCALL, TRC_SCHED_SWITCH } from '../../src/xen/common/trace.ts';
import {
  schedCreditGet, schedCreditSet, setVcpuAffinity, vcpuAffinity, vcpuInfo, type VcpuInfo,
} from '../../src/dom0/toolstack/xc_domain.ts';
import { __HYPERVISOR_event_channel_op } from '../../src/abi/xen.ts';

const MS = 1e6, S = 1e9;
const FAST = { nsPerInstruction: 10 };

beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS, 'sched-tests', 'minios'], { stdio: 'inherit' });
});

function vinfo(h: SchedHost, domid: number, vcpu: number): VcpuInfo {
  const r = vcpuInfo(h.host.xc, domid, vcpu);
  if (typeof r === 'number') throw new Error(`getvcpuinfo d${domid}v${vcpu}: ${r}`);
  return r;
}

describe('credit scheduler with real guests', () => {
  it('weights 256:512 on one pCPU give 1:2 of the CPU within 2%', () => {
    const h = new SchedHost({ pcpus: 1, ...FAST });
    const a = h.boot('light', KERNEL.hog, '', 'HOG ready');
    const b = h.boot('heavy', KERNEL.hog, '', 'HOG ready');
    expect(schedCreditSet(h.host.xc, b.domid, { weight: 512 })).toBe(0);
    expect(schedCreditGet(h.host.xc, b.domid)).toEqual({ weight: 512, cap: 0 });
    h.run(0.5 * S);
    const a0 = h.cpuTime(a.domid), b0 = h.cpuTime(b.domid);
    h.run(3 * S);
    const da = h.cpuTime(a.domid) - a0, db = h.cpuTime(b.domid) - b0;
    expect((da + db) / (3 * S)).toBeGreaterThan(0.99);
    expect(Math.abs(da / (da + db) - 1 / 3)).toBeLessThan(0.02 / 3);
  }, 120_000);

  it('cap 50 never exceeds 50% over any second, with a rival hog on the same pCPU', () => {
    const h = new SchedHost({ pcpus: 1, ...FAST });
    // xl.cfg's cap= reaches the scheduler through the toolstack's scheduler_op.
    const c = h.boot('capped', KERNEL.hog, 'cap=50', 'HOG ready');
    h.boot('rival', KERNEL.hog, '', 'HOG ready');
    expect(schedCreditGet(h.host.xc, c.domid)).toEqual({ weight: 256, cap: 50 });
    // Sample on the 10 ms grid the budget periods use.
    h.run(10 * MS - (h.now % (10 * MS)));
    const samples = [h.cpuTime(c.domid)];
    for (let i = 0; i < 300; i++) {
      h.run(10 * MS);
      samples.push(h.cpuTime(c.domid));
    }
    let worst = 0;
    for (let i = 100; i < samples.length; i++) worst = Math.max(worst, (samples[i]! - samples[i - 100]!) / S);
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-4);
    expect(worst).toBeGreaterThan(0.49);
  }, 120_000);

  for (const [pcpus, hogs] of [[1, 2], [2, 4]] as const) {
    it(`an I/O-bound guest's event is served within one tick while ${hogs} hogs run on ${pcpus} pCPU(s)`, () => {
      const h = new SchedHost({ pcpus, ...FAST });
      const e = h.boot('echo', KERNEL.echo, '', 'ECHO port=');
      for (let i = 0; i < hogs; i++) h.boot(`hog${i}`, KERNEL.hog, '', 'HOG ready');
      const port = Number(/ECHO port=(\d+)/.exec(e.console())![1]); // SAFETY: printed before boot() returned
      const local = h.host.xc.bindInterdomain(e.domid, port);
      expect(local).toBeGreaterThan(0);
      h.run(100 * MS);
      const xc = h.host.xc;
      let from = readXenTrace(xc).total;
      const latencies: number[] = [];
      const who = (e.domid << 16) | 0;
      for (let round = 0; round < 10; round++) {
        const sent: number[] = [];
        for (let i = 0; i < 10; i++) {
          h.run((3 + ((round * 7 + i * 5) % 11)) * MS);
          sent.push(h.now);
          expect(xc.notify(local)).toBe(0);
        }
        h.run(20 * MS);
        const t = readXenTrace(xc, from);
        expect(t.records.length, 'trace records lost').toBe(t.total - from);
        from = t.total;
        const echoes = t.records.filter((r) => r.event === TRC_HYPERCALL && r.a === who && r.b === __HYPERVISOR_event_channel_op);
        for (const s of sent) {
          const echo = echoes.find((r) => r.time >= s);
          expect(echo, `no echo after the send at ${s}`).toBeDefined();
          latencies.push(echo!.time - s); // SAFETY: checked just above
        }
      }
      expect(latencies.length).toBe(100);
      expect(Math.max(...latencies)).toBeLessThan(10 * MS);
    }, 180_000);
  }

  it('a guest spinning with events masked cannot hold a pCPU past its slice', () => {
    const h = new SchedHost({ pcpus: 1, ...FAST });
    const a = h.boot('a', KERNEL.hog, '', 'HOG ready');
    const b = h.boot('b', KERNEL.hog, '', 'HOG ready');
    const xc = h.host.xc;
    const from = readXenTrace(xc).total;
    h.run(1 * S);
    const sw = readXenTrace(xc, from).records.filter((r) => r.event === TRC_SCHED_SWITCH);
    const ids = new Set([a.domid * 65536, b.domid * 65536]);
    const starts = sw.filter((r) => ids.has(r.b));
    expect(starts.length).toBeGreaterThan(30);
    for (let i = 1; i < starts.length; i++) expect(starts[i]!.time - starts[i - 1]!.time).toBeLessThanOrEqual(30 * MS + 1000);
  }, 120_000);

  it('three hogs on two pCPUs each get about 2/3 of a pCPU (no starvation, work stealing)', () => {
    const h = new SchedHost({ pcpus: 2, ...FAST });
    const gs = [0, 1, 2].map((i) => h.boot(`hog${i}`, KERNEL.hog, '', 'HOG ready'));
    h.run(0.3 * S);
    const t0 = gs.map((g) => h.cpuTime(g.domid));
    h.run(3 * S);
    gs.forEach((g, i) => expect(Math.abs((h.cpuTime(g.domid) - t0[i]!) / (3 * S) - 2 / 3)).toBeLessThan(0.04));
  }, 120_000);
});

describe('SMP minios under the scheduler', () => {
  it('spin on two vCPUs runs on both pCPUs; pinning by dom0 is obeyed and shows in getvcpuinfo', () => {
    const h = new SchedHost({ pcpus: 2, ...FAST });
    const g = h.boot('spinner', KERNEL.minios, 'vcpus=2\nextra="spin"', '> spin', 60 * S);
    const xc = h.host.xc;
    // Both vCPUs busy on their own pCPUs: the domain's time grows by ~2 s per second.
    h.run(0.2 * S);
    let t0 = h.cpuTime(g.domid);
    h.run(1 * S);
    expect((h.cpuTime(g.domid) - t0) / S).toBeGreaterThan(1.95);
    const cpus = new Set([vinfo(h, g.domid, 0).cpu, vinfo(h, g.domid, 1).cpu]);
    expect(cpus.size).toBe(2);
    for (const v of [0, 1]) expect(vinfo(h, g.domid, v).running).toBe(true);
    // Pin both to pCPU 1 (xl vcpu-pin spinner all 1): they share it.
    for (const v of [0, 1]) expect(setVcpuAffinity(xc, g.domid, v, [1], null, 2)).toBe(0);
    expect(vcpuAffinity(xc, g.domid, 0, 2)).toEqual({ hard: [1], soft: [0, 1] });
    h.run(0.1 * S);
    t0 = h.cpuTime(g.domid);
    const v0 = vinfo(h, g.domid, 0).cpuTimeNs, v1 = vinfo(h, g.domid, 1).cpuTimeNs;
    for (let i = 0; i < 200; i++) {
      h.run(5 * MS);
      for (const v of [0, 1]) expect(vinfo(h, g.domid, v).cpu).toBe(1);
    }
    const used = h.cpuTime(g.domid) - t0;
    expect(used / S).toBeGreaterThan(0.98);
    expect(used / S).toBeLessThan(1.01);
    expect(vinfo(h, g.domid, 0).cpuTimeNs - v0).toBeGreaterThan(0.4 * S);
    expect(vinfo(h, g.domid, 1).cpuTimeNs - v1).toBeGreaterThan(0.4 * S);
    // An affinity without an online pCPU is refused, and changes nothing.
    expect(setVcpuAffinity(xc, g.domid, 0, [5], null, 8)).toBeLessThan(0);
    expect(vcpuAffinity(xc, g.domid, 0, 2)).toEqual({ hard: [1], soft: [0, 1] });
  }, 240_000);
});
