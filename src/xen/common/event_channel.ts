/**
 * Event channels: each domain's table of ports and the operations on it (Xen's
 * common/event_channel.c semantics, event-channels.md §6), as plain workers with typed
 * arguments. The hypercall decoding is in event_channel_op.ts; the bit protocol in
 * shared_info in event_2l.ts.
 *
 * Port states: free, reserved (port 0, allocated at creation and never handed out),
 * unbound (waiting for `remoteDom` to bind), interdomain (linked to remoteDom:remotePort),
 * virq, pirq (a physical interrupt line, event_channel_pirq.ts), ipi.
 *
 * Invariants:
 *  - Interdomain links are symmetric: if A:p is linked to B:q then B:q is linked to A:p.
 *  - `virqPort[v][virq]` names a port in state virq bound to that vCPU, or 0.
 *  - Ports are valid below `validPorts`, which grows in buckets of 64 as ports are
 *    allocated (Xen's port_is_valid): a port beyond it is -EINVAL, a free one inside it
 *    reports EVTCHNSTAT_closed.
 *  - Closing a port clears its pending bit and resets its notify vCPU to 0.
 */
import {
  EEXIST, EINVAL, ENOENT, ENOSPC, EPERM, ESRCH,
} from '../../abi/errno.ts';
import { DOMID_SELF, EVTCHN_2L_NR_CHANNELS, NR_VIRQS, VIRQ_DEBUG, VIRQ_TIMER, VIRQ_XENOPROF, VIRQ_XENPMU } from '../../abi/xen.ts';
import {
  EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_ipi, EVTCHNSTAT_pirq, EVTCHNSTAT_unbound, EVTCHNSTAT_virq,
} from '../../abi/event_channel.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';
import type { Evtchn2l } from './event_2l.ts';
import { BIND_PIRQ__WILL_SHARE } from '../../abi/event_channel.ts';
import { NR_PIRQS } from '../arch/x86/physdev.ts';
import { PirqRouter } from './event_channel_pirq.ts';

export const ECS_FREE = 0;
export const ECS_RESERVED = 1;
export const ECS_UNBOUND = 2;
export const ECS_INTERDOMAIN = 3;
export const ECS_PIRQ = 4;
export const ECS_VIRQ = 5;
export const ECS_IPI = 6;

const BUCKET = 64;

/** VIRQs bound per vCPU; all others are global (bound on vCPU 0, movable). */
export function virqIsPerVcpu(virq: number): boolean {
  return virq === VIRQ_TIMER || virq === VIRQ_DEBUG || virq === VIRQ_XENOPROF || virq === VIRQ_XENPMU;
}

export class EvtchnDomain {
  readonly state = new Uint8Array(EVTCHN_2L_NR_CHANNELS);
  readonly notifyVcpu = new Uint16Array(EVTCHN_2L_NR_CHANNELS);
  /** unbound: the domain allowed to bind; interdomain: the peer domain. */
  readonly remoteDom = new Int32Array(EVTCHN_2L_NR_CHANNELS);
  /** interdomain: the peer port. */
  readonly remotePort = new Int32Array(EVTCHN_2L_NR_CHANNELS);
  /** virq / pirq number of a bound port. */
  readonly bound = new Int32Array(EVTCHN_2L_NR_CHANNELS);
  /** Per vCPU: VIRQ -> port (0 = unbound). */
  readonly virqPort: Int32Array[] = [];
  /** pirq -> port of the pirq-bound ports. */
  readonly pirqPort = new Map<number, number>();
  validPorts = BUCKET;
  /** Highest port the domain may use + 1 (set_max_evtchn). */
  maxPorts = EVTCHN_2L_NR_CHANNELS;

  constructor() {
    this.state[0] = ECS_RESERVED;
  }

  virqTable(vcpu: number): Int32Array {
    let t = this.virqPort[vcpu];
    if (!t) {
      t = new Int32Array(NR_VIRQS);
      this.virqPort[vcpu] = t;
    }
    return t;
  }

