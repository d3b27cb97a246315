/**
 * Batched grant-table operations for backends, marshalled with no allocation per I/O: each
 * batch object owns a byte buffer in the wire layout of its GNTTABOP_* element (x86_32,
 * src/abi/grant_table.ts) and a range of its domain's own RAM (FramePool) the array is
 * copied into for the hypercall, the way a Linux backend fills a gnttab_map_grant_ref
 * array on its stack. Elements are written straight into the buffer by add(); submit()
 * issues one grant_table_op for all of them and reads the OUT fields back.
 *
 * A batch of one page (the default capacities) is built directly in that frame through a
 * zero-copy view, so submit() copies nothing; larger ones are copied in and out.
 *
 * Invariants:
 * - A batch holds at most `capacity` elements; add() returns -1 when full (submit, then
 *   go on). submit() leaves the elements and their OUT fields readable until reset().
 * - GrantAccounting counts the host mappings a backend domain holds: +1 per map element
 *   that returned GNTST_okay, -1 per unmap element that did; teardown checks it returns to
 *   its starting value ("no leaked grant mappings").
 * - A batch is used by one caller at a time; backends give each purpose its own batch, so
 *   re-entrant paths (a bridge delivery during a tx round) never share a half-built array.
 */
import {
  GNTMAP_host_map, GNTMAP_readonly, GNTST_okay, GNTTABOP_copy, GNTTABOP_map_grant_ref, GNTTABOP_transfer,
  GNTTABOP_unmap_grant_ref, GNTCOPY_dest_gref, GNTCOPY_source_gref,
  SIZEOF_GNTTAB_COPY, SIZEOF_GNTTAB_MAP_GRANT_REF, SIZEOF_GNTTAB_TRANSFER, SIZEOF_GNTTAB_UNMAP_GRANT_REF,
  GNTTAB_MAP_GRANT_REF_HOST_ADDR, GNTTAB_MAP_GRANT_REF_FLAGS, GNTTAB_MAP_GRANT_REF_REF, GNTTAB_MAP_GRANT_REF_DOM,
  GNTTAB_MAP_GRANT_REF_STATUS, GNTTAB_MAP_GRANT_REF_HANDLE,
  GNTTAB_UNMAP_GRANT_REF_HOST_ADDR, GNTTAB_UNMAP_GRANT_REF_HANDLE, GNTTAB_UNMAP_GRANT_REF_STATUS,
  GNTTAB_COPY_SOURCE_U, GNTTAB_COPY_SOURCE_DOMID, GNTTAB_COPY_SOURCE_OFFSET, GNTTAB_COPY_DEST_U, GNTTAB_COPY_DEST_DOMID,
  GNTTAB_COPY_DEST_OFFSET, GNTTAB_COPY_LEN, GNTTAB_COPY_FLAGS, GNTTAB_COPY_STATUS,
  GNTTAB_TRANSFER_MFN, GNTTAB_TRANSFER_DOMID, GNTTAB_TRANSFER_REF, GNTTAB_TRANSFER_STATUS,
} from '../../abi/grant_table.ts';
import { __HYPERVISOR_grant_table_op, DOMID_SELF } from '../../abi/xen.ts';
import type { Xc } from '../libxc/xc.ts';
import type { FramePool } from './frame_pool.ts';

const PAGE = 4096;

/** What one backend domain's backends hold, for leak checks. */
export class GrantAccounting {
  /** Host grant mappings. */
  mappings = 0;
  /** Bound interdomain event channels. */
  ports = 0;
  /** Map/copy/transfer elements that failed, for diagnostics. */
  failures = 0;
}

/** The common part: a wire array in a byte buffer and its copy in the domain's RAM. */
abstract class GrantBatch {
  n = 0;
  readonly capacity: number;
  readonly bytes: Uint8Array;
  protected readonly v: DataView;
  private readonly _gpa: number;
  private readonly _base: number;
  /** The array lives in our frame itself (a one-page batch): no copy in or out. */
  private readonly _direct: boolean;

  /**
   * `statusOff`: the element's int16 GNTST_* field. `mappingDelta`: what a successful
   * element adds to the host mappings (map +1, unmap -1, copy and transfer 0).
   */
  constructor(protected readonly xc: Xc, private readonly _pool: FramePool, private readonly _cmd: number,
    protected readonly size: number, capacity: number, private readonly _acct: GrantAccounting,
    private readonly _statusOff: number, private readonly _mappingDelta: number) {
    this.capacity = capacity;
    const pages = Math.ceil((capacity * size) / PAGE);
    this._base = _pool.ram(pages);
    this._gpa = this._base * PAGE;
    const view = pages === 1 ? xc.port.view(this._gpa, capacity * size, true) : null;
    this._direct = view !== null;
    this.bytes = view ?? new Uint8Array(capacity * size);
    this.v = new DataView(this.bytes.buffer, this.bytes.byteOffset, capacity * size);
  }

