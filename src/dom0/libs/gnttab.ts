/**
 * Grant access for native domains (the role of Xen's libxengnttab): map frames other
 * domains granted us into our pseudo-physical space and use them through zero-copy views,
 * copy between grants and our own pages with GNTTABOP_copy, and transfer pages.
 *
 * A mapping is the granted machine frame itself, placed in our physmap at a frame of the
 * foreign-mapping range (Xc.allocForeignPfns): `bytes` is a live Uint8Array over it. Reads
 * are free; a writer calls written(off, len) afterwards (code coherence: the frame may
 * hold the granter's code). A read-only mapping has a read-only view contract: writes
 * through the hypercall port fail, and no writable view is handed out.
 *
 * Batches: mapBatch/unmapBatch/copy issue one hypercall for up to BATCH operations.
 *
 * Invariants: every mapping this handle made is unmapped exactly once (unmap or close);
 * the physmap frame of a mapping is returned to the range only after Xen unmapped it.
 */
import { __HYPERVISOR_grant_table_op, DOMID_SELF } from '../../abi/xen.ts';
import {
  GNTCOPY_dest_gref, GNTCOPY_source_gref, GNTMAP_host_map, GNTMAP_readonly, GNTST_okay, GNTTABOP_copy,
  GNTTABOP_error_msgs, GNTTABOP_map_grant_ref, GNTTABOP_transfer, GNTTABOP_unmap_grant_ref,
} from '../../abi/grant_table.ts';
import type { Xc } from '../libxc/xc.ts';

/** Operations per hypercall. */
export const BATCH = 128;
const SZ_MAP = 32, SZ_UNMAP = 24, SZ_COPY = 24, SZ_TRANSFER = 16;

export class GrantMapping {
  private _live = true;

  constructor(readonly domid: number, readonly ref: number, readonly writable: boolean, readonly handle: number,
    /** Pseudo-physical address where the frame is mapped. */
    readonly gpa: number,
    /** The granted machine frame (dev_bus_addr >> 12). */
    readonly mfn: number,
    /** The frame's 4096 bytes (live). */
    readonly bytes: Uint8Array,
    private readonly _xc: Xc) {}

  get live(): boolean {
    return this._live;
  }

  /** Bytes [off, off + len) were written through `bytes`. */
  written(off = 0, len = 4096): void {
    this._xc.port.written(this.gpa + off, len);
  }

  /** @internal */
  dead(): void {
    this._live = false;
  }
}

/** One side of a copy: a grant ref of `domid`, or (`gmfn`) one of our own frames. */
export interface GrantCopySide {
  readonly ref?: number;
  readonly gmfn?: number;
  readonly domid?: number;
  readonly offset: number;
}

export interface GrantCopyOp {
  readonly src: GrantCopySide;
  readonly dst: GrantCopySide;
  readonly len: number;
}

export class XenGnttabError extends Error {
  override name = 'XenGnttabError';
  constructor(what: string, readonly rc: number) {
    super(`${what}: ${rc}`);
  }
}

/** Xen's message for a GNTST_* status. */
export function gntstMessage(status: number): string {
  return GNTTABOP_error_msgs[-status] ?? `status ${status}`;
}

export class XenGnttab {
  private readonly _maps = new Set<GrantMapping>();
  private readonly _buf = new Uint8Array(BATCH * SZ_MAP);
  private readonly _v = new DataView(this._buf.buffer);

  constructor(private readonly _xc: Xc) {}

  /** Mappings currently held. */
  get mappings(): number {
    return this._maps.size;
  }

  /** Map one grant; the GNTST_* status on failure. */
  map(domid: number, ref: number, writable: boolean): GrantMapping | number {
    return this.mapBatch([{ domid, ref, writable }])[0]!; // SAFETY: one result per request
  }

  /** Map several grants with one hypercall per BATCH; a mapping or a GNTST_* status each. */
  mapBatch(reqs: ReadonlyArray<{ domid: number; ref: number; writable: boolean }>): Array<GrantMapping | number> {
    const out: Array<GrantMapping | number> = [];
    for (let i = 0; i < reqs.length; i += BATCH) {
      const part = reqs.slice(i, i + BATCH);
      const base = this._xc.allocForeignPfns(part.length);
      if (base < 0) throw new XenGnttabError('grant map: no pseudo-physical space', base);
      const v = this._v;
      this._buf.fill(0, 0, part.length * SZ_MAP);
      part.forEach((r, k) => {
        const o = k * SZ_MAP;
        v.setUint32(o, (base + k) * 4096, true);
        v.setUint32(o + 8, GNTMAP_host_map | (r.writable ? 0 : GNTMAP_readonly), true);
        v.setUint32(o + 12, r.ref >>> 0, true);
        v.setUint16(o + 16, r.domid, true);
      });
      const res = this._call(GNTTABOP_map_grant_ref, part.length, SZ_MAP, 'map_grant_ref');
      part.forEach((r, k) => {
        const o = k * SZ_MAP;
        const status = res.getInt16(o + 18, true);
        const gpa = (base + k) * 4096;
        if (status !== GNTST_okay) {
          this._xc.freeForeignPfns(base + k, 1);
          out.push(status);
          return;
        }
        const bytes = this._xc.port.view(gpa, 4096, r.writable);
        if (bytes === null) throw new XenGnttabError(`grant map of d${r.domid} ref ${r.ref}: no view`, -1);
        const m = new GrantMapping(r.domid, r.ref, r.writable, res.getUint32(o + 20, true), gpa,
          Math.floor((res.getUint32(o + 24, true) + res.getUint32(o + 28, true) * 0x100000000) / 4096), bytes, this._xc);
        this._maps.add(m);
        out.push(m);
      });
    }
    return out;
  }