  portValid(p: number): boolean {
    return Number.isInteger(p) && p >= 0 && p < this.validPorts;
  }

  /** Lowest free port, growing the valid range by a bucket if needed; -ENOSPC if none. */
  allocPort(): number {
    for (let p = 0; p < this.maxPorts; p++) {
      if (p >= this.validPorts) this.validPorts = Math.min(EVTCHN_2L_NR_CHANNELS, this.validPorts + BUCKET);
      if (this.state[p] === ECS_FREE) return p;
    }
    return -ENOSPC;
  }
}

export interface EvtchnStatus {
  status: number;
  vcpu: number;
  /** unbound: allowed domain; interdomain: peer domain; pirq/virq: the number. */
  a: number;
  /** interdomain: peer port. */
  b: number;
}

/** Lookup and permission services the event-channel code uses. */
export interface EvtchnEnv {
  domain(domid: number): Domain | undefined;
}

export class EventChannels {
  /** Physical interrupt lines bound by domains. */
  readonly pirqs: PirqRouter;

  constructor(readonly bits: Evtchn2l, private readonly _env: EvtchnEnv) {
    this.pirqs = new PirqRouter((d, irq) => this.sendPirq(d, irq));
  }

  /** Resolve DOMID_SELF and check "caller acts on target" (XSM_TARGET): -ESRCH / -EPERM. */
  targetDomain(caller: Domain, domid: number): Domain | number {
    const d = domid === DOMID_SELF ? caller : this._env.domain(domid);
    if (d === undefined || d.dying) return -ESRCH;
    if (d !== caller && !caller.privileged) return -EPERM;
    return d;
  }

  allocUnbound(caller: Domain, dom: number, remoteDom: number): number {
    const d = this.targetDomain(caller, dom);
    if (typeof d === 'number') return d;
    const t = d.evtchn;
    const port = t.allocPort();
    if (port < 0) return port;
    t.state[port] = ECS_UNBOUND;
    t.remoteDom[port] = remoteDom === DOMID_SELF ? caller.domid : remoteDom;
    t.notifyVcpu[port] = 0;
    return port;
  }

  bindInterdomain(ld: Domain, remoteDom: number, rport: number): number {
    const rdid = remoteDom === DOMID_SELF ? ld.domid : remoteDom;
    const rd = this._env.domain(rdid);
    if (rd === undefined || rd.dying) return -ESRCH;
    const lt = ld.evtchn;
    const lport = lt.allocPort();
    if (lport < 0) return lport;
    const rt = rd.evtchn;
    if (!rt.portValid(rport)) return -EINVAL;
    // A loopback bind to the port being allocated is not possible: it is still free.
    if (rt.state[rport] !== ECS_UNBOUND || rt.remoteDom[rport] !== ld.domid) return -EINVAL;
    lt.state[lport] = ECS_INTERDOMAIN;
    lt.remoteDom[lport] = rd.domid;
    lt.remotePort[lport] = rport;
    lt.notifyVcpu[lport] = 0;
    rt.state[rport] = ECS_INTERDOMAIN;
    rt.remoteDom[rport] = ld.domid;
    rt.remotePort[rport] = lport;
    // Notifications sent to the remote port while it was unbound were dropped: make up.
    this._setPending(ld, lport);
    return lport;
  }

  bindVirq(d: Domain, virq: number, vcpuId: number): number {
    if (!(virq >= 0 && virq < NR_VIRQS)) return -EINVAL;
    if (!virqIsPerVcpu(virq) && vcpuId !== 0) return -EINVAL;
    const v = d.vcpu(vcpuId);
    if (v === null) return -ENOENT;
    const t = d.evtchn;
    const table = t.virqTable(vcpuId);
    if (table[virq] !== 0) return -EEXIST;
    const port = t.allocPort();
    if (port < 0) return port;
    t.state[port] = ECS_VIRQ;
    t.bound[port] = virq;
    t.notifyVcpu[port] = vcpuId;
    table[virq] = port;
    return port;
  }