  get full(): boolean {
    return this.n >= this.capacity;
  }

  reset(): void {
    this.n = 0;
  }

  /**
   * One grant_table_op for the elements added, counted in the accounting; returns the
   * hypercall's result (0 or -errno).
   */
  submit(): number {
    const n = this.n;
    if (n === 0) return 0;
    const rc = this._hypercall(n);
    for (let i = 0; i < n; i++) {
      if (rc === 0 && this.status(i) === GNTST_okay) this._acct.mappings += this._mappingDelta;
      else this._acct.failures++;
    }
    return rc;
  }

  /** GNTST_* of element i (a failed hypercall leaves the 1 we wrote: not okay). */
  status(i: number): number {
    return this.v.getInt16(i * this.size + this._statusOff, true);
  }

  private _hypercall(n: number): number {
    const len = n * this.size;
    const port = this.xc.port;
    if (this._direct) {
      port.written(this._gpa, len);
      return port.hypercall(__HYPERVISOR_grant_table_op, this._cmd, this._gpa, n);
    }
    if (!port.write(this._gpa, this.bytes, len)) return -14;
    const rc = port.hypercall(__HYPERVISOR_grant_table_op, this._cmd, this._gpa, n);
    port.read(this._gpa, this.bytes, len);
    return rc;
  }

  /** Give the scratch frames back. */
  dispose(): void {
    this._pool.release(this._base);
  }
}

/** GNTTABOP_map_grant_ref with GNTMAP_host_map into the caller's pseudo-physical space. */
export class MapBatch extends GrantBatch {
  constructor(xc: Xc, pool: FramePool, acct: GrantAccounting, capacity = 128) {
    super(xc, pool, GNTTABOP_map_grant_ref, SIZEOF_GNTTAB_MAP_GRANT_REF, capacity, acct, GNTTAB_MAP_GRANT_REF_STATUS, 1);
  }

  /** Map `ref` of `dom` at pseudo-physical address `gpa` (page aligned). Index, or -1 if full. */
  add(ref: number, dom: number, gpa: number, readonly: boolean): number {
    if (this.n >= this.capacity) return -1;
    const i = this.n++;
    const o = i * SIZEOF_GNTTAB_MAP_GRANT_REF;
    const v = this.v;
    v.setUint32(o + GNTTAB_MAP_GRANT_REF_HOST_ADDR, gpa >>> 0, true);
    v.setUint32(o + GNTTAB_MAP_GRANT_REF_HOST_ADDR + 4, 0, true);
    v.setUint32(o + GNTTAB_MAP_GRANT_REF_FLAGS, readonly ? GNTMAP_host_map | GNTMAP_readonly : GNTMAP_host_map, true);
    v.setUint32(o + GNTTAB_MAP_GRANT_REF_REF, ref >>> 0, true);
    v.setUint16(o + GNTTAB_MAP_GRANT_REF_DOM, dom, true);
    v.setInt16(o + GNTTAB_MAP_GRANT_REF_STATUS, 1, true);
    v.setUint32(o + GNTTAB_MAP_GRANT_REF_HANDLE, 0xffffffff, true);
    return i;
  }

  handle(i: number): number {
    return this.v.getUint32(i * SIZEOF_GNTTAB_MAP_GRANT_REF + GNTTAB_MAP_GRANT_REF_HANDLE, true);
  }

  gpa(i: number): number {
    return this.v.getUint32(i * SIZEOF_GNTTAB_MAP_GRANT_REF + GNTTAB_MAP_GRANT_REF_HOST_ADDR, true);
  }
}

/** GNTTABOP_unmap_grant_ref of host mappings. */
export class UnmapBatch extends GrantBatch {
  constructor(xc: Xc, pool: FramePool, acct: GrantAccounting, capacity = 170) {
    super(xc, pool, GNTTABOP_unmap_grant_ref, SIZEOF_GNTTAB_UNMAP_GRANT_REF, capacity, acct, GNTTAB_UNMAP_GRANT_REF_STATUS, -1);
  }

