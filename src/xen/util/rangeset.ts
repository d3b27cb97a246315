/**
 * A set of integer ranges (Xen's rangeset): I/O port, I/O memory and IRQ permissions of a
 * domain. Ranges are inclusive [first, last], kept sorted, disjoint and non-adjacent.
 */
export class RangeSet {
  private _r: Array<[number, number]> = [];

  get empty(): boolean {
    return this._r.length === 0;
  }

  contains(x: number): boolean {
    for (const [a, b] of this._r) {
      if (x < a) return false;
      if (x <= b) return true;
    }
    return false;
  }

  /** True if every value in [first, last] is in the set. */
  containsRange(first: number, last: number): boolean {
    for (const [a, b] of this._r) if (first >= a && last <= b) return true;
    return false;
  }

  add(first: number, last: number): void {
    if (last < first) return;
    const out: Array<[number, number]> = [];
    let lo = first, hi = last;
    for (const [a, b] of this._r) {
      if (b + 1 < lo || a > hi + 1) out.push([a, b]);
      else {
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    }
    out.push([lo, hi]);
    out.sort((p, q) => p[0] - q[0]);
    this._r = out;
  }

  remove(first: number, last: number): void {
    if (last < first) return;
    const out: Array<[number, number]> = [];
    for (const [a, b] of this._r) {
      if (b < first || a > last) {
        out.push([a, b]);
        continue;
      }
      if (a < first) out.push([a, first - 1]);
      if (b > last) out.push([last + 1, b]);
    }
    this._r = out;
  }

  ranges(): ReadonlyArray<readonly [number, number]> {
    return this._r;
  }
}
