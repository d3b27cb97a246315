/**
 * dom0's event-channel demultiplexer: the upcall handler a PV kernel would have, for a
 * native domain. On an upcall it clears evtchn_upcall_pending, exchanges the selector
 * with 0, and for each pending, unmasked port clears its pending bit and runs the port's
 * handler (the 2-level protocol of event-channels.md §8.5), all through dom0's own view
 * of its shared_info page.
 */
import {
  SHARED_INFO_EVTCHN_MASK, SHARED_INFO_EVTCHN_PENDING, VCPU_INFO_EVTCHN_PENDING_SEL, VCPU_INFO_EVTCHN_UPCALL_MASK,
  VCPU_INFO_EVTCHN_UPCALL_PENDING,
} from '../../abi/xen.ts';
import { SHARED_INFO_PFN, type Xc } from './xc.ts';

const SI = SHARED_INFO_PFN * 4096;

export class Dom0Events {
  private readonly _handlers = new Map<number, (port: number) => void>();
  private readonly _b1 = new Uint8Array(1);
  private readonly _w = new Uint8Array(4);
  private readonly _wv = new DataView(this._w.buffer);

  constructor(private readonly _xc: Xc) {
    const rc = _xc.mapSharedInfo();
    if (rc < 0) throw new Error(`dom0 cannot map its shared_info: ${rc}`);
    // Unmask upcalls on vCPU 0 (a fresh vcpu_info starts masked).
    this._b1[0] = 0;
    _xc.port.write(SI + VCPU_INFO_EVTCHN_UPCALL_MASK, this._b1);
    _xc.port.setEventHandler(() => this.dispatch());
  }

  /** Run `h` when `port` fires (and unmask the port). */
  on(port: number, h: (port: number) => void): void {
    this._handlers.set(port, h);
    // Unmask through the hypervisor (EVTCHNOP_unmask), with the mask bit set first: only a
    // masked -> unmasked transition re-raises an event that became pending while the port
    // was masked (e.g. a reused port, or a peer that notified before the handler existed).
    this._setMask(port, true);
    this._xc.unmask(port);
  }

  off(port: number): void {
    this._handlers.delete(port);
    this._setMask(port, true);
  }

  /** The upcall: handle every pending, unmasked port. Returns how many ran. */
  dispatch(): number {
    const port = this._xc.port;
    this._b1[0] = 0;
    port.write(SI + VCPU_INFO_EVTCHN_UPCALL_PENDING, this._b1);
    const sel = this._read32(SI + VCPU_INFO_EVTCHN_PENDING_SEL);
    this._write32(SI + VCPU_INFO_EVTCHN_PENDING_SEL, 0);
    let n = 0;
    for (let w = 0; w < 32; w++) {
      if ((sel & (1 << w)) === 0) continue;
      for (;;) {
        const pend = this._read32(SI + SHARED_INFO_EVTCHN_PENDING + w * 4);
        const mask = this._read32(SI + SHARED_INFO_EVTCHN_MASK + w * 4);
        const ready = pend & ~mask;
        if (ready === 0) break;
        const b = 31 - Math.clz32(ready & -ready);
        this._write32(SI + SHARED_INFO_EVTCHN_PENDING + w * 4, pend & ~(1 << b));
        const p = w * 32 + b;
        const h = this._handlers.get(p);
        if (h) {
          h(p);
          n++;
        }
      }
    }
    return n;
  }

  private _setMask(port: number, masked: boolean): void {
    const a = SI + SHARED_INFO_EVTCHN_MASK + (port >>> 5) * 4;
    const m = this._read32(a);
    this._write32(a, masked ? m | (1 << (port & 31)) : m & ~(1 << (port & 31)));
  }

  private _read32(gpa: number): number {
    this._xc.port.read(gpa, this._w);
    return this._wv.getInt32(0, true);
  }

  private _write32(gpa: number, v: number): void {
    this._wv.setInt32(0, v, true);
    this._xc.port.write(gpa, this._w);
  }
}
