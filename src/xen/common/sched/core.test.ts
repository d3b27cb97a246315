/**
 * The scheduling core and run loop under seeded random operations (pause, block, affinity,
 * weights, caps, yield, scheduler parameters, domain death), with the invariants checked
 * after every step; determinism; pCPU clock skew; the round-robin policy on the same
 * interface. Set SCHED_SEED to replay a failing run.
 */
import { describe, expect, it } from 'vitest';
import { DutyCycle, hog, IoTask, SchedSim, type Workload } from './sim.ts';
import { CreditScheduler } from './credit.ts';
import { RoundRobinScheduler } from './rr.ts';
import { RUNSTATE_running, type Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';

const MS = 1e6, S = 1e9;

function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** The core's and the credit policy's invariants (core.ts, credit_runq.ts). */
function checkInvariants(sim: SchedSim, live: Vcpu[], what: string): void {
  const credit = sim.policy as CreditScheduler;
  const rqs = credit.runqueues();
  const seen = new Set<Vcpu>();
  for (const [p, pc] of sim.core.pcpu.entries()) {
    const c = pc.current;
    if (c !== null) {
      expect(c.running && c.processor === p && c.runstate === RUNSTATE_running, `${what}: ${c} current on ${p}`).toBe(true);
      expect(seen.has(c), `${what}: ${c} current twice`).toBe(false);
      seen.add(c);
    }
    const rq = rqs[p]!;
    for (const v of rq.units) {
      expect(v.processor, `${what}: ${v} queued on ${p}`).toBe(p);
      expect(v.runnable() && !v.running, `${what}: ${v} queued but not runnable/idle`).toBe(true);
    }
    expect(rq.nrRunnable - rq.units.length, `${what}: nr_runnable of ${p}`).toBe(c !== null ? 1 : 0);
  }
  for (const v of live) {
    const info = credit.unitInfo(v);
    const shouldQueue = v.runnable() && !v.running;
    expect(info.queued, `${what}: ${v} queued=${info.queued} runnable=${v.runnable()} running=${v.running}`).toBe(shouldQueue);
    expect(((v.affinity >>> v.processor) & 1) === 1, `${what}: ${v} on ${v.processor} outside its affinity`).toBe(true);
  }
}

describe('scheduling core: random operations keep the invariants', () => {
  const base = Number(process.env.SCHED_SEED ?? 0) || 0x1234abcd;
  for (let k = 0; k < 4; k++) {
    const seed = (base + k * 0x9e3779b1) >>> 0;
    it(`seed ${seed.toString(16)}`, () => {
      const r = rng(seed);
      const pcpus = 1 + r(4);
      const sim = new SchedSim({ pcpus });
      const doms: Domain[] = [];
      const live = (): Vcpu[] => doms.filter((d) => !d.dying).flatMap((d) => d.vcpus.filter((v): v is Vcpu => v !== null));
      const workload = (): Workload => {
        switch (r(4)) {
          case 0: return hog;
          case 1: return new DutyCycle((1 + r(40)) * 0.5 * MS, (1 + r(20)) * 0.5 * MS);
          case 2: {
            return new DutyCycle((1 + r(4)) * 0.1 * MS, (1 + r(4)) * 5 * MS);
          }
          default: return hog;
        }
      };
      const ios: Array<[IoTask, Vcpu]> = [];
      for (let step = 0; step < 300; step++) {
        const vs = live();
        const op = r(12);
        const what = `seed ${seed.toString(16)} step ${step} op ${op}`;
        if (op === 0 || vs.length === 0) {
          const n = 1 + r(3);
          const work = Array.from({ length: n }, workload);
          const d = sim.domain(work, { weight: 1 + r(1024), cap: r(3) === 0 ? 10 + r(150) : 0 });
          doms.push(d);
          if (r(4) === 0) {
            const io = new IoTask((1 + r(10)) * MS, 0.1 * MS);
            const d2 = sim.domain([io]);
            doms.push(d2);
            io.start(sim, d2.vcpus[0]!);
            ios.push([io, d2.vcpus[0]!]);
          }
        } else if (op === 1) {
          const v = vs[r(vs.length)]!;
          expect(sim.core.setAffinity(v, 1 + r((1 << pcpus) - 1), r(2) ? null : r(1 << pcpus)), what).toBe(0);
        } else if (op === 2) {
          const d = vs[r(vs.length)]!.domain;
          d.pauseCount++;
          sim.core.updateDomain(d);
        } else if (op === 3) {
          const d = doms.find((x) => x.pauseCount > 0 && !x.dying);
          if (d) {
            d.pauseCount--;
            sim.core.updateDomain(d);
          }
        } else if (op === 4) {
          const v = vs[r(vs.length)]!;
          sim.policy.setParams(v.domain, r(2) ? 1 + r(65535) : 0, r(2) ? r(300) : 0xffff);
        } else if (op === 5) {
          const v = vs[r(vs.length)]!;
          if (v.running) sim.core.yield(v);
        } else if (op === 6 && vs.length > 2) {
          // Domain death: dying, off the pCPUs, out of the policy.
          const d = vs[r(vs.length)]!.domain;
          d.dying = true;
          sim.core.removeDomain(d);
        } else if (op === 7) {
          const ok = sim.policy.setGlobal({ tsliceMs: 1 + r(60), ratelimitUs: r(2) ? 0 : 100 + r(900), vcpuMigrDelayUs: r(3) ? 0 : r(2000) });
          expect(ok === 0 || ok < 0, what).toBe(true);
        }
        sim.run((1 + r(50)) * MS * (r(5) === 0 ? 10 : 1));
        checkInvariants(sim, live(), what);
        // Active pCPUs never drift apart by more than a quantum (plus one run's overshoot).
        const act = sim.core.pcpu.filter((pc) => pc.current !== null).map((pc) => pc.time);
        if (act.length > 1) expect(Math.max(...act) - Math.min(...act), what).toBeLessThanOrEqual(sim.loop.quantumNs * 2);
      }
      // Every vCPU's runstate times add up to its lifetime (within the clocks' skew).
      const now = sim.clock.global;
      for (const v of live()) {
        const snap = v.runstateSnapshot(now);
        expect(snap.time.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      }
      for (const [io] of ios) for (const l of io.latencies) expect(l).toBeGreaterThanOrEqual(0);
    });
  }
});

describe('scheduling core: determinism and clocks', () => {
  function trace(): string[] {
    const sim = new SchedSim({ pcpus: 3 });
    const out: string[] = [];
    sim.onSwitch = (prev, next, p, now) => out.push(`${p} ${String(prev)} ${String(next)} ${now}`);
    const io = new IoTask(2.3 * MS, 0.2 * MS);
    const d = sim.domain([io]);
    io.start(sim, d.vcpus[0]!);
    sim.domain([hog, new DutyCycle(4 * MS, 1 * MS)], { weight: 512 });
    sim.domain([hog, hog, hog], { cap: 120 });
    sim.run(2 * S);
    return out;
  }

  it('the same inputs give the same schedule, switch for switch', () => {
    const a = trace(), b = trace();
    expect(a.length).toBeGreaterThan(500);
    expect(b).toEqual(a);
  });

  it('an idle machine jumps to its next event; global time never goes back', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const d = sim.domain([new DutyCycle(1 * MS, 500 * MS)]);
    let last = sim.clock.global;
    for (let i = 0; i < 50; i++) {
      sim.run(37 * MS);
      expect(sim.clock.global).toBeGreaterThanOrEqual(last);
      last = sim.clock.global;
    }
    expect(sim.loop.turns).toBeLessThan(200);
    expect(sim.cpuTime(d.vcpus[0]!)).toBeGreaterThan(3 * MS);
    expect(sim.core.idleTime(0) + sim.core.idleTime(1)).toBeGreaterThan(3.5 * S);
  });

  it('a wake-up from a pCPU whose clock is ahead never starts a vCPU before it was woken', () => {
    const sim = new SchedSim({ pcpus: 2 });
    const woken: Array<[Vcpu, number]> = [];
    let target: Vcpu | null = null;
    const waker: Workload = {
      run(s, v, budget) {
        s.clock.advanceSystem(s.now() + Math.min(budget, 37_000));
        if (target !== null && target.isBlocked) {
          woken.push([target, s.now()]);
          s.core.unblock(target);
        }
        void v;
      },
    };
    const sleeper: Workload = {
      run(s, v) {
        const w = woken.find(([x]) => x === v);
        if (w) expect(s.now()).toBeGreaterThanOrEqual(w[1]);
        woken.length = 0;
        s.clock.advanceSystem(s.now() + 5_000);
        s.core.block(v);
      },
    };
    sim.domain([waker]);
    const d = sim.domain([sleeper], { affinity: [0b10] });
    target = d.vcpus[0]!;
    sim.run(200 * MS);
    expect(sim.cpuTime(target)).toBeGreaterThan(1 * MS);
  });
});

describe('round robin on the same interface', () => {
  it('keeps both pCPUs busy, respects affinity, weights mean nothing to it', () => {
    const sim = new SchedSim({ pcpus: 2, scheduler: new RoundRobinScheduler() });
    const ds = [sim.domain([hog]), sim.domain([hog]), sim.domain([hog], { affinity: [0b10] })];
    sim.run(3 * S);
    const t = ds.map((d) => sim.cpuTime(d.vcpus[0]!) / (3 * S));
    expect(t.reduce((a, b) => a + b, 0)).toBeGreaterThan(1.99);
    for (const x of t) expect(x).toBeGreaterThan(0.45);
    expect(sim.stats.get(ds[2]!.vcpus[0]!)!.perPcpu[0]).toBe(0);
    expect(sim.policy.getParams(ds[0]!)).toBeNull();
    expect(sim.policy.setParams(ds[0]!, 512, 0)).toBeLessThan(0);
  });
});
