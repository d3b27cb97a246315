/**
 * The credit scheduler on the real core, run loop and pCPU clocks, with synthetic
 * workloads (sim.ts): weights, caps, wake-up latency, affinity, starvation, load balancing
 * and work stealing, yield, pause, parameters. All on virtual time, deterministic.
 */
import { describe, expect, it } from 'vitest';
import { DutyCycle, hog, IoTask, SchedSim, type Workload } from './sim.ts';
import { CreditScheduler } from './credit.ts';
import { CSCHED_PRI_TS_BOOST } from './credit_runq.ts';
import type { Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';
import { EINVAL } from '../../../abi/errno.ts';

const MS = 1e6, S = 1e9;

function domTime(sim: SchedSim, d: Domain): number {
  let t = 0;
  for (const v of d.vcpus) if (v) t += sim.cpuTime(v);
  return t;
}

/** CPU used by `d` over [warm, warm + span) of simulated time. */
function share(sim: SchedSim, ds: Domain[], warm: number, span: number): number[] {
  sim.run(warm);
  const t0 = ds.map((d) => domTime(sim, d));
  sim.run(span);
  return ds.map((d, i) => (domTime(sim, d) - t0[i]!) / span);
}

/** Usage of `d` in every window of `win` sampled every `step` for `span`. */
function windows(sim: SchedSim, d: Domain, span: number, step: number, win: number): number[] {
  const samples = [domTime(sim, d)];
  for (let t = 0; t < span; t += step) {
    sim.run(step);
    samples.push(domTime(sim, d));
  }
  const k = win / step;
  const out: number[] = [];
  for (let i = k; i < samples.length; i++) out.push((samples[i]! - samples[i - k]!) / win);
  return out;
}

describe('credit: weights', () => {
  it('256:512 on one pCPU gives 1:2 of the CPU within 2%', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const a = sim.domain([hog], { weight: 256 });
    const b = sim.domain([hog], { weight: 512 });
    const [sa, sb] = share(sim, [a, b], 1 * S, 10 * S);
    expect(sa! + sb!).toBeGreaterThan(0.999);
    expect(Math.abs(sa! / (sa! + sb!) - 1 / 3)).toBeLessThan(0.02 / 3);
    expect(Math.abs(sb! / sa! - 2)).toBeLessThan(0.04);
  });

  it('weights hold across pCPUs: two 2-vCPU domains 256:512 on two pCPUs', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const a = sim.domain([hog, hog], { weight: 256 });
    const b = sim.domain([hog, hog], { weight: 512 });
    const [sa, sb] = share(sim, [a, b], 1 * S, 10 * S);
    expect(sa! + sb!).toBeGreaterThan(1.99);
    expect(Math.abs(sb! / sa! - 2)).toBeLessThan(0.04);
  });

  it('three weights on one pCPU: 1:2:4', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const ds = [256, 512, 1024].map((w) => sim.domain([hog], { weight: w }));
    const s = share(sim, ds, 1 * S, 10 * S);
    const total = s.reduce((x, y) => x + y, 0);
    for (const [i, w] of [1, 2, 4].entries()) expect(Math.abs(s[i]! / total - w / 7)).toBeLessThan(0.02 * (w / 7));
  });

  it('a weight change takes effect', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const a = sim.domain([hog]);
    const b = sim.domain([hog]);
    const [s1a, s1b] = share(sim, [a, b], 0.5 * S, 3 * S);
    expect(Math.abs(s1a! - s1b!)).toBeLessThan(0.02);
    expect(sim.policy.setParams(b, 768, 0xffff)).toBe(0);
    expect(sim.policy.getParams(b)).toEqual({ weight: 768, cap: 0 });
    const [s2a, s2b] = share(sim, [a, b], 0.5 * S, 6 * S);
    expect(Math.abs(s2b! / s2a! - 3)).toBeLessThan(0.06);
  });
});

