/**
 * Domain-0's CPU time (what `xl list`, `vcpu-list` and `top` show): dom0 is the host
 * process itself, so its vCPU is blocked except while the host works on its behalf
 * (upcalls, the event-loop turns between slices, API requests). With the virtual clock a
 * unit of that work (one of dom0's hypercalls) costs NATIVE_HYPERCALL_NS; with the host
 * clock the host time spent is charged.
 *
 * Read through getdomaininfo, the domctl `xl list` uses.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUESTS, KERNEL, SchedHost } from './sched_host.ts';
import { NATIVE_HYPERCALL_NS } from '../../src/xen/xen.ts';
import { RUNSTATE_blocked } from '../../src/xen/common/vcpu.ts';
import { XEN_DOMINF_blocked, XEN_DOMINF_running } from '../../src/abi/domctl.ts';

const S = 1e9;
const MS = 1e6;

beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS, 'sched-tests', 'minios'], { stdio: 'inherit' });
}, 300_000);

describe("dom0's CPU time (virtual clock)", () => {
  it('an idle dom0 beside a spinning guest stays blocked: its time grows far slower than the clock', () => {
    const h = new SchedHost({ pcpus: 1 });
    const g = h.boot('hog', KERNEL.hog, '', 'HOG ready');
    const t0 = h.now, d0 = h.cpuTime(0), g0 = h.cpuTime(g.domid);
    h.run(1 * S);
    const elapsed = h.now - t0;
    const dom0 = h.cpuTime(0) - d0;
    expect(elapsed).toBeGreaterThanOrEqual(1 * S);
    expect(h.cpuTime(g.domid) - g0).toBeGreaterThan(0.95 * elapsed); // the guest has the pCPU
    expect(dom0 / elapsed).toBeLessThan(0.2);
    // Outside the host's work dom0's vCPU is blocked, not running (xl: "-b", not "r").
    const v = h.host.dom0.vcpus[0]!;
    expect(v.runstate).toBe(RUNSTATE_blocked);
    const flags = h.host.xc.getDomainInfo(0)!.flags;
    expect(flags & XEN_DOMINF_running).toBe(0);
    expect(flags & XEN_DOMINF_blocked).not.toBe(0);
  });

  it('dom0 runs while the host works for it (what xl sees during its own request)', () => {
    const h = new SchedHost({ pcpus: 1 });
    const seen = h.host.dom0Work(() => h.host.xc.getDomainInfo(0)!).flags;
    expect(seen & XEN_DOMINF_running).not.toBe(0);
    expect(seen & XEN_DOMINF_blocked).toBe(0);
    const v = h.host.dom0.vcpus[0]!;
    expect(v.runstate).toBe(RUNSTATE_blocked);
    expect(v.nativeDepth).toBe(0);
    // Each read of the CPU time is itself one hypercall, charged before it answers.
    const t = h.cpuTime(0);
    h.host.dom0Work(() => h.host.dom0Work(() => undefined));
    const t1 = h.cpuTime(0);
    expect(t1 - t).toBe(NATIVE_HYPERCALL_NS); // a bracket without hypercalls costs nothing; nesting adds nothing
    h.host.dom0Work(() => h.host.xc.getDomainInfo(0));
    expect(h.cpuTime(0) - t1).toBe(2 * NATIVE_HYPERCALL_NS);
  });

  /** An echo guest and dom0 playing ping-pong `rounds` times (dom0 answers from its upcall). */
  function pingPong(h: SchedHost, rounds: number): number {
    const e = h.boot('echo', KERNEL.echo, '', 'ECHO port=');
    const port = Number(/ECHO port=(\d+)/.exec(e.console())![1]); // SAFETY: printed before boot() returned
    const xc = h.host.xc;
    h.run(10 * MS);
    const d0 = h.cpuTime(0), t0 = h.now;
    // The echo guest answers the bind too: the ping-pong starts with it.
    const local = xc.bindInterdomain(e.domid, port);
    expect(local).toBeGreaterThan(0);
    let echoes = 0;
    h.host.events.on(local, () => {
      if (++echoes < rounds) xc.notify(local);
    });
    h.run(200 * MS);
    expect(echoes).toBe(rounds);
    const dom0 = h.cpuTime(0) - d0;
    // Once the ping-pong ends nothing is due (a blocked vCPU gets no periodic ticks, as on
    // Xen), so the virtual clock stops short of the 200 ms window asked for: compare with it.
    expect(h.now - t0).toBeLessThanOrEqual(200 * MS);
    expect(dom0).toBeLessThan(0.2 * 200 * MS);
    expect(h.host.dom0.vcpus[0]!.runstate).toBe(RUNSTATE_blocked);
    return dom0;
  }

  it("dom0's time grows with the work it does for a guest (an event ping-pong from its upcalls)", () => {
    const few = pingPong(new SchedHost({ pcpus: 1 }), 10);
    const many = pingPong(new SchedHost({ pcpus: 1 }), 200);
    // Each round: dom0's notify, plus the unmask/ack of its event handling; the reads cost one unit each.
    expect(many - few).toBeGreaterThanOrEqual(190 * NATIVE_HYPERCALL_NS);
    expect(few).toBeGreaterThanOrEqual(10 * NATIVE_HYPERCALL_NS);
  }, 120_000);

  it('is deterministic: the same run charges dom0 the same time', () => {
    const a = new SchedHost({ pcpus: 1 }), b = new SchedHost({ pcpus: 1 });
    expect(pingPong(a, 50)).toBe(pingPong(b, 50));
    expect(a.cpuTime(0)).toBe(b.cpuTime(0));
  }, 120_000);
});

describe("dom0's CPU time (host clock)", () => {
  it('the host time between slices is charged, not the clock', async () => {
    const h = new SchedHost({ pcpus: 1, clock: 'host' });
    const g = h.boot('hog', KERNEL.hog, '', 'HOG ready', 30 * S);
    const t0 = h.now, d0 = h.cpuTime(0), g0 = h.cpuTime(g.domid);
    const until = t0 + 1.5 * S;
    await h.host.runUntil(() => h.now >= until, { timeoutMs: 20_000 });
    const elapsed = h.now - t0;
    const dom0 = h.cpuTime(0) - d0;
    expect(h.cpuTime(g.domid) - g0).toBeGreaterThan(0.5 * elapsed);
    expect(dom0).toBeGreaterThan(0); // the event-loop turns between slices are dom0's
    expect(dom0 / elapsed).toBeLessThan(0.2);
  }, 60_000);
});