  /** Unmap one mapping; its GNTST_* status. */
  unmap(m: GrantMapping): number {
    return this.unmapBatch([m])[0]!; // SAFETY: one result per request
  }

  unmapBatch(ms: readonly GrantMapping[]): number[] {
    const out: number[] = [];
    for (let i = 0; i < ms.length; i += BATCH) {
      const part = ms.slice(i, i + BATCH);
      const v = this._v;
      this._buf.fill(0, 0, part.length * SZ_UNMAP);
      part.forEach((m, k) => {
        v.setUint32(k * SZ_UNMAP, m.gpa, true);
        v.setUint32(k * SZ_UNMAP + 16, m.handle, true);
      });
      const res = this._call(GNTTABOP_unmap_grant_ref, part.length, SZ_UNMAP, 'unmap_grant_ref');
      part.forEach((m, k) => {
        const status = res.getInt16(k * SZ_UNMAP + 20, true);
        if (status === GNTST_okay && this._maps.delete(m)) {
          m.dead();
          this._xc.freeForeignPfns(m.gpa / 4096, 1);
        }
        out.push(status);
      });
    }
    return out;
  }

  /** GNTTABOP_copy of each op (batched); the GNTST_* status of each. */
  copy(ops: readonly GrantCopyOp[]): Int16Array {
    const status = new Int16Array(ops.length);
    for (let i = 0; i < ops.length; i += BATCH) {
      const n = Math.min(BATCH, ops.length - i);
      const v = this._v;
      for (let k = 0; k < n; k++) {
        const op = ops[i + k]!; // SAFETY: k < n
        const o = k * SZ_COPY;
        let flags = 0;
        if (op.src.ref !== undefined) flags |= GNTCOPY_source_gref;
        if (op.dst.ref !== undefined) flags |= GNTCOPY_dest_gref;
        v.setUint32(o, (op.src.ref ?? op.src.gmfn ?? 0) >>> 0, true);
        v.setUint16(o + 4, op.src.domid ?? DOMID_SELF, true);
        v.setUint16(o + 6, op.src.offset, true);
        v.setUint32(o + 8, (op.dst.ref ?? op.dst.gmfn ?? 0) >>> 0, true);
        v.setUint16(o + 12, op.dst.domid ?? DOMID_SELF, true);
        v.setUint16(o + 14, op.dst.offset, true);
        v.setUint16(o + 16, op.len, true);
        v.setUint16(o + 18, flags, true);
        v.setInt16(o + 20, 1, true);
      }
      const res = this._call(GNTTABOP_copy, n, SZ_COPY, 'copy');
      for (let k = 0; k < n; k++) status[i + k] = res.getInt16(k * SZ_COPY + 20, true);
    }
    return status;
  }

  /**
   * GNTTABOP_transfer of our frame at pseudo-physical frame `gfn` into `domid`'s
   * accept-transfer grant `ref`; the GNTST_* status. The frame leaves our physmap.
   */
  transfer(gfn: number, domid: number, ref: number): number {
    const v = this._v;
    this._buf.fill(0, 0, SZ_TRANSFER);
    v.setUint32(0, gfn, true);
    v.setUint16(4, domid, true);
    v.setUint32(8, ref, true);
    return this._call(GNTTABOP_transfer, 1, SZ_TRANSFER, 'transfer').getInt16(12, true);
  }

  /** Unmap everything still mapped. */
  close(): void {
    this.unmapBatch([...this._maps]);
  }

  /** Issue `cmd` on `count` structs of `size` bytes from _buf; returns the structs after. */
  private _call(cmd: number, count: number, size: number, what: string): DataView {
    const xc = this._xc;
    return xc.withScratch(() => {
      const a = xc.scratch(count * size);
      xc.put(a, this._buf.subarray(0, count * size));
      const rc = xc.port.hypercall(__HYPERVISOR_grant_table_op, cmd, a, count);
      if (rc < 0) throw new XenGnttabError(`GNTTABOP_${what}`, rc);
      return xc.get(a, count * size);
    });
  }
}