describe('credit: caps', () => {
  for (const [pcpus, rivals] of [[1, 0], [1, 1], [2, 0], [2, 3]] as const) {
    it(`cap 50 never exceeds 50% over any second (${pcpus} pCPU(s), ${rivals} rival hog(s))`, () => {
      const sim = new SchedSim({ pcpus });
      const d = sim.domain([hog], { cap: 50 });
      for (let i = 0; i < rivals; i++) sim.domain([hog]);
      // Sliding one-second windows, sampled every 10 ms (the accounting grid), over 20 s.
      const w = windows(sim, d, 20 * S, 10 * MS, 1 * S);
      // Slack: the pCPU clocks of a sample differ by up to a quantum (100 µs of 1 s).
      for (const u of w) expect(u).toBeLessThanOrEqual(0.5 + 1e-4);
      // ...and the cap is not a throttle below it when the CPU is free.
      if (rivals === 0 || pcpus > rivals) expect(Math.min(...w)).toBeGreaterThan(0.49);
      // Any window (1 ms resolution): at most one period's budget more.
      const fine = windows(sim, d, 3 * S, 1 * MS, 1 * S);
      for (const u of fine) expect(u).toBeLessThanOrEqual(0.505 + 1e-4);
    });
  }

  it('cap 150 on a 3-vCPU domain: at most 1.5 pCPUs, shared by its vCPUs', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const d = sim.domain([hog, hog, hog], { cap: 150 });
    const w = windows(sim, d, 10 * S, 10 * MS, 1 * S);
    for (const u of w) expect(u).toBeLessThanOrEqual(1.5 + 2e-4);
    expect(Math.min(...w)).toBeGreaterThan(1.45);
    for (const v of d.vcpus) expect(sim.cpuTime(v!) / 11e9).toBeGreaterThan(0.4);
  });

  it('a parked domain keeps the host from idling, and removing the cap frees it', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const d = sim.domain([hog], { cap: 10 });
    sim.run(1 * S);
    expect(domTime(sim, d) / S).toBeCloseTo(0.1, 2);
    expect(sim.policy.setParams(d, 0, 0)).toBe(0);
    const t0 = domTime(sim, d);
    sim.run(1 * S);
    expect((domTime(sim, d) - t0) / S).toBeGreaterThan(0.98);
  });
});

describe('credit: wake-up latency', () => {
  for (const [pcpus, hogs] of [[1, 2], [2, 4], [2, 5]] as const) {
    it(`an I/O-bound domain's event is served within one tick while ${hogs} hogs run on ${pcpus} pCPU(s)`, () => {
      const sim = new SchedSim({ pcpus });
      const io = new IoTask(3.7 * MS, 0.3 * MS);
      const d = sim.domain([io]);
      io.start(sim, d.vcpus[0]!);
      for (let i = 0; i < hogs; i++) sim.domain([hog]);
      sim.run(5 * S);
      expect(io.latencies.length).toBeGreaterThan(1300);
      expect(Math.max(...io.latencies)).toBeLessThan(10 * MS);
      // The boost makes it much better than that: within the rate limit (1 ms).
      expect(Math.max(...io.latencies)).toBeLessThanOrEqual(1 * MS);
    });
  }

  it('a vCPU woken from block is boosted and preempts a hog', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const h = sim.domain([hog]);
    const io = new IoTask(50 * MS, 0.1 * MS);
    const d = sim.domain([io]);
    io.start(sim, d.vcpus[0]!);
    const credit = sim.policy as CreditScheduler;
    let boostedSeen = false;
    const iov = d.vcpus[0]!;
    sim.onSwitch = (_prev, next) => {
      if (next === iov) boostedSeen ||= credit.unitInfo(iov).pri === CSCHED_PRI_TS_BOOST;
    };
    sim.run(1 * S);
    expect(boostedSeen).toBe(true);
    expect(io.latencies.length).toBe(19); // events at 50, 100, ... 950 ms
    expect(sim.cpuTime(h.vcpus[0]!)).toBeGreaterThan(0.97 * S);
  });
});

