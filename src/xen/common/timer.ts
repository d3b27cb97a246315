/**
 * Software timers on the system clock (Xen's common/timer.c idea): a binary min-heap of
 * armed timers keyed by absolute deadline in system-time ns. The scheduler loop fires the
 * expired ones between slices and bounds each slice by the next deadline, so timers are
 * exact on virtual time and never need a host timer in the core.
 *
 * Invariants:
 *  - A timer is in the heap iff `active`; `heapIndex` is its position.
 *  - Timers with equal deadlines fire in the order they were armed (a sequence number
 *    breaks ties), so runs are deterministic.
 *  - A callback may re-arm its own timer or others; firing continues until no armed timer
 *    has a deadline <= now.
 */
export class Timer {
  deadline = 0;
  active = false;
  heapIndex = -1;
  seq = 0;
  constructor(readonly fn: (now: number) => void, readonly name: string) {}
}

export class TimerQueue {
  private readonly _heap: Timer[] = [];
  private _seq = 0;

  get size(): number {
    return this._heap.length;
  }

  /** Arm (or re-arm) `t` to fire at absolute time `deadline`. */
  set(t: Timer, deadline: number): void {
    if (t.active) this._remove(t);
    t.deadline = deadline;
    t.seq = this._seq++;
    t.active = true;
    t.heapIndex = this._heap.length;
    this._heap.push(t);
    this._up(t.heapIndex);
  }

  stop(t: Timer): void {
    if (t.active) this._remove(t);
  }

  /** Deadline of the earliest armed timer, or Infinity. */
  nextDeadline(): number {
    return this._heap.length === 0 ? Infinity : this._heap[0]!.deadline;
  }

  /** Fire every timer whose deadline is <= now; returns how many fired. */
  fireExpired(now: number): number {
    let n = 0;
    while (this._heap.length > 0 && this._heap[0]!.deadline <= now) {
      const t = this._heap[0]!;
      this._remove(t);
      n++;
      t.fn(now);
    }
    return n;
  }

  private _less(a: Timer, b: Timer): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  private _remove(t: Timer): void {
    const h = this._heap;
    const i = t.heapIndex;
    const last = h.pop()!;
    t.active = false;
    t.heapIndex = -1;
    if (last !== t) {
      h[i] = last;
      last.heapIndex = i;
      this._down(i);
      this._up(last.heapIndex);
    }
  }

  private _up(i: number): void {
    const h = this._heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this._less(h[i]!, h[p]!)) break;
      this._swap(i, p);
      i = p;
    }
  }

  private _down(i: number): void {
    const h = this._heap;
    for (;;) {
      const l = i * 2 + 1, r = l + 1;
      let m = i;
      if (l < h.length && this._less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this._less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      this._swap(i, m);
      i = m;
    }
  }

  private _swap(i: number, j: number): void {
    const h = this._heap;
    const a = h[i]!, b = h[j]!;
    h[i] = b;
    h[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }
}
