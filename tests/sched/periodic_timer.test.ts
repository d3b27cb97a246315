/**
 * Xen stops a vCPU's periodic timer when the vCPU leaves its pCPU (schedule() stops
 * prev->periodic_timer) and catches up when it is scheduled in again
 * (vcpu_periodic_timer_work): a blocked vCPU gets no 100 Hz ticks, so an idle guest costs
 * nothing, and guests that forget to wake each other are not rescued by a tick that real
 * Xen never sends (minios relied on it once: docs/minios.md).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNSTATE_blocked } from '../../src/xen/common/vcpu.ts';
import { KERNEL, SchedHost } from './sched_host.ts';

const MS = 1e6;

describe.skipIf(!existsSync(KERNEL.echo))('the periodic timer follows the vCPU on and off its pCPU', () => {
  it('a blocked vCPU has no periodic timer armed; scheduled in again, it gets the tick it missed', () => {
    const h = new SchedHost({ pcpus: 1 });
    const e = h.boot('echo', KERNEL.echo, '', 'ECHO port=');
    const port = Number(/ECHO port=(\d+)/.exec(e.console())![1]); // SAFETY: printed before boot() returned
    h.run(50 * MS);
    const v = e.vcpus[0]!;
    expect(v.runstate).toBe(RUNSTATE_blocked);
    expect(v.periodicPeriodNs).toBe(10 * MS); // Xen's default, never stopped by this guest
    expect(v.periodic!.active).toBe(false);
    // Nothing is due, so an idle machine's virtual clock does not tick along at 100 Hz.
    const t0 = h.now;
    h.run(1000 * MS);
    expect(h.now - t0).toBeLessThan(10 * MS);
    // Time passes while it stays blocked (a hog on the same pCPU), still without its ticks.
    h.boot('hog', KERNEL.hog, '', 'HOG ready');
    const last = v.periodicLastEvent;
    h.run(100 * MS);
    expect(v.periodicLastEvent).toBe(last);
    expect(v.periodic!.active).toBe(false);
    // An event wakes it: on the way in the missed tick is sent and the next one armed; when
    // it blocks again the timer is stopped once more.
    const xc = h.host.xc;
    const local = xc.bindInterdomain(e.domid, port);
    expect(local).toBeGreaterThan(0);
    let echoes = 0;
    h.host.events.on(local, () => void echoes++);
    const woke = h.now;
    xc.notify(local);
    h.run(5 * MS);
    expect(echoes).toBeGreaterThanOrEqual(1);
    expect(v.periodicLastEvent).toBeGreaterThan(last);
    expect(v.periodicLastEvent).toBeGreaterThanOrEqual(woke);
    expect(v.runstate).toBe(RUNSTATE_blocked);
    expect(v.periodic!.active).toBe(false);
  });
});
