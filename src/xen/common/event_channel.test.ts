import { describe, expect, it } from 'vitest';
import { EBUSY, EEXIST, EINVAL, ENOENT, EPERM, ESRCH } from '../../abi/errno.ts';
import { DOMID_SELF, VIRQ_DOM_EXC, VIRQ_TIMER } from '../../abi/xen.ts';
import {
  BIND_PIRQ__WILL_SHARE, EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_pirq, EVTCHNSTAT_unbound,
} from '../../abi/event_channel.ts';
import { makePvDomain, makeXen } from '../testing/harness.ts';

function bits(xen: ReturnType<typeof makeXen>, d: ReturnType<typeof makePvDomain>) {
  const si = d.sharedInfoMfn * 4096;
  const v = xen.mem.view;
  return {
    pending: (w: number) => v.getUint32(si + 2048 + w * 4, true),
    mask: (w: number, val: number) => v.setUint32(si + 2176 + w * 4, val, true),
    sel: () => v.getUint32(si + 4, true),
    upcall: () => xen.mem.u8[si]!,
    clearUpcall: () => { xen.mem.u8[si] = 0; v.setUint32(si + 4, 0, true); },
  };
}

describe('event channels (2-level)', () => {
  it('reserves port 0 and allocates the lowest free port', () => {
    const xen = makeXen();
    const a = makePvDomain(xen, 64);
    expect(xen.evtchn.close(a, 0)).toBe(-EINVAL);
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 0)).toBe(1);
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 0)).toBe(2);
    expect(xen.evtchn.close(a, 1)).toBe(0);
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 0)).toBe(1);
    const s = xen.evtchn.status(a, DOMID_SELF, 1);
    expect(s).toMatchObject({ status: EVTCHNSTAT_unbound, a: 0 });
    expect(xen.evtchn.status(a, DOMID_SELF, 5)).toMatchObject({ status: EVTCHNSTAT_closed });
    expect(xen.evtchn.status(a, DOMID_SELF, 900)).toBe(-EINVAL);
  });

  it('binds interdomain, marks the new port pending, and delivers sends with the 2-level protocol', () => {
    const xen = makeXen();
    const a = makePvDomain(xen, 64), b = makePvDomain(xen, 64);
    const pa = xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid);
    const pb = xen.evtchn.bindInterdomain(b, a.domid, pa);
    expect(pb).toBeGreaterThan(0);
    const bb = bits(xen, b), ab = bits(xen, a);
    expect(bb.pending(0) & (1 << pb)).not.toBe(0);
    expect(bb.upcall()).toBe(1);
    expect(xen.evtchn.send(b, pb)).toBe(0);
    expect(ab.pending(0) & (1 << pa)).not.toBe(0);
    expect(ab.sel() & 1).toBe(1);
    expect(xen.evtchn.status(a, DOMID_SELF, pa)).toMatchObject({ status: EVTCHNSTAT_interdomain, a: b.domid, b: pb });
    // A second bind to the same port fails: it is no longer unbound.
    expect(xen.evtchn.bindInterdomain(b, a.domid, pa)).toBe(-EINVAL);
    // Closing one end returns the other to unbound; a send to it is dropped.
    expect(xen.evtchn.close(a, pa)).toBe(0);
    expect(xen.evtchn.status(b, DOMID_SELF, pb)).toMatchObject({ status: EVTCHNSTAT_unbound, a: a.domid });
    expect(xen.evtchn.send(b, pb)).toBe(0);
    expect(xen.evtchn.send(a, pa)).toBe(-EINVAL);
  });

  it('records a masked port as pending only, and unmask raises the upcall', () => {
    const xen = makeXen();
    const a = makePvDomain(xen, 64);
    const p = xen.evtchn.bindIpi(a, 0);
    const ab = bits(xen, a);
    ab.mask(0, 1 << p);
    expect(xen.evtchn.send(a, p)).toBe(0);
    expect(ab.pending(0) & (1 << p)).not.toBe(0);
    expect(ab.sel()).toBe(0);
    expect(ab.upcall()).toBe(0);
    expect(xen.evtchn.unmask(a, p)).toBe(0);
    expect(ab.sel()).toBe(1);
    expect(ab.upcall()).toBe(1);
  });

  it('checks VIRQ bindings: range, per-vCPU vs global, vCPU existence, duplicates', () => {
    const xen = makeXen();
    const a = makePvDomain(xen, 64, 2);
    expect(xen.evtchn.bindVirq(a, 99, 0)).toBe(-EINVAL);
    expect(xen.evtchn.bindVirq(a, VIRQ_DOM_EXC, 1)).toBe(-EINVAL);
    expect(xen.evtchn.bindVirq(a, VIRQ_TIMER, 7)).toBe(-ENOENT);
    const p0 = xen.evtchn.bindVirq(a, VIRQ_TIMER, 0);
    const p1 = xen.evtchn.bindVirq(a, VIRQ_TIMER, 1);
    expect(p0).toBeGreaterThan(0);
    expect(p1).toBeGreaterThan(p0);
    expect(xen.evtchn.bindVirq(a, VIRQ_TIMER, 0)).toBe(-EEXIST);
    expect(xen.evtchn.bindVcpu(a, p0, 1)).toBe(-EINVAL); // per-vCPU VIRQs do not move
    xen.evtchn.sendVcpuVirq(a.vcpu(1)!, VIRQ_TIMER);
    expect(bits(xen, a).pending(0) & (1 << p1)).not.toBe(0);
  });

  it('refuses to act on another domain without privilege', () => {
    const xen = makeXen();
    const a = makePvDomain(xen, 64), b = makePvDomain(xen, 64);
    expect(xen.evtchn.allocUnbound(a, b.domid, 0)).toBe(-EPERM);
    expect(xen.evtchn.allocUnbound(a, 999, 0)).toBe(-ESRCH);
    expect(xen.evtchn.status(a, b.domid, 1)).toBe(-EPERM);
  });

  it('binds pirqs only with permission and in range, delivers them, masks the line until EOI', () => {
    const xen = makeXen();
    const a = makePvDomain(xen, 64), b = makePvDomain(xen, 64);
    expect(xen.evtchn.bindPirq(a, 5, 0)).toBe(-EPERM);
    expect(xen.evtchn.bindPirq(a, 100000, 0)).toBe(-EINVAL);
    a.irqs.add(5, 5);
    b.irqs.add(5, 5);
    const p = xen.evtchn.bindPirq(a, 5, BIND_PIRQ__WILL_SHARE);
    expect(p).toBeGreaterThan(0);
    expect(xen.evtchn.bindPirq(a, 5, 0)).toBe(-EEXIST);
    expect(xen.evtchn.status(a, DOMID_SELF, p)).toMatchObject({ status: EVTCHNSTAT_pirq, a: 5 });
    // b may share only if both agreed to.
    expect(xen.evtchn.bindPirq(b, 5, 0)).toBe(-EBUSY);
    const q = xen.evtchn.bindPirq(b, 5, BIND_PIRQ__WILL_SHARE);
    expect(q).toBeGreaterThan(0);
    xen.evtchn.pirqs.raise(5);
    const ab = bits(xen, a), bb = bits(xen, b);
    expect(ab.pending(0) & (1 << p)).not.toBe(0);
    expect(bb.pending(0) & (1 << q)).not.toBe(0);
    // Masked until both EOI: a second interrupt is held back, then delivered.
    v(xen, a, p, 0);
    v(xen, b, q, 0);
    xen.evtchn.pirqs.raise(5);
    expect(ab.pending(0) & (1 << p)).toBe(0);
    expect(xen.evtchn.pirqs.eoi(a, 5)).toBe(0);
    expect(ab.pending(0) & (1 << p)).toBe(0);
    expect(xen.evtchn.pirqs.eoi(b, 5)).toBe(0);
    expect(ab.pending(0) & (1 << p)).not.toBe(0);
    expect(xen.evtchn.pirqs.eoi(a, 6)).toBe(-EINVAL);
    // Closing unbinds; the line can then be bound without sharing by the other alone.
    expect(xen.evtchn.close(a, p)).toBe(0);
    expect(xen.evtchn.pirqs.isBound(a, 5)).toBe(false);
    expect(xen.evtchn.close(b, q)).toBe(0);
    expect(xen.evtchn.bindPirq(b, 5, 0)).toBeGreaterThan(0);
  });

  it('resets only its own ports or a paused domain\'s (privileged)', () => {
    const xen = makeXen();
    const d0 = xen.createDomain({ kind: 'pv', privileged: true }, 0);
    if (typeof d0 === 'number') throw new Error('dom0');
    const a = makePvDomain(xen, 64);
    a.pauseCount = 0;
    const p = xen.evtchn.allocUnbound(a, DOMID_SELF, 0);
    expect(xen.evtchn.reset(d0, a.domid)).toBe(-EINVAL);
    xen.pauseDomain(a);
    expect(xen.evtchn.reset(d0, a.domid)).toBe(0);
    expect(xen.evtchn.status(a, DOMID_SELF, p)).toMatchObject({ status: EVTCHNSTAT_closed });
    const p2 = xen.evtchn.allocUnbound(a, DOMID_SELF, 0);
    expect(xen.evtchn.reset(a, DOMID_SELF)).toBe(0);
    expect(xen.evtchn.status(a, DOMID_SELF, p2)).toMatchObject({ status: EVTCHNSTAT_closed });
  });
});

/** Clear pending bit `port` of `d` (as the guest's handler does). */
function v(xen: ReturnType<typeof makeXen>, d: ReturnType<typeof makePvDomain>, port: number, _w: number): void {
  const si = d.sharedInfoMfn * 4096 + 2048 + (port >>> 5) * 4;
  xen.mem.view.setUint32(si, xen.mem.view.getUint32(si, true) & ~(1 << (port & 31)), true);
}
