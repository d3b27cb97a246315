/**
 * Frames of the backend domain's own pseudo-physical space, for what a backend needs beyond
 * libxc's scratch: slots where grant mappings go (rings, data pages), and RAM pages of its
 * own (grant-op argument arrays, rx staging pages, pages netback gives away by flipping).
 *
 * - `slots(n)` reserves n contiguous empty pfns (no memory behind them) for mappings.
 * - `ram(n)` reserves n contiguous pfns and populates them (XENMEM_populate_physmap on
 *   itself), raising the domain's reservation limit (XEN_DOMCTL_max_mem) by what it takes,
 *   as a dom0 kernel's balloon would; `release` gives the frames back and lowers it again.
 * - `repopulate(pfns)` puts fresh frames behind pfns whose frames were given away
 *   (GNTTABOP_transfer), as 2.6.18 netback refills its MFN pool.
 *
 * Invariants: every pfn handed out is released exactly once (double release throws: a
 * backend bug); `ramFrames` is the number of frames this pool holds in the domain.
 */
import { EINVAL } from '../../abi/errno.ts';
import { type Xc, XcError } from '../libxc/xc.ts';

export class FramePool {
  /** RAM frames populated by this pool and not yet given back or away. */
  ramFrames = 0;
  private readonly _live = new Map<number, { n: number; ram: boolean }>();

  constructor(readonly xc: Xc) {}

  /** n contiguous empty pfns for grant mappings; returns the first. */
  slots(n: number): number {
    const base = this.xc.allocForeignPfns(n);
    if (base < 0) throw new XcError(`reserving ${n} pseudo-physical frames`, base);
    this._live.set(base, { n, ram: false });
    return base;
  }

  /** n contiguous pfns with fresh RAM behind them; returns the first. */
  ram(n: number): number {
    const base = this.xc.allocForeignPfns(n);
    if (base < 0) throw new XcError(`reserving ${n} pseudo-physical frames`, base);
    const pfns = Array.from({ length: n }, (_, i) => base + i);
    const rc = this._populate(pfns);
    if (rc < 0) {
      this.xc.freeForeignPfns(base, n);
      throw new XcError(`populating ${n} frames of d${this.xc.domid}`, rc);
    }
    this._live.set(base, { n, ram: true });
    return base;
  }

  /**
   * Put new frames behind `pfns` (inside a ram() range) whose frames were given away.
   * Returns the pfns that are still empty (no memory): their callers must stop using them.
   */
  repopulate(pfns: readonly number[]): number[] {
    // The frames given away made room under max_pages: no adjustment.
    if (this._populate(pfns, false) === 0) return [];
    // A short batch leaves some filled: find out which, one at a time.
    const empty: number[] = [];
    for (const pfn of pfns) {
      if (this.xc.port.view(pfn * 4096, 1) !== null) {
        this.ramFrames++;
        continue;
      }
      if (this._populate([pfn], false) !== 0) empty.push(pfn);
    }
    return empty;
  }

  /** Note that the frame at `pfn` left the domain (flipped to another one). */
  gaveAway(count: number): void {
    this.ramFrames -= count;
  }

  /** Give back a range from slots() or ram(). Mappings in slots must be gone already. */
  release(base: number): void {
    const r = this._live.get(base);
    if (r === undefined) throw new Error(`frame pool: ${base} was not handed out`);
    this._live.delete(base);
    if (r.ram) {
      let freed = 0;
      for (let i = 0; i < r.n; i++) if (this.xc.unmapPfn(base + i) === 0) freed++;
      this.ramFrames -= freed;
      this._adjustMax(-freed);
    }
    this.xc.freeForeignPfns(base, r.n);
  }

  /** Release everything still handed out. */
  releaseAll(): void {
    for (const base of [...this._live.keys()]) this.release(base);
  }

  private _populate(pfns: readonly number[], adjust = true): number {
    if (pfns.length === 0) return 0;
    if (adjust) {
      const rc0 = this._adjustMax(pfns.length);
      if (rc0 < 0) return rc0;
    }
    const r = this.xc.populatePhysmap(this.xc.domid, pfns);
    if (typeof r === 'number') {
      if (adjust) this._adjustMax(-pfns.length);
      return r < 0 ? r : -EINVAL;
    }
    this.ramFrames += pfns.length;
    return 0;
  }

  /** Move the domain's max_pages by `delta` frames (never below what it holds). */
  private _adjustMax(delta: number): number {
    const info = this.xc.getDomainInfo(this.xc.domid);
    if (info === null || info.domid !== this.xc.domid) return -EINVAL;
    const want = Math.max(info.totPages + Math.max(delta, 0), info.maxPages + delta);
    if (want === info.maxPages) return 0;
    return this.xc.setMaxMem(this.xc.domid, want * 4);
  }
}
