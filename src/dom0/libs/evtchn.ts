/**
 * Event channels for native domains (the role of Xen's libxenevtchn): one handle per
 * user (a backend, xenconsoled, a test), owning the ports it bound and the handlers that
 * run when they fire. Built on the domain's hypercall client (Xc) and its upcall
 * demultiplexer (Dom0Events), so it works the same in dom0 and in a driver domain.
 *
 * Invariants: a handle only ever notifies, unmasks or closes ports it bound itself; close()
 * unbinds every one of them (each exactly once); handlers run from the domain's upcall
 * (between scheduler slices), never inside a hypercall.
 */
import { DOMID_SELF } from '../../abi/xen.ts';
import { EBADF } from '../../abi/errno.ts';
import {
  EVTCHNOP_bind_ipi, EVTCHNOP_status, EVTCHNSTAT_closed, EVTCHNSTAT_interdomain,
  EVTCHNSTAT_ipi, EVTCHNSTAT_pirq, EVTCHNSTAT_unbound, EVTCHNSTAT_virq,
} from '../../abi/event_channel.ts';
import { __HYPERVISOR_event_channel_op } from '../../abi/xen.ts';
import type { Xc } from '../libxc/xc.ts';
import type { Dom0Events } from '../libxc/events.ts';

export type EvtchnHandler = (port: number) => void;

/** EVTCHNOP_status as an object. */
export type EvtchnStatus =
  | { readonly state: 'closed' | 'ipi'; readonly vcpu: number }
  | { readonly state: 'unbound'; readonly vcpu: number; readonly remoteDom: number }
  | { readonly state: 'interdomain'; readonly vcpu: number; readonly remoteDom: number; readonly remotePort: number }
  | { readonly state: 'virq' | 'pirq'; readonly vcpu: number; readonly number: number };

export class XenEvtchnError extends Error {
  override name = 'XenEvtchnError';
  constructor(what: string, readonly rc: number) {
    super(`${what}: ${rc}`);
  }
}

export class XenEvtchn {
  private readonly _ports = new Set<number>();
  private _closed = false;

  constructor(private readonly _xc: Xc, private readonly _events: Dom0Events) {}

  /** Ports this handle has bound. */
  get ports(): ReadonlySet<number> {
    return this._ports;
  }

  /** A port of ours that `remoteDom` may bind (xenevtchn_bind_unbound_port). */
  bindUnbound(remoteDom: number, handler: EvtchnHandler): number {
    return this._adopt(this._xc.allocUnbound(DOMID_SELF, remoteDom), 'alloc_unbound', handler);
  }

  /** Connect to `remoteDom`'s unbound port (xenevtchn_bind_interdomain). */
  bindInterdomain(remoteDom: number, remotePort: number, handler: EvtchnHandler): number {
    return this._adopt(this._xc.bindInterdomain(remoteDom, remotePort), 'bind_interdomain', handler);
  }

  bindVirq(virq: number, handler: EvtchnHandler): number {
    return this._adopt(this._xc.bindVirq(virq), 'bind_virq', handler);
  }

  /** An IPI port of our vCPU 0 (a loopback doorbell). */
  bindIpi(handler: EvtchnHandler): number {
    const rc = this._op(EVTCHNOP_bind_ipi, 8, (v) => v.setUint32(0, 0, true), 4);
    return this._adopt(rc, 'bind_ipi', handler);
  }

  /**
   * Take charge of a port of ours that someone else allocated (the toolstack's store or
   * console port of a native domain, as start_info hands them to a PV guest).
   */
  adopt(port: number, handler: EvtchnHandler): number {
    return this._adopt(port, 'adopt', handler);
  }

  /** xenevtchn_notify. Returns 0 or -errno (a port this handle did not bind: -EBADF). */
  notify(port: number): number {
    if (!this._ports.has(port)) return -EBADF;
    return this._xc.notify(port);
  }

  /** xenevtchn_unbind: close one of our ports. */
  unbind(port: number): number {
    if (!this._ports.delete(port)) return -EBADF;
    this._events.off(port);
    return this._xc.closePort(port);
  }

  status(port: number, dom = DOMID_SELF): EvtchnStatus | number {
    let v: DataView | null = null;
    const rc = this._xc.withScratch(() => {
      const a = this._xc.struct(24, (s) => {
        s.setUint16(0, dom, true);
        s.setUint32(4, port, true);
      });
      const r = this._xc.port.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_status, a);
      if (r === 0) v = this._xc.get(a, 24);
      return r;
    });
    if (rc < 0 || v === null) return rc;
    const s: DataView = v;
    const vcpu = s.getUint32(12, true);
    switch (s.getUint32(8, true)) {
      case EVTCHNSTAT_unbound: return { state: 'unbound', vcpu, remoteDom: s.getUint16(16, true) };
      case EVTCHNSTAT_interdomain:
        return { state: 'interdomain', vcpu, remoteDom: s.getUint16(16, true), remotePort: s.getUint32(20, true) };
      case EVTCHNSTAT_virq: return { state: 'virq', vcpu, number: s.getUint32(16, true) };
      case EVTCHNSTAT_pirq: return { state: 'pirq', vcpu, number: s.getUint32(16, true) };
      case EVTCHNSTAT_ipi: return { state: 'ipi', vcpu };
      case EVTCHNSTAT_closed:
      default: return { state: 'closed', vcpu };
    }
  }

  /** Unbind everything this handle bound. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    for (const p of [...this._ports]) this.unbind(p);
  }

  private _adopt(port: number, what: string, handler: EvtchnHandler): number {
    if (this._closed) throw new XenEvtchnError(`${what} on a closed handle`, -EBADF);
    if (port < 0) throw new XenEvtchnError(what, port);
    this._ports.add(port);
    this._events.on(port, handler);
    return port;
  }

  private _op(cmd: number, size: number, fill: (v: DataView) => void, outOff: number): number {
    return this._xc.withScratch(() => {
      const a = this._xc.struct(size, fill);
      const rc = this._xc.port.hypercall(__HYPERVISOR_event_channel_op, cmd, a);
      return rc < 0 ? rc : this._xc.get(a, size).getUint32(outOff, true);
    });
  }
}