  /**
   * bind_pirq: pirq range (-EINVAL), permission (domctl irq_permission, -EPERM), not bound
   * yet (-EEXIST), the line bindable (-EBUSY: bound by another domain without sharing).
   * The port notifies vCPU 0.
   */
  bindPirq(d: Domain, pirq: number, flags: number): number {
    if (!(pirq >= 0 && pirq < NR_PIRQS)) return -EINVAL;
    if (!d.irqs.contains(pirq)) return -EPERM;
    const t = d.evtchn;
    if (t.pirqPort.has(pirq)) return -EEXIST;
    const port = t.allocPort();
    if (port < 0) return port;
    const rc = this.pirqs.bind(d, pirq, (flags & BIND_PIRQ__WILL_SHARE) !== 0);
    if (rc !== 0) return rc;
    t.state[port] = ECS_PIRQ;
    t.bound[port] = pirq;
    t.notifyVcpu[port] = 0;
    t.pirqPort.set(pirq, port);
    return port;
  }

  /** send_guest_pirq: the line `pirq` fired for `d`. */
  sendPirq(d: Domain, pirq: number): void {
    const port = d.evtchn.pirqPort.get(pirq);
    if (port !== undefined) this._setPending(d, port);
  }

  bindIpi(d: Domain, vcpuId: number): number {
    if (d.vcpu(vcpuId) === null) return -ENOENT;
    const t = d.evtchn;
    const port = t.allocPort();
    if (port < 0) return port;
    t.state[port] = ECS_IPI;
    t.notifyVcpu[port] = vcpuId;
    return port;
  }

  close(d: Domain, port: number): number {
    const t = d.evtchn;
    if (!t.portValid(port)) return -EINVAL;
    switch (t.state[port]) {
      case ECS_FREE:
      case ECS_RESERVED:
        return -EINVAL;
      case ECS_VIRQ: {
        const table = t.virqTable(t.notifyVcpu[port]!);
        // A global VIRQ moved with bind_vcpu is still recorded on vCPU 0.
        if (table[t.bound[port]!] === port) table[t.bound[port]!] = 0;
        else if (t.virqTable(0)[t.bound[port]!] === port) t.virqTable(0)[t.bound[port]!] = 0;
        break;
      }
      case ECS_PIRQ:
        this.pirqs.unbind(d, t.bound[port]!);
        t.pirqPort.delete(t.bound[port]!);
        break;
      case ECS_INTERDOMAIN: {
        const rd = this._env.domain(t.remoteDom[port]!);
        const rport = t.remotePort[port]!;
        if (rd !== undefined && rd.evtchn.state[rport] === ECS_INTERDOMAIN && rd.evtchn.remoteDom[rport] === d.domid &&
            rd.evtchn.remotePort[rport] === port) {
          rd.evtchn.state[rport] = ECS_UNBOUND;
          rd.evtchn.remoteDom[rport] = d.domid;
          rd.evtchn.remotePort[rport] = 0;
        }
        break;
      }
      default:
        break;
    }
    this.bits.clearPending(d, port);
    t.state[port] = ECS_FREE;
    t.notifyVcpu[port] = 0;
    t.remoteDom[port] = 0;
    t.remotePort[port] = 0;
    t.bound[port] = 0;
    return 0;
  }

  send(d: Domain, port: number): number {
    const t = d.evtchn;
    if (!t.portValid(port)) return -EINVAL;
    switch (t.state[port]) {
      case ECS_INTERDOMAIN: {
        const rd = this._env.domain(t.remoteDom[port]!);
        if (rd !== undefined) this._setPending(rd, t.remotePort[port]!);
        return 0;
      }
      case ECS_IPI:
        this._setPending(d, port);
        return 0;
      case ECS_UNBOUND:
        return 0; // silently dropped
      default:
        return -EINVAL;
    }
  }

