/**
 * The trace buffer (Xen's xentrace, reduced): a ring of binary records of what the
 * hypervisor did, kept in hypervisor-owned machine frames so dom0 can map and read it as
 * xentrace does (sysctl tbuf_op get_info gives the first frame and the size; dom0 maps
 * the frames as DOMID_XEN's).
 *
 * Layout: src/abi/control_wire.ts (TRACE_*), shared with dom0's reader.
 * Event classes (our own numbering):
 *   TRC_HYPERCALL   a = domid << 16 | vcpu, b = hypercall number
 *   TRC_TRAP        a = domid << 16 | vcpu, b = vector (bounced to the guest)
 *   TRC_PGTYPE      a = mfn, b = new type_info
 *   TRC_SCHED_SWITCH a = prev (domid * 65536 + vcpu or -1), b = next
 *   TRC_DOM         a = domid, b = lifecycle event
 *
 * Invariants: recording never allocates; the ring keeps the newest `capacity` records;
 * `total` counts every record ever made.
 */

export const TRC_HYPERCALL = 0x0001;
export const TRC_TRAP = 0x0002;
export const TRC_PGTYPE = 0x0003;
export const TRC_SCHED_SWITCH = 0x0004;
export const TRC_DOM = 0x0005;

import {
  readTraceRecords, TRACE_HEADER, TRACE_MAGIC, TRACE_ORDER, TRACE_RECORD, type TraceRecord,
} from '../../abi/control_wire.ts';

export { TRACE_ORDER, type TraceRecord };

export class TraceBuffer {
  readonly capacity: number;
  private readonly _view: DataView;
  total = 0;
  private _mask = 0xffffffff | 0;

  /**
   * @param base machine address of the buffer (TRACE_ORDER pages the hypervisor owns).
   */
  constructor(view: DataView, readonly base: number, private readonly _now: () => number) {
    this._view = view;
    this.capacity = ((4096 << TRACE_ORDER) - TRACE_HEADER) / TRACE_RECORD;
    view.setUint32(base, TRACE_MAGIC, true);
    view.setUint32(base + 4, 1, true);
    view.setUint32(base + 8, TRACE_RECORD, true);
    view.setUint32(base + 12, this.capacity, true);
    view.setUint32(base + 24, this._mask, true);
  }

  /** Bit n set = record event class n (all on by default). */
  get mask(): number {
    return this._mask >>> 0;
  }

  set mask(m: number) {
    this._mask = m | 0;
    this._view.setUint32(this.base + 24, m >>> 0, true);
  }

  get bytes(): number {
    return 4096 << TRACE_ORDER;
  }

  record(event: number, a: number, b: number): void {
    if ((this._mask & (1 << (event & 31))) === 0) return;
    const v = this._view;
    const n = this.total;
    const o = this.base + TRACE_HEADER + (n % this.capacity) * TRACE_RECORD;
    const t = this._now();
    v.setUint32(o, t % 0x100000000, true);
    v.setUint32(o + 4, Math.floor(t / 0x100000000), true);
    v.setUint32(o + 8, event, true);
    v.setInt32(o + 12, a | 0, true);
    v.setInt32(o + 16, b | 0, true);
    this.total = n + 1;
    v.setUint32(this.base + 16, this.total % 0x100000000, true);
    v.setUint32(this.base + 20, Math.floor(this.total / 0x100000000), true);
  }

  /** Records with index >= from (oldest kept first). */
  read(from = 0, max = Infinity): TraceRecord[] {
    return readTraceRecords(this._view, this.base, from, max).records;
  }
}