describe('credit: placement', () => {
  it('affinity is always respected, also when it changes (seeded)', () => {
    const seed = 0x5eed;
    let x = seed;
    const rnd = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
      return x % n;
    };
    const sim = new SchedSim({ pcpus: 4 });
    const work: Workload[] = [hog, new DutyCycle(3 * MS, 2 * MS), hog, new DutyCycle(0.5 * MS, 7 * MS)];
    const ds = [sim.domain(work), sim.domain([hog, hog]), sim.domain([new DutyCycle(12 * MS, 1 * MS)])];
    const allowed = new Map<Vcpu, number>();
    for (const v of sim.vcpus) allowed.set(v, -1);
    for (let round = 0; round < 200; round++) {
      const v = sim.vcpus[rnd(sim.vcpus.length)]!;
      const mask = 1 + rnd(15);
      expect(sim.core.setAffinity(v, mask, rnd(2) === 0 ? null : 1 + rnd(15)), `seed ${seed} round ${round}`).toBe(0);
      allowed.set(v, mask);
      // The sim's runner asserts the affinity on every entry; check where each ran too.
      const before = sim.vcpus.map((w) => Float64Array.from(sim.stats.get(w)!.perPcpu));
      sim.run(20 * MS);
      sim.vcpus.forEach((w, i) => {
        const m = allowed.get(w)!;
        for (let p = 0; p < 4; p++) {
          if ((m >>> p) & 1) continue;
          expect(sim.stats.get(w)!.perPcpu[p]! - before[i]![p]!, `seed ${seed}: ${w} ran on ${p}`).toBe(0);
        }
      });
    }
    expect(ds.length).toBe(3);
  });

  it('a hard affinity without an online pCPU is refused', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const d = sim.domain([hog]);
    expect(sim.core.setAffinity(d.vcpus[0]!, 0b100, null)).toBe(-EINVAL);
    expect(d.vcpus[0]!.affinity).toBe(-1);
  });

  it('two hogs started on one pCPU spread to both (load balancing)', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const a = sim.domain([hog], { affinity: [0b01] });
    const b = sim.domain([hog], { affinity: [0b01] });
    sim.run(100 * MS);
    sim.core.setAffinity(a.vcpus[0]!, -1, null);
    sim.core.setAffinity(b.vcpus[0]!, -1, null);
    const [sa, sb] = share(sim, [a, b], 100 * MS, 2 * S);
    expect(sa).toBeGreaterThan(0.99);
    expect(sb).toBeGreaterThan(0.99);
  });

  it('three hogs on two pCPUs get about 2/3 each (work stealing)', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const ds = [sim.domain([hog]), sim.domain([hog]), sim.domain([hog])];
    const s = share(sim, ds, 1 * S, 10 * S);
    for (const x of s) expect(Math.abs(x - 2 / 3)).toBeLessThan(0.03);
    expect((sim.policy as CreditScheduler).stats.steals).toBeGreaterThan(0);
  });

  it('soft affinity is preferred when there is room', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const d = sim.domain([new DutyCycle(2 * MS, 3 * MS)]);
    const v = d.vcpus[0]!;
    sim.core.setAffinity(v, null, 0b10);
    sim.run(2 * S);
    const st = sim.stats.get(v)!.perPcpu;
    expect(st[1]! / (st[0]! + st[1]!)).toBeGreaterThan(0.99);
  });
});

describe('credit: no starvation', () => {
  it('every runnable vCPU runs in every 3 s, and gets at least half its weighted share', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const weights = [64, 256, 1024, 100, 512, 1000];
    const ds = weights.map((w, i) => sim.domain([i % 3 === 0 ? new DutyCycle(20 * MS, 1 * MS) : hog, hog], { weight: w }));
    const total = weights.reduce((a, b) => a + b, 0) * 2;
    const start = sim.vcpus.map((v) => sim.cpuTime(v));
    for (let w = 0; w < 10; w++) {
      const t0 = sim.vcpus.map((v) => sim.cpuTime(v));
      sim.run(3 * S);
      sim.vcpus.forEach((v, i) => expect(sim.cpuTime(v) - t0[i]!, `${v} in window ${w}`).toBeGreaterThan(0));
    }
    sim.vcpus.forEach((v, i) => {
      const fair = (2 * weights[Math.floor(i / 2)]!) / total;
      expect((sim.cpuTime(v) - start[i]!) / (30 * S), `${v}`).toBeGreaterThan(fair / 2);
    });
    expect(ds.length).toBe(6);
  });

  it('even weight 1 against 65535 makes progress (its tiny share, not nothing)', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const low = sim.domain([hog], { weight: 1 });
    sim.domain([hog], { weight: 65535 });
    sim.domain([hog], { weight: 65535 });
    sim.run(30 * S);
    expect(domTime(sim, low)).toBeGreaterThan(0);
    expect(domTime(sim, low)).toBeLessThan(0.01 * 30 * S);
  });

  it('a hog with its events masked cannot hold a pCPU past its 30 ms slice', () => {
    const sim = new SchedSim({ pcpus: 1 });
    sim.domain([hog]);
    sim.domain([hog]);
    const runs: number[] = [];
    let start = 0;
    sim.onSwitch = (prev, next, _p, now) => {
      if (prev !== null) runs.push(now - start);
      if (next !== null) start = now;
    };
    sim.run(2 * S);
    expect(runs.length).toBeGreaterThan(50);
    expect(Math.max(...runs)).toBeLessThanOrEqual(30 * MS);
  });
});

