/**
 * Deadlines on the Clock for the network stack (TCP retransmission, delayed ACK, persist and
 * TIME-WAIT; NAT and reassembly expiry). Deterministic: nothing fires by itself. A driver
 * calls run(now) — the Node adapter from one host timer armed at `nextAt`, tests after
 * advancing a virtual clock.
 *
 * Invariants:
 * - Each Timed object has at most one live entry: schedule(o, at) only pushes when `at` is
 *   earlier than the entry it already has. A later deadline is left to the earlier wake-up,
 *   where the object re-checks its own deadlines and schedules again. So re-arming a timer
 *   per ACK costs nothing and the heap holds O(objects) entries.
 * - run(now) calls onTimer(now) for every object whose entry is due, earliest first; an
 *   object may schedule itself again from onTimer.
 * - onEarlier fires when the earliest deadline moves earlier (the host driver re-arms then).
 */
export interface Timed {
  /** Managed by TimerQueue: the deadline of this object's live entry, or Infinity. */
  timerAt: number;
  onTimer(nowNs: number): void;
}

export class TimerQueue {
  onEarlier: (() => void) | null = null;
  private readonly _at: number[] = [];
  private readonly _obj: Timed[] = [];

  get size(): number { return this._at.length; }

  /** The earliest deadline, or Infinity. */
  get nextAt(): number { return this._at.length ? this._at[0] : Infinity; }

  schedule(o: Timed, at: number): void {
    if (at >= o.timerAt) return;
    const wasNext = this.nextAt;
    o.timerAt = at;
    this._push(at, o);
    if (at < wasNext && this.onEarlier) this.onEarlier();
  }

  /** Forget an object's pending wake-up (its entry becomes stale and is skipped). */
  cancel(o: Timed): void {
    o.timerAt = Infinity;
  }

  run(now: number): void {
    while (this._at.length && this._at[0] <= now) {
      const at = this._at[0];
      const o = this._obj[0];
      this._pop();
      if (o.timerAt !== at) continue; // stale
      o.timerAt = Infinity;
      o.onTimer(now);
    }
  }

  private _push(at: number, o: Timed): void {
    const a = this._at, ob = this._obj;
    let i = a.length;
    a.push(at); ob.push(o);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= at) break;
      a[i] = a[p]; ob[i] = ob[p];
      i = p;
    }
    a[i] = at; ob[i] = o;
  }

  private _pop(): void {
    const a = this._at, ob = this._obj;
    const lastAt = a.pop()!; // SAFETY: callers check length > 0
    const lastO = ob.pop()!;
    const n = a.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1] < a[c]) c++;
      if (a[c] >= lastAt) break;
      a[i] = a[c]; ob[i] = ob[c];
      i = c;
    }
    a[i] = lastAt; ob[i] = lastO;
  }
}
