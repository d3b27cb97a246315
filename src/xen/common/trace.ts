/**
 * The trace buffer (Xen's xentrace, reduced): a fixed ring of binary records of what the
 * hypervisor did, for dom0 tools and tests. Records are typed-array rows:
 *   time (ns, f64) | event (u32) | a (i32) | b (i32)
 * Event classes (our own numbering, shown by `tsxen trace`-style readers):
 *   TRC_HYPERCALL   a = domid << 16 | vcpu, b = hypercall number
 *   TRC_TRAP        a = domid << 16 | vcpu, b = vector (bounced to the guest)
 *   TRC_PGTYPE      a = mfn, b = new type_info
 *   TRC_SCHED_SWITCH a = prev (domid * 65536 + vcpu or -1), b = next
 *   TRC_DOM         a = domid, b = lifecycle event
 *
 * Invariants: recording never allocates; the ring keeps the newest CAPACITY records;
 * `total` counts every record ever made so readers can detect loss.
 */

export const TRC_HYPERCALL = 0x0001;
export const TRC_TRAP = 0x0002;
export const TRC_PGTYPE = 0x0003;
export const TRC_SCHED_SWITCH = 0x0004;
export const TRC_DOM = 0x0005;

const CAPACITY = 1 << 14;

export interface TraceRecord {
  readonly time: number;
  readonly event: number;
  readonly a: number;
  readonly b: number;
}

export class TraceBuffer {
  private readonly _time = new Float64Array(CAPACITY);
  private readonly _ev = new Uint32Array(CAPACITY);
  private readonly _a = new Int32Array(CAPACITY);
  private readonly _b = new Int32Array(CAPACITY);
  total = 0;
  /** Bit n set = record event class n (all on by default). */
  mask = 0xffffffff;

  constructor(private readonly _now: () => number) {}

  record(event: number, a: number, b: number): void {
    if ((this.mask & (1 << (event & 31))) === 0) return;
    const i = this.total % CAPACITY;
    this._time[i] = this._now();
    this._ev[i] = event;
    this._a[i] = a | 0;
    this._b[i] = b | 0;
    this.total++;
  }

  /** Records with index >= from (oldest kept first). */
  read(from = 0, max = CAPACITY): TraceRecord[] {
    const oldest = Math.max(0, this.total - CAPACITY);
    const out: TraceRecord[] = [];
    for (let n = Math.max(from, oldest); n < this.total && out.length < max; n++) {
      const i = n % CAPACITY;
      out.push({ time: this._time[i]!, event: this._ev[i]!, a: this._a[i]!, b: this._b[i]! });
    }
    return out;
  }
}
