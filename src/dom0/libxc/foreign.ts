/**
 * Foreign mappings: frames of another domain mapped into dom0's pseudo-physical space
 * (XENMAPSPACE_gmfn_foreign, the privileged path libxc's xc_map_foreign_range takes), with
 * byte access through the port. Each mapped frame holds a reference the hypervisor keeps
 * until unmap(), so the frame cannot be freed under dom0's feet.
 */
import type { Xc } from './xc.ts';
import { XcError } from './xc.ts';

export class ForeignMap {
  private _mapped = true;

  private constructor(private readonly _xc: Xc, readonly domid: number, readonly gfns: readonly number[],
    readonly basePfn: number) {}

  /** Map `gfns` of `domid`; throws XcError naming the first frame that failed. */
  static map(xc: Xc, domid: number, gfns: readonly number[]): ForeignMap {
    const base = xc.allocForeignPfns(Math.max(1, gfns.length));
    if (base < 0) throw new XcError('foreign map: no pseudo-physical space', base);
    const errs = xc.mapForeignAt(domid, gfns, base);
    if (typeof errs === 'number' || errs.some((e) => e !== 0)) {
      const rc = typeof errs === 'number' ? errs : errs.find((e) => e !== 0)!;
      if (typeof errs !== 'number') errs.forEach((e, i) => { if (e === 0) xc.unmapPfn(base + i); });
      xc.freeForeignPfns(base, gfns.length);
      throw new XcError(`mapping frames of d${domid}`, rc);
    }
    return new ForeignMap(xc, domid, gfns, base);
  }

  get pages(): number {
    return this.gfns.length;
  }

  /** Pseudo-physical address of byte `off` of mapped page `i`. */
  gpa(i: number, off = 0): number {
    if (!this._mapped || i < 0 || i >= this.gfns.length) throw new RangeError(`foreign page ${i} not mapped`);
    return (this.basePfn + i) * 4096 + off;
  }

  write(i: number, off: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const page = i + Math.floor((off + done) / 4096);
      const o = (off + done) % 4096;
      const n = Math.min(bytes.length - done, 4096 - o);
      if (!this._xc.port.write(this.gpa(page, o), bytes.subarray(done, done + n))) throw new Error('foreign write failed');
      done += n;
    }
  }

  read(i: number, off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const page = i + Math.floor((off + done) / 4096);
      const o = (off + done) % 4096;
      const n = Math.min(len - done, 4096 - o);
      if (!this._xc.port.read(this.gpa(page, o), out.subarray(done, done + n))) throw new Error('foreign read failed');
      done += n;
    }
    return out;
  }

  view(i: number, off: number, len: number): DataView {
    return new DataView(this.read(i, off, len).buffer);
  }

  unmap(): void {
    if (!this._mapped) return;
    this._mapped = false;
    for (let i = 0; i < this.gfns.length; i++) this._xc.unmapPfn(this.basePfn + i);
    this._xc.freeForeignPfns(this.basePfn, this.gfns.length);
  }
}
