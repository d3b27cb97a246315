/**
 * physdev_op on a shared physical IRQ, as PV guests issue it: two domains given the same
 * pirq (domctl irq_permission) bind it with BIND_PIRQ__WILL_SHARE, and
 * PHYSDEVOP_irq_status_query reports what Xen 4.17 reports — XENIRQSTAT_needs_eoi always,
 * XENIRQSTAT_shared while more than one domain has the line bound. A delivered interrupt
 * reaches both ports and the line stays masked until both EOI. The hypercalls run from each
 * guest's vCPU with their structs in its memory; guests stay paused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import type { Guest } from '../../src/dom0/toolstack/toolstack.ts';
import { dispatch } from '../../src/xen/arch/x86/hypercall.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { __HYPERVISOR_event_channel_op, __HYPERVISOR_physdev_op } from '../../src/abi/xen.ts';
import { BIND_PIRQ__WILL_SHARE, EVTCHNOP_bind_pirq, EVTCHNOP_close } from '../../src/abi/event_channel.ts';
import { PHYSDEVOP_eoi, PHYSDEVOP_irq_status_query, XENIRQSTAT_needs_eoi, XENIRQSTAT_shared } from '../../src/abi/physdev.ts';
import { XEN_DOMCTL_irq_permission } from '../../src/abi/domctl.ts';
import { DOMCTL_IRQ_PERMISSION } from '../../src/abi/control_wire.ts';
import { EFAULT, EINVAL } from '../../src/abi/errno.ts';
import { SHARED_INFO_EVTCHN_PENDING } from '../../src/abi/gen/xen.ts';

const KERNEL = join(import.meta.dirname, '..', '..', 'guests', 'build', 'pv-xen_version.elf');
const PIRQ = 5;

class Dom {
  readonly va: number;
  readonly mfn: number;
  constructor(readonly host: Host, readonly guest: Guest) {
    const l = guest.built.layout!;
    this.va = l.stackVa + 4096;
    this.mfn = guest.built.p2m[(this.va - l.virtBase) / 4096]!;
  }

  /** Hypercall `nr`(cmd, &{words}); returns [rc, words after]. */
  call(nr: number, cmd: number, ...words: number[]): [number, number[]] {
    const view = this.host.xen.mem.view;
    words.forEach((w, i) => view.setUint32(this.mfn * 4096 + i * 4, w >>> 0, true));
    const v = this.host.xen.domain(this.guest.domid)!.vcpus[0]!;
    const rc = dispatch(this.host.xen, v, nr, cmd, this.va, 0, 0, 0);
    return [rc, words.map((_, i) => view.getUint32(this.mfn * 4096 + i * 4, true))];
  }

  bindPirq(pirq: number, flags: number): number {
    const [rc, out] = this.call(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_pirq, pirq, flags, 0);
    return rc < 0 ? rc : out[2]!;
  }

  status(irq: number): number {
    const [rc, out] = this.call(__HYPERVISOR_physdev_op, PHYSDEVOP_irq_status_query, irq, 0xdead);
    return rc < 0 ? rc : out[1]!;
  }

  pending(port: number): boolean {
    const si = this.host.xen.domain(this.guest.domid)!.sharedInfoMfn * 4096;
    return (this.host.xen.mem.view.getUint32(si + SHARED_INFO_EVTCHN_PENDING + 4 * (port >>> 5), true) & (1 << (port & 31))) !== 0;
  }
}

function start(host: Host, name: string): Dom {
  const cfg = pvConfig(parseXlConfig(`name="${name}"\nkernel="${KERNEL}"\nmemory=32`));
  const g = host.toolstack.createPv(cfg, new Uint8Array(readFileSync(KERNEL)), { paused: true });
  const rc = host.xc.domctl(XEN_DOMCTL_irq_permission, g.domid, (v, u) => {
    v.setUint32(u + DOMCTL_IRQ_PERMISSION.pirq!, PIRQ, true);
    v.setUint8(u + DOMCTL_IRQ_PERMISSION.allow_access!, 1);
  }).rc;
  expect(rc).toBe(0);
  return new Dom(host, g);
}

describe.skipIf(!existsSync(KERNEL))('physdev_op on a shared pirq', () => {
  it('irq_status_query: needs_eoi always, shared while two domains have the line bound', () => {
    const host = new Host({ memoryMiB: 96, wallclockBaseNs: 1_700_000_000e9 });
    const a = start(host, 'a'), b = start(host, 'b');
    expect(a.status(PIRQ)).toBe(XENIRQSTAT_needs_eoi);
    const pa = a.bindPirq(PIRQ, BIND_PIRQ__WILL_SHARE);
    expect(pa).toBeGreaterThan(0);
    expect(a.status(PIRQ)).toBe(XENIRQSTAT_needs_eoi);
    const pb = b.bindPirq(PIRQ, BIND_PIRQ__WILL_SHARE);
    expect(pb).toBeGreaterThan(0);
    expect(a.status(PIRQ)).toBe(XENIRQSTAT_needs_eoi | XENIRQSTAT_shared);
    expect(b.status(PIRQ)).toBe(XENIRQSTAT_needs_eoi | XENIRQSTAT_shared);
    expect(a.status(PIRQ + 1)).toBe(XENIRQSTAT_needs_eoi);
    // One interrupt reaches both; the line is masked until both EOI.
    host.xen.evtchn.pirqs.raise(PIRQ);
    expect([a.pending(pa), b.pending(pb)]).toEqual([true, true]);
    expect(a.call(__HYPERVISOR_physdev_op, PHYSDEVOP_eoi, PIRQ)[0]).toBe(0);
    // Clear A's pending bit as its handler would, then raise again: still masked (B owes an EOI).
    const si = host.xen.domain(a.guest.domid)!.sharedInfoMfn * 4096 + SHARED_INFO_EVTCHN_PENDING + 4 * (pa >>> 5);
    host.xen.mem.view.setUint32(si, host.xen.mem.view.getUint32(si, true) & ~(1 << (pa & 31)), true);
    host.xen.evtchn.pirqs.raise(PIRQ);
    expect(a.pending(pa)).toBe(false);
    expect(b.call(__HYPERVISOR_physdev_op, PHYSDEVOP_eoi, PIRQ)[0]).toBe(0);
    expect(a.pending(pa)).toBe(true); // the interrupt that came while masked
    // B closes its port: no longer shared.
    expect(b.call(__HYPERVISOR_event_channel_op, EVTCHNOP_close, pb)[0]).toBe(0);
    expect(a.status(PIRQ)).toBe(XENIRQSTAT_needs_eoi);
    // Hostile: past the domain's pirqs, an unreadable argument.
    expect(a.status(56)).toBe(-EINVAL);
    expect(dispatch(host.xen, host.xen.domain(a.guest.domid)!.vcpus[0]!, __HYPERVISOR_physdev_op,
      PHYSDEVOP_irq_status_query, 0xf5800000, 0, 0, 0)).toBe(-EFAULT);
    host.toolstack.destroy(a.guest.domid);
    host.toolstack.destroy(b.guest.domid);
    expect(auditMemory(host.xen)).toEqual([]);
  });
});