describe('credit: yield, pause, parameters', () => {
  it('a yielding vCPU gives the pCPU to the other', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const yielder: Workload = {
      run(s, v, budget) {
        s.clock.advanceSystem(s.now() + Math.min(budget, 50_000));
        s.core.yield(v);
      },
    };
    const y = sim.domain([yielder]);
    const h = sim.domain([hog]);
    const [sy, sh] = share(sim, [y, h], 0.2 * S, 2 * S);
    expect(sh).toBeGreaterThan(sy!);
  });

  it('a paused domain gets no CPU and resumes when unpaused', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const a = sim.domain([hog, hog]);
    sim.domain([hog]);
    sim.run(100 * MS);
    a.pauseCount++;
    sim.core.updateDomain(a);
    const t0 = domTime(sim, a);
    sim.run(1 * S);
    expect(domTime(sim, a)).toBe(t0);
    a.pauseCount--;
    sim.core.updateDomain(a);
    sim.run(1 * S);
    expect(domTime(sim, a) - t0).toBeGreaterThan(1.2 * S);
  });

  it('scheduler-wide parameters: Xen ranges, defaults, and the slice taking effect', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const c = sim.policy;
    expect(c.getGlobal()).toEqual({ tsliceMs: 30, ratelimitUs: 1000, vcpuMigrDelayUs: 0 });
    expect(c.setGlobal({ tsliceMs: 0, ratelimitUs: 1000, vcpuMigrDelayUs: 0 })).toBe(-EINVAL);
    expect(c.setGlobal({ tsliceMs: 1001, ratelimitUs: 1000, vcpuMigrDelayUs: 0 })).toBe(-EINVAL);
    expect(c.setGlobal({ tsliceMs: 30, ratelimitUs: 99, vcpuMigrDelayUs: 0 })).toBe(-EINVAL);
    expect(c.setGlobal({ tsliceMs: 30, ratelimitUs: 500001, vcpuMigrDelayUs: 0 })).toBe(-EINVAL);
    expect(c.setGlobal({ tsliceMs: 1, ratelimitUs: 1001, vcpuMigrDelayUs: 0 })).toBe(-EINVAL);
    expect(c.setGlobal({ tsliceMs: 30, ratelimitUs: 0, vcpuMigrDelayUs: 100001 })).toBe(-EINVAL);
    expect(c.setGlobal({ tsliceMs: 5, ratelimitUs: 0, vcpuMigrDelayUs: 100000 })).toBe(0);
    expect(c.getGlobal()).toEqual({ tsliceMs: 5, ratelimitUs: 0, vcpuMigrDelayUs: 100000 });
    sim.domain([hog]);
    sim.domain([hog]);
    const runs: number[] = [];
    let start = 0;
    sim.onSwitch = (prev, next, _p, now) => {
      if (prev !== null) runs.push(now - start);
      if (next !== null) start = now;
    };
    sim.run(1 * S);
    expect(Math.max(...runs)).toBeLessThanOrEqual(5 * MS);
  });

  it('putinfo: weight 0 and cap 0xFFFF leave the values alone', () => {
    const sim = new SchedSim({ pcpus: 1 });
    const d = sim.domain([hog], { weight: 300, cap: 20 });
    expect(sim.policy.getParams(d)).toEqual({ weight: 300, cap: 20 });
    sim.policy.setParams(d, 0, 0xffff);
    expect(sim.policy.getParams(d)).toEqual({ weight: 300, cap: 20 });
    sim.policy.setParams(d, 0, 0);
    expect(sim.policy.getParams(d)).toEqual({ weight: 300, cap: 0 });
    expect(d.schedWeight).toBe(300);
  });
});
