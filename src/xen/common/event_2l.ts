/**
 * The 2-level event ABI: the pending/mask bitmaps in shared_info and the per-vCPU
 * selector and upcall flags in vcpu_info (event-channels.md §8), as Xen drives them.
 *
 * Set pending (port p, notify vCPU v), in Xen's order:
 *   1. test-and-set pending[p]; already set -> stop (no upcall, no poll wake-up).
 *   2. if mask[p] is clear and test-and-set of selector bit p/32 in v's vcpu_info was
 *      clear -> mark events pending on v: test-and-set evtchn_upcall_pending; if it was 0,
 *      kick v (wake it; the upcall is delivered on its next return to the guest).
 *   3. wake any vCPU of the domain polling p.
 * Unmask: test-and-clear mask[p]; if it was set and pending[p] is set and the selector bit
 * was clear -> mark events pending.
 *
 * The bits live in guest-shared machine memory: the hypervisor's accesses are plain loads
 * and stores of whole 32-bit words. Guests use locked instructions on the same words; on
 * one host thread the two never interleave inside an instruction, which is the atomicity
 * the protocol needs.
 */
import {
  SHARED_INFO_EVTCHN_MASK, SHARED_INFO_EVTCHN_PENDING, VCPU_INFO_EVTCHN_PENDING_SEL,
  VCPU_INFO_EVTCHN_UPCALL_MASK, VCPU_INFO_EVTCHN_UPCALL_PENDING,
} from '../../abi/xen.ts';
import type { MachineMemory } from '../../hw/memory/machine_memory.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';

/** What event delivery calls back into (the scheduler / native-domain glue). */
export interface EventKick {
  /** evtchn_upcall_pending went 0 -> 1 on `v`: wake it if blocked, deliver on next entry. */
  kick(v: Vcpu): void;
  /** A port `v` polls became pending. */
  wakePoller(v: Vcpu): void;
}

export class Evtchn2l {
  private readonly _view: DataView;

  constructor(private readonly _mem: MachineMemory, private readonly _kick: EventKick) {
    this._view = _mem.view;
  }

  private _si(d: Domain): number {
    return d.sharedInfoMfn * 4096;
  }

  isPending(d: Domain, port: number): boolean {
    if (d.sharedInfoMfn < 0) return false;
    return (this._view.getInt32(this._si(d) + SHARED_INFO_EVTCHN_PENDING + (port >>> 5) * 4, true) & (1 << (port & 31))) !== 0;
  }

  isMasked(d: Domain, port: number): boolean {
    if (d.sharedInfoMfn < 0) return true;
    return (this._view.getInt32(this._si(d) + SHARED_INFO_EVTCHN_MASK + (port >>> 5) * 4, true) & (1 << (port & 31))) !== 0;
  }

  setPending(d: Domain, v: Vcpu, port: number): void {
    if (d.sharedInfoMfn < 0) return;
    const view = this._view;
    const pa = this._si(d) + SHARED_INFO_EVTCHN_PENDING + (port >>> 5) * 4;
    const bit = 1 << (port & 31);
    const pend = view.getInt32(pa, true);
    if ((pend & bit) !== 0) return;
    view.setInt32(pa, pend | bit, true);
    const mask = view.getInt32(this._si(d) + SHARED_INFO_EVTCHN_MASK + (port >>> 5) * 4, true);
    if ((mask & bit) === 0 && this._setSelector(v, port >>> 5)) this.markEventsPending(v);
    this._checkPollers(d, port);
  }

  clearPending(d: Domain, port: number): void {
    if (d.sharedInfoMfn < 0) return;
    const pa = this._si(d) + SHARED_INFO_EVTCHN_PENDING + (port >>> 5) * 4;
    this._view.setInt32(pa, this._view.getInt32(pa, true) & ~(1 << (port & 31)), true);
  }

  unmask(d: Domain, v: Vcpu, port: number): void {
    if (d.sharedInfoMfn < 0) return;
    const view = this._view;
    const ma = this._si(d) + SHARED_INFO_EVTCHN_MASK + (port >>> 5) * 4;
    const bit = 1 << (port & 31);
    const mask = view.getInt32(ma, true);
    if ((mask & bit) === 0) return;
    view.setInt32(ma, mask & ~bit, true);
    if (this.isPending(d, port) && this._setSelector(v, port >>> 5)) this.markEventsPending(v);
  }

  /** vcpu_mark_events_pending: set evtchn_upcall_pending and kick on a 0 -> 1 change. */
  markEventsPending(v: Vcpu): void {
    if (v.vcpuInfoMa < 0) return;
    const u8 = this._mem.u8;
    const a = v.vcpuInfoMa + VCPU_INFO_EVTCHN_UPCALL_PENDING;
    if (u8[a] !== 0) return;
    u8[a] = 1;
    this._kick.kick(v);
  }

  upcallPending(v: Vcpu): boolean {
    return v.vcpuInfoMa >= 0 && this._mem.u8[v.vcpuInfoMa + VCPU_INFO_EVTCHN_UPCALL_PENDING] !== 0;
  }

  upcallMasked(v: Vcpu): boolean {
    return v.vcpuInfoMa < 0 || this._mem.u8[v.vcpuInfoMa + VCPU_INFO_EVTCHN_UPCALL_MASK] !== 0;
  }

  setUpcallMask(v: Vcpu, masked: boolean): void {
    if (v.vcpuInfoMa >= 0) this._mem.u8[v.vcpuInfoMa + VCPU_INFO_EVTCHN_UPCALL_MASK] = masked ? 1 : 0;
  }

  /** Test-and-set selector bit `word`; true if it was clear. */
  private _setSelector(v: Vcpu, word: number): boolean {
    if (v.vcpuInfoMa < 0) return false;
    const a = v.vcpuInfoMa + VCPU_INFO_EVTCHN_PENDING_SEL;
    const sel = this._view.getInt32(a, true);
    const bit = 1 << word;
    if ((sel & bit) !== 0) return false;
    this._view.setInt32(a, sel | bit, true);
    return true;
  }

  /**
   * evtchn_check_pollers: a vCPU polling exactly this port, or polling several (or zero)
   * ports, is woken; it re-examines its ports when it runs.
   */
  private _checkPollers(d: Domain, port: number): void {
    for (const v of d.vcpus) {
      const ports = v?.pollPorts;
      if (!v || !ports) continue;
      if (ports.length !== 1 || ports[0] === port) this._kick.wakePoller(v);
    }
  }
}