  add(gpa: number, handle: number): number {
    if (this.n >= this.capacity) return -1;
    const i = this.n++;
    const o = i * SIZEOF_GNTTAB_UNMAP_GRANT_REF;
    const v = this.v;
    v.setUint32(o + GNTTAB_UNMAP_GRANT_REF_HOST_ADDR, gpa >>> 0, true);
    v.setUint32(o + GNTTAB_UNMAP_GRANT_REF_HOST_ADDR + 4, 0, true);
    v.setUint32(o + 8, 0, true); // dev_bus_addr: no device mapping
    v.setUint32(o + 12, 0, true);
    v.setUint32(o + GNTTAB_UNMAP_GRANT_REF_HANDLE, handle >>> 0, true);
    v.setInt16(o + GNTTAB_UNMAP_GRANT_REF_STATUS, 1, true);
    return i;
  }

}

/** GNTTABOP_copy between a frontend's grant and a frame of the caller (either way). */
export class CopyBatch extends GrantBatch {
  constructor(xc: Xc, pool: FramePool, acct: GrantAccounting, capacity = 170) {
    super(xc, pool, GNTTABOP_copy, SIZEOF_GNTTAB_COPY, capacity, acct, GNTTAB_COPY_STATUS, 0);
  }

  /** Copy `len` bytes from our frame `gfn` at `off` into `dom`'s grant `ref` at `refOff`. */
  toGrant(gfn: number, off: number, dom: number, ref: number, refOff: number, len: number): number {
    return this._add(gfn, DOMID_SELF, off, ref, dom, refOff, len, GNTCOPY_dest_gref);
  }

  /** Copy `len` bytes from `dom`'s grant `ref` at `refOff` into our frame `gfn` at `off`. */
  fromGrant(dom: number, ref: number, refOff: number, gfn: number, off: number, len: number): number {
    return this._add(ref, dom, refOff, gfn, DOMID_SELF, off, len, GNTCOPY_source_gref);
  }

  /** Grant to grant (another domain's tx page straight into a third one's rx page). */
  grantToGrant(sdom: number, sref: number, soff: number, ddom: number, dref: number, doff: number, len: number): number {
    return this._add(sref, sdom, soff, dref, ddom, doff, len, GNTCOPY_source_gref | GNTCOPY_dest_gref);
  }

  private _add(su: number, sdom: number, soff: number, du: number, ddom: number, doff: number, len: number, flags: number): number {
    if (this.n >= this.capacity) return -1;
    const i = this.n++;
    const o = i * SIZEOF_GNTTAB_COPY;
    const v = this.v;
    v.setUint32(o + GNTTAB_COPY_SOURCE_U, su >>> 0, true);
    v.setUint16(o + GNTTAB_COPY_SOURCE_DOMID, sdom, true);
    v.setUint16(o + GNTTAB_COPY_SOURCE_OFFSET, soff, true);
    v.setUint32(o + GNTTAB_COPY_DEST_U, du >>> 0, true);
    v.setUint16(o + GNTTAB_COPY_DEST_DOMID, ddom, true);
    v.setUint16(o + GNTTAB_COPY_DEST_OFFSET, doff, true);
    v.setUint16(o + GNTTAB_COPY_LEN, len, true);
    v.setUint16(o + GNTTAB_COPY_FLAGS, flags, true);
    v.setInt16(o + GNTTAB_COPY_STATUS, 1, true);
    return i;
  }

}

/** GNTTABOP_transfer: give our frame at `gfn` to `dom` through its accept-transfer grant. */
export class TransferBatch extends GrantBatch {
  constructor(xc: Xc, pool: FramePool, acct: GrantAccounting, capacity = 256) {
    super(xc, pool, GNTTABOP_transfer, SIZEOF_GNTTAB_TRANSFER, capacity, acct, GNTTAB_TRANSFER_STATUS, 0);
  }

  add(gfn: number, dom: number, ref: number): number {
    if (this.n >= this.capacity) return -1;
    const i = this.n++;
    const o = i * SIZEOF_GNTTAB_TRANSFER;
    const v = this.v;
    v.setUint32(o + GNTTAB_TRANSFER_MFN, gfn >>> 0, true);
    v.setUint16(o + GNTTAB_TRANSFER_DOMID, dom, true);
    v.setUint32(o + GNTTAB_TRANSFER_REF, ref >>> 0, true);
    v.setInt16(o + GNTTAB_TRANSFER_STATUS, 1, true);
    return i;
  }

}
