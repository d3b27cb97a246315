/**
 * Physical IRQs given to domains (Xen's pirq_guest_bind / do_IRQ_guest / pirq EOI): a
 * domain with permission for a pirq (domctl irq_permission) binds an event channel to it
 * (EVTCHNOP_bind_pirq); when the machine raises that interrupt line, every bound domain's
 * port is set pending, and the line stays masked until each of them has sent
 * PHYSDEVOP_eoi (a level-triggered line would otherwise storm).
 *
 * Sharing (BIND_PIRQ__WILL_SHARE): a line already bound by one domain can be bound by
 * another only if both agreed to share (else -EBUSY, as Xen).
 *
 * Invariants: `bindings.get(irq)` lists exactly the domains whose evtchn table has a
 * port in state pirq for it; `inFlight` counts the domains that got the current interrupt
 * and have not EOI'd it; a line is unmasked (deliverable) when it is 0.
 */
import { EBUSY, EINVAL } from '../../abi/errno.ts';
import type { Domain } from './domain.ts';

interface Binding {
  readonly domain: Domain;
  readonly share: boolean;
  /** This domain got the current interrupt and has not EOI'd it. */
  pending: boolean;
}

interface Line {
  readonly binders: Binding[];
  inFlight: number;
  /** Interrupts that arrived while masked (delivered at the last EOI). */
  missed: number;
}

export class PirqRouter {
  private readonly _lines = new Map<number, Line>();

  /** Deliver pirq `irq` to a domain (EventChannels.sendPirq); set by the owner. */
  constructor(private readonly _deliver: (d: Domain, irq: number) => void) {}

  /** pirq_guest_bind: 0, or -EBUSY if the line is bound without sharing. */
  bind(d: Domain, irq: number, share: boolean): number {
    let l = this._lines.get(irq);
    if (l === undefined) {
      l = { binders: [], inFlight: 0, missed: 0 };
      this._lines.set(irq, l);
    }
    if (l.binders.some((b) => b.domain === d)) return -EINVAL;
    if (l.binders.length > 0 && (!share || l.binders.some((b) => !b.share))) return -EBUSY;
    l.binders.push({ domain: d, share, pending: false });
    return 0;
  }

  /** pirq_guest_unbind (close of the port, domain death): an EOI owed is forgiven. */
  unbind(d: Domain, irq: number): void {
    const l = this._lines.get(irq);
    if (l === undefined) return;
    const i = l.binders.findIndex((b) => b.domain === d);
    if (i < 0) return;
    if (l.binders[i]!.pending) this._eoiOne(l, irq); // SAFETY: index found above
    l.binders.splice(i, 1);
    if (l.binders.length === 0) this._lines.delete(irq);
  }

  /** The machine raised line `irq`: deliver to every binder unless masked by an EOI owed. */
  raise(irq: number): void {
    const l = this._lines.get(irq);
    if (l === undefined) return;
    if (l.inFlight > 0) {
      l.missed++;
      return;
    }
    for (const b of l.binders) {
      b.pending = true;
      l.inFlight++;
    }
    for (const b of [...l.binders]) this._deliver(b.domain, irq);
  }

  /** PHYSDEVOP_eoi from `d`: 0, or -EINVAL if `d` has no binding of `irq`. */
  eoi(d: Domain, irq: number): number {
    const l = this._lines.get(irq);
    const b = l?.binders.find((x) => x.domain === d);
    if (l === undefined || b === undefined) return -EINVAL;
    if (b.pending) {
      b.pending = false;
      this._eoiOne(l, irq);
    }
    return 0;
  }

  /** pirq_shared: more than one domain has line `irq` bound (PHYSDEVOP_irq_status_query). */
  isShared(irq: number): boolean {
    return (this._lines.get(irq)?.binders.length ?? 0) > 1;
  }

  isBound(d: Domain, irq: number): boolean {
    return this._lines.get(irq)?.binders.some((b) => b.domain === d) ?? false;
  }

  private _eoiOne(l: Line, irq: number): void {
    l.inFlight--;
    if (l.inFlight === 0 && l.missed > 0) {
      l.missed = 0;
      this.raise(irq);
    }
  }
}
