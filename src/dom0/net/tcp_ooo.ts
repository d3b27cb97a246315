/**
 * TCP's out-of-order queue: segments that arrived ahead of rcv.nxt, copied (the frame is
 * only lent), kept sorted by sequence number until the gap before them is filled.
 *
 * Invariants: entries are sorted by seq (mod 2^32 order); memory is bounded by the caller,
 * which only stores data inside its receive window; an exact duplicate (same seq, no longer)
 * is not stored twice; takeNext() never returns bytes before rcv.nxt (old overlap is cut).
 */
import { add, diff, le, lt } from './tcp_types.ts';

export class OutOfOrderQueue {
  private _q: { seq: number; data: Uint8Array }[] = [];

  get length(): number { return this._q.length; }

  store(seq: number, data: Uint8Array): void {
    const q = this._q;
    let i = 0;
    while (i < q.length && lt(q[i].seq, seq)) i++;
    if (i < q.length && q[i].seq === seq && q[i].data.length >= data.length) return;
    q.splice(i, 0, { seq, data: data.slice() });
  }

  /** The next bytes that continue the stream at rcvNxt, or null if there is still a gap. */
  takeNext(rcvNxt: number): Uint8Array | null {
    const q = this._q;
    while (q.length) {
      const s = q[0];
      if (lt(rcvNxt, s.seq)) return null;
      q.shift();
      if (le(add(s.seq, s.data.length), rcvNxt)) continue; // wholly old
      return s.data.subarray(diff(rcvNxt, s.seq));
    }
    return null;
  }

  clear(): void {
    this._q = [];
  }
}