  status(caller: Domain, dom: number, port: number): EvtchnStatus | number {
    const d = this.targetDomain(caller, dom);
    if (typeof d === 'number') return d;
    const t = d.evtchn;
    if (!t.portValid(port)) return -EINVAL;
    const vcpu = t.notifyVcpu[port]!;
    switch (t.state[port]) {
      case ECS_UNBOUND: return { status: EVTCHNSTAT_unbound, vcpu, a: t.remoteDom[port]!, b: 0 };
      case ECS_INTERDOMAIN: return { status: EVTCHNSTAT_interdomain, vcpu, a: t.remoteDom[port]!, b: t.remotePort[port]! };
      case ECS_PIRQ: return { status: EVTCHNSTAT_pirq, vcpu, a: t.bound[port]!, b: 0 };
      case ECS_VIRQ: return { status: EVTCHNSTAT_virq, vcpu, a: t.bound[port]!, b: 0 };
      case ECS_IPI: return { status: EVTCHNSTAT_ipi, vcpu, a: 0, b: 0 };
      default: return { status: EVTCHNSTAT_closed, vcpu, a: 0, b: 0 };
    }
  }

  bindVcpu(d: Domain, port: number, vcpuId: number): number {
    if (d.vcpu(vcpuId) === null) return -ENOENT;
    const t = d.evtchn;
    if (!t.portValid(port)) return -EINVAL;
    switch (t.state[port]) {
      case ECS_VIRQ:
        if (virqIsPerVcpu(t.bound[port]!)) return -EINVAL;
        t.notifyVcpu[port] = vcpuId;
        return 0;
      case ECS_UNBOUND:
      case ECS_INTERDOMAIN:
      case ECS_PIRQ:
        t.notifyVcpu[port] = vcpuId;
        return 0;
      default:
        return -EINVAL;
    }
  }

  unmask(d: Domain, port: number): number {
    const t = d.evtchn;
    if (!t.portValid(port)) return -EINVAL;
    const v = d.vcpu(t.notifyVcpu[port]!);
    if (v !== null) this.bits.unmask(d, v, port);
    return 0;
  }

  reset(caller: Domain, dom: number): number {
    const d = this.targetDomain(caller, dom);
    if (typeof d === 'number') return d;
    // Another domain's ports may only be reset while its controller keeps it paused.
    if (d !== caller && d.pauseCount === 0) return -EINVAL;
    this.closeAll(d);
    return 0;
  }

  /** Close every port (domain destruction, EVTCHNOP_reset). */
  closeAll(d: Domain): void {
    const t = d.evtchn;
    for (let p = 1; p < t.validPorts; p++) {
      if (t.state[p] !== ECS_FREE && t.state[p] !== ECS_RESERVED) this.close(d, p);
    }
  }

  /** send_guest_vcpu_virq: raise a per-vCPU VIRQ on `v` if bound. */
  sendVcpuVirq(v: Vcpu, virq: number): void {
    const t = v.domain.evtchn;
    const port = t.virqPort[v.id]?.[virq] ?? 0;
    if (port !== 0) this._setPending(v.domain, port);
  }

  /** send_guest_global_virq: raise a global VIRQ on `d` (bound on vCPU 0's table). */
  sendGlobalVirq(d: Domain, virq: number): void {
    const port = d.evtchn.virqPort[0]?.[virq] ?? 0;
    if (port !== 0) this._setPending(d, port);
  }

  /** Raise a port directly (the hypervisor's own notifications, e.g. the console). */
  notify(d: Domain, port: number): void {
    if (d.evtchn.portValid(port) && d.evtchn.state[port] !== ECS_FREE) this._setPending(d, port);
  }

  private _setPending(d: Domain, port: number): void {
    const v = d.vcpu(d.evtchn.notifyVcpu[port]!) ?? d.vcpu(0);
    if (v !== null) this.bits.setPending(d, v, port);
  }
}
