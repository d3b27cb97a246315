/**
 * A native domain's own RAM pages for things it shares (grant pages, accept-transfer
 * slots), handed out from the frames above its hypercall scratch (Xc's SCRATCH_PAGES ..
 * ramPages-1). One pool per domain (per Xc), shared by every user in that domain, so two
 * libraries never hand out the same page.
 *
 * Invariants: a pfn is either free in the pool or owned by exactly one taker until given
 * back; pages are zeroed when handed out (through the hypercall port, code-coherently).
 */
import { SCRATCH_PAGES, type Xc } from '../libxc/xc.ts';

const POOLS = new WeakMap<Xc, Dom0Pages>();

export class Dom0Pages {
  private readonly _free: number[] = [];
  private readonly _zero = new Uint8Array(4096);

  private constructor(private readonly _xc: Xc) {
    for (let p = _xc.port.ramPages - 1; p >= SCRATCH_PAGES; p--) this._free.push(p);
  }

  /** The pool of `xc`'s domain. */
  static of(xc: Xc): Dom0Pages {
    let p = POOLS.get(xc);
    if (p === undefined) {
      p = new Dom0Pages(xc);
      POOLS.set(xc, p);
    }
    return p;
  }

  get free(): number {
    return this._free.length;
  }

  /** A zeroed page (its pfn), or -1 when the pool is empty. */
  take(): number {
    const pfn = this._free.pop();
    if (pfn === undefined) return -1;
    this._xc.port.write(pfn * 4096, this._zero);
    return pfn;
  }

  give(pfn: number): void {
    this._free.push(pfn);
  }
}
