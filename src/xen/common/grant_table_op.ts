/**
 * grant_table_op (20): decode each GNTTABOP_* array element, run the worker, write the OUT
 * fields back (Xen 4.17's do_grant_table_op as a 32-bit PV guest reaches it through
 * compat_grant_table_op; the x86_32 layouts of src/abi/grant_table.ts).
 *
 * Whole-call rules: `count` >= 2^31 -> -EINVAL; bits above the command in `cmd` (the
 * continuation argument) -> -EINVAL except for cache_flush; unknown command -> -ENOSYS;
 * an unreadable element or unwritable status -> -EFAULT (elements before it are done).
 * setup_table takes one element (count 0 does nothing, more is -EINVAL); query_size,
 * get_status_frames exactly one. Per-element failures are GNTST_* in `status` and the call
 * returns 0. Long batches of map/unmap/copy/transfer/swap are continued between elements
 * (hypercall_create_continuation with the rest of the array).
 *
 * Versions: tables are v1. set_version answers as a Xen booted with gnttab=max-ver:1:
 * 1 -> 0, 2 -> -ENOSYS, anything else -> -EINVAL, the version in force written back;
 * get_version reports 1; get_status_frames has no status frames to give (0 frames okay,
 * more -> general_error).
 */
import { EFAULT, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from '../../abi/errno.ts';
import {
  GNTST_bad_domain, GNTST_bad_gntref, GNTST_eagain, GNTST_general_error, GNTST_okay, GNTST_permission_denied,
  GNTTAB_CACHE_CLEAN, GNTTAB_CACHE_INVAL, GNTTABOP_cache_flush, GNTTABOP_copy, GNTTABOP_get_status_frames,
  GNTTABOP_get_version, GNTTABOP_map_grant_ref, GNTTABOP_query_size, GNTTABOP_set_version, GNTTABOP_setup_table,
  GNTTABOP_swap_grant_ref, GNTTABOP_transfer, GNTTABOP_unmap_and_replace, GNTTABOP_unmap_grant_ref,
} from '../../abi/grant_table.ts';
import { __HYPERVISOR_grant_table_op } from '../../abi/xen.ts';
import { HYPERVISOR_VIRT_START } from '../../abi/arch_x86_32.ts';
import type { Xen } from '../xen.ts';
import type { Vcpu } from './vcpu.ts';
import type { Domain } from './domain.ts';
import type { GuestMemory } from './guest_access.ts';
import { guestOf } from './kernel.ts';
import { createContinuation, hypercallPreemptCheck } from '../arch/x86/hypercall.ts';
import { grantTables, type GrantTables } from './grant_table.ts';
import { MapOp, UnmapOp, completeUnmap, mapGrantRef, unmapCommon } from './grant_table_map.ts';
import { CopyOp, gnttabCopyOne } from './grant_table_copy.ts';
import { TransferOp, gnttabTransferOne } from './grant_table_transfer.ts';

const ARG_SHIFT = 12;
const CMD_MASK = (1 << ARG_SHIFT) - 1;
/** Unmaps done between TLB flushes (GNTTAB_UNMAP_BATCH_SIZE). */
const UNMAP_BATCH = 32;
/** Elements the compat layer translates per round (COMPAT_ARG_XLAT_SIZE / native size). */
const COPY_XLAT_BATCH = 204;
const TRANSFER_XLAT_BATCH = 341;

const SZ_MAP = 32, SZ_UNMAP = 24, SZ_SETUP = 16, SZ_QUERY = 16, SZ_TRANSFER = 16, SZ_COPY = 24;
const SZ_SET_VERSION = 4, SZ_STATUS_FRAMES = 12, SZ_GET_VERSION = 8, SZ_SWAP = 12, SZ_CACHE_FLUSH = 16;
const SZ_UNMAP_REPLACE = 24;

const MAP = new MapOp();
const UNMAPS: UnmapOp[] = Array.from({ length: UNMAP_BATCH }, () => new UnmapOp());
const COPIES: CopyOp[] = Array.from({ length: COPY_XLAT_BATCH }, () => new CopyOp());
const TRANSFERS: TransferOp[] = Array.from({ length: TRANSFER_XLAT_BATCH }, () => new TransferOp());

const u64 = (v: DataView, off: number): number => v.getUint32(off, true) + v.getUint32(off + 4, true) * 0x100000000;

/** xsm_grant_setup / query_size with XSM_TARGET: the caller itself or a privileged one. */
function targetOk(caller: Domain, d: Domain): boolean {
  return caller === d || caller.privileged;
}

export function doGrantTableOp(xen: Xen, v: Vcpu, cmdArg: number, uop: number, count: number): number {
  if ((count | 0) < 0) return -EINVAL;
  const cmd = cmdArg & CMD_MASK;
  if (cmd !== GNTTABOP_cache_flush && (cmdArg >>> ARG_SHIFT) !== 0) return -EINVAL;
  const g = grantTables(xen);
  const mem = guestOf(v);
  switch (cmd) {
    case GNTTABOP_map_grant_ref: return mapBatch(xen, g, v, mem, uop, count);
    case GNTTABOP_unmap_grant_ref: return unmapBatch(xen, g, v, mem, uop, count, false);
    case GNTTABOP_unmap_and_replace: return unmapBatch(xen, g, v, mem, uop, count, true);
    case GNTTABOP_setup_table: return setupTable(xen, g, v, mem, uop, count);
    case GNTTABOP_transfer: return transferBatch(xen, g, v, mem, uop, count);
    case GNTTABOP_copy: return copyBatch(xen, g, v, mem, uop, count);
    case GNTTABOP_query_size: return querySize(xen, g, v, mem, uop, count);
    case GNTTABOP_set_version: return setVersion(xen, mem, uop);
    case GNTTABOP_get_status_frames: return getStatusFrames(xen, g, v, mem, uop, count);
    case GNTTABOP_get_version: return getVersion(xen, v, mem, uop);
    case GNTTABOP_swap_grant_ref: return swapBatch(xen, g, v, mem, uop, count);
    case GNTTABOP_cache_flush: return cacheFlushBatch(xen, g, v, mem, cmdArg, uop, count);
    default: return -ENOSYS;
  }
}

/** Preempt between elements: the guest re-issues the call for elements i.. */
function preempt(xen: Xen, v: Vcpu, i: number, cmd: number, uop: number, size: number, count: number): boolean {
  if (i === 0 || !hypercallPreemptCheck(xen)) return false;
  createContinuation(xen, v, __HYPERVISOR_grant_table_op, cmd, uop + i * size, count - i);
  return true;
}

function mapBatch(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number): number {
  for (let i = 0; i < count; i++) {
    if (preempt(xen, v, i, GNTTABOP_map_grant_ref, uop, SZ_MAP, count)) return 0;
    xen.hcWork++;
    const a = uop + i * SZ_MAP;
    const s = xen.scratch.readStruct(mem, a, SZ_MAP);
    if (s === null) return -EFAULT;
    const op = MAP;
    op.hostAddr = u64(s, 0);
    op.flags = s.getUint32(8, true);
    op.ref = s.getUint32(12, true);
    op.dom = s.getUint16(16, true);
    op.status = 0;
    op.handle = s.getUint32(20, true);
    op.devBusAddr = u64(s, 24);
    mapGrantRef(g, v, op, g.p2m);
    const o = xen.scratch.readStruct(mem, a, SZ_MAP);
    if (o === null) return -EFAULT;
    o.setInt16(18, op.status, true);
    o.setUint32(20, op.handle >>> 0, true);
    o.setUint32(24, op.devBusAddr % 0x100000000, true);
    o.setUint32(28, Math.floor(op.devBusAddr / 0x100000000), true);
    if (!xen.scratch.writeBack(mem, a, SZ_MAP)) return -EFAULT;
  }
  return 0;
}

function unmapBatch(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number,
  replace: boolean): number {
  const size = replace ? SZ_UNMAP_REPLACE : SZ_UNMAP;
  const cmd = replace ? GNTTABOP_unmap_and_replace : GNTTABOP_unmap_grant_ref;
  let done = 0;
  while (done < count) {
    const c = Math.min(count - done, UNMAP_BATCH);
    let partial = 0;
    let fault = false;
    for (let i = 0; i < c; i++) {
      const a = uop + (done + i) * size;
      const s = xen.scratch.readStruct(mem, a, size);
      if (s === null) {
        fault = true;
        break;
      }
      const op = UNMAPS[i]!;
      if (replace) op.reset(u64(s, 0), 0, u64(s, 8), s.getUint32(16, true));
      else op.reset(u64(s, 0), u64(s, 8), 0, s.getUint32(16, true));
      unmapCommon(g, v, op, g.p2m);
      partial++;
      xen.hcWork++;
      if (!writeU16(mem, a + 20, op.status)) {
        fault = true;
        break;
      }
    }
    g.flushTlb(v.domain);
    for (let i = 0; i < partial; i++) completeUnmap(g, v, UNMAPS[i]!);
    if (fault) return -EFAULT;
    done += c;
    if (done < count && hypercallPreemptCheck(xen)) {
      createContinuation(xen, v, __HYPERVISOR_grant_table_op, cmd, uop + done * size, count - done);
      return 0;
    }
  }
  return 0;
}

function setupTable(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number): number {
  if (count === 0) return 0;
  if (count > 1) return -EINVAL;
  const s = xen.scratch.readStruct(mem, uop, SZ_SETUP);
  if (s === null) return -EFAULT;
  const dom = s.getUint16(0, true);
  const nr = s.getUint32(4, true);
  const list = s.getUint32(12, true);
  // compat_handle_okay: the whole frame list must lie below the hypervisor's area.
  if (v.pv !== null && list + nr * 4 > HYPERVISOR_VIRT_START) return -EFAULT;
  let status = GNTST_okay;
  const d = g.domainByAnyId(v.domain, dom);
  if (d === undefined) status = GNTST_bad_domain;
  else if (!targetOk(v.domain, d)) status = GNTST_permission_denied;
  else {
    const t = g.of(d);
    if (nr > t.maxFrames) status = GNTST_general_error;
    else if (nr > t.nrFrames && g.grow(t, nr) !== 0) status = GNTST_general_error;
    else {
      // The compat layer ignores faults on the frame list itself.
      for (let i = 0; i < nr; i++) {
        const f = isTranslatedDomain(d) ? t.gfnOfFrame[i]! : t.frames[i]!;
        xen.scratch.writeU32(mem, list + i * 4, f);
      }
    }
  }
  return writeU16(mem, uop + 8, status) ? 0 : -EFAULT;
}

const U16 = new Uint8Array(2);

/** __copy_field_to_guest of a 16-bit status. */
function writeU16(mem: GuestMemory, gva: number, value: number): boolean {
  U16[0] = value & 0xff;
  U16[1] = (value >>> 8) & 0xff;
  return mem.write(gva, U16, 2);
}

function isTranslatedDomain(d: Domain): boolean {
  return d.kind !== 'pv';
}

function querySize(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number): number {
  if (count !== 1) return -EINVAL;
  const s = xen.scratch.readStruct(mem, uop, SZ_QUERY);
  if (s === null) return -EFAULT;
  const d = g.domainByAnyId(v.domain, s.getUint16(0, true));
  if (d === undefined) s.setInt16(12, GNTST_bad_domain, true);
  else if (!targetOk(v.domain, d)) s.setInt16(12, GNTST_permission_denied, true);
  else {
    const t = g.of(d);
    s.setUint32(4, t.nrFrames, true);
    s.setUint32(8, t.maxFrames, true);
    s.setInt16(12, GNTST_okay, true);
  }
  return xen.scratch.writeBack(mem, uop, SZ_QUERY) ? 0 : -EFAULT;
}

function transferBatch(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number): number {
  let i = 0;
  while (i < count) {
    const n = Math.min(count - i, TRANSFER_XLAT_BATCH);
    for (let k = 0; k < n; k++) {
      const s = xen.scratch.readStruct(mem, uop + (i + k) * SZ_TRANSFER, SZ_TRANSFER);
      if (s === null) return -EFAULT;
      const op = TRANSFERS[k]!;
      op.mfn = s.getUint32(0, true);
      op.domid = s.getUint16(4, true);
      op.ref = s.getUint32(8, true);
    }
    let k = 0;
    for (; k < n; k++) {
      if (k > 0 && hypercallPreemptCheck(xen)) break;
      xen.hcWork++;
      gnttabTransferOne(g, v, TRANSFERS[k]!, g.p2m);
    }
    let rc = 0;
    for (let j = 0; j < k; j++) {
      if (!writeU16(mem, uop + (i + j) * SZ_TRANSFER + 12, TRANSFERS[j]!.status)) rc = -EFAULT;
    }
    if (rc !== 0) return rc;
    i += k;
    if (k < n || (i < count && hypercallPreemptCheck(xen))) {
      createContinuation(xen, v, __HYPERVISOR_grant_table_op, GNTTABOP_transfer, uop + i * SZ_TRANSFER, count - i);
      return 0;
    }
  }
  return 0;
}

function copyBatch(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number): number {
  let i = 0;
  while (i < count) {
    const n = Math.min(count - i, COPY_XLAT_BATCH);
    for (let k = 0; k < n; k++) {
      const s = xen.scratch.readStruct(mem, uop + (i + k) * SZ_COPY, SZ_COPY);
      if (s === null) return -EFAULT;
      const op = COPIES[k]!;
      op.srcU = s.getUint32(0, true);
      op.srcDomid = s.getUint16(4, true);
      op.srcOffset = s.getUint16(6, true);
      op.dstU = s.getUint32(8, true);
      op.dstDomid = s.getUint16(12, true);
      op.dstOffset = s.getUint16(14, true);
      op.len = s.getUint16(16, true);
      op.flags = s.getUint16(18, true);
    }
    let k = 0;
    for (; k < n; k++) {
      if (k > 0 && hypercallPreemptCheck(xen)) break;
      xen.hcWork++;
      const op = COPIES[k]!;
      op.status = gnttabCopyOne(g, v, op);
    }
    let rc = 0;
    for (let j = 0; j < k; j++) {
      if (!writeU16(mem, uop + (i + j) * SZ_COPY + 20, COPIES[j]!.status)) rc = -EFAULT;
    }
    if (rc !== 0) return rc;
    i += k;
    if (k < n || (i < count && hypercallPreemptCheck(xen))) {
      createContinuation(xen, v, __HYPERVISOR_grant_table_op, GNTTABOP_copy, uop + i * SZ_COPY, count - i);
      return 0;
    }
  }
  return 0;
}

function setVersion(xen: Xen, mem: GuestMemory, uop: number): number {
  const s = xen.scratch.readStruct(mem, uop, SZ_SET_VERSION);
  if (s === null) return -EFAULT;
  const want = s.getUint32(0, true);
  const res = want === 1 ? 0 : want === 2 ? -ENOSYS : -EINVAL;
  s.setUint32(0, 1, true);
  return xen.scratch.writeBack(mem, uop, SZ_SET_VERSION) ? res : -EFAULT;
}

function getStatusFrames(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number): number {
  if (count !== 1) return -EINVAL;
  const s = xen.scratch.readStruct(mem, uop, SZ_STATUS_FRAMES);
  if (s === null) return -EFAULT;
  const nr = s.getUint32(0, true);
  const d = g.domainByAnyId(v.domain, s.getUint16(4, true));
  let status = GNTST_okay;
  if (d === undefined) status = GNTST_bad_domain;
  else if (!targetOk(v.domain, d)) status = GNTST_permission_denied;
  else if (nr > 0) status = GNTST_general_error; // a v1 table has no status frames
  return writeU16(mem, uop + 6, status) ? 0 : -EFAULT;
}

function getVersion(xen: Xen, v: Vcpu, mem: GuestMemory, uop: number): number {
  const s = xen.scratch.readStruct(mem, uop, SZ_GET_VERSION);
  if (s === null) return -EFAULT;
  const d = grantTables(xen).domainByAnyId(v.domain, s.getUint16(0, true));
  if (d === undefined) return -ESRCH;
  if (!targetOk(v.domain, d)) return -EPERM;
  return xen.scratch.writeU32(mem, uop + 4, 1) ? 0 : -EFAULT;
}

function swapBatch(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, uop: number, count: number): number {
  const t = g.of(v.domain);
  for (let i = 0; i < count; i++) {
    if (preempt(xen, v, i, GNTTABOP_swap_grant_ref, uop, SZ_SWAP, count)) return 0;
    xen.hcWork++;
    const a = uop + i * SZ_SWAP;
    const s = xen.scratch.readStruct(mem, a, SZ_SWAP);
    if (s === null) return -EFAULT;
    const ra = s.getUint32(0, true), rb = s.getUint32(4, true);
    let status = GNTST_okay;
    if (ra >= t.nrEntries || rb >= t.nrEntries) status = GNTST_bad_gntref;
    else if (ra !== rb) {
      if (t.actPin[ra] !== 0 || t.actPin[rb] !== 0) status = GNTST_eagain;
      else {
        const ma = t.entryMa(ra), mb = t.entryMa(rb);
        const view = xen.mem.view;
        const alo = view.getUint32(ma, true), ahi = view.getUint32(ma + 4, true);
        view.setUint32(ma, view.getUint32(mb, true), true);
        view.setUint32(ma + 4, view.getUint32(mb + 4, true), true);
        view.setUint32(mb, alo, true);
        view.setUint32(mb + 4, ahi, true);
        xen.mem.notifyWritten(ma, 8);
        xen.mem.notifyWritten(mb, 8);
      }
    }
    if (!writeU16(mem, a + 8, status)) return -EFAULT;
  }
  return 0;
}

/**
 * cache_flush: x86 has coherent caches; Xen validates the request and answers CLEAN (with
 * or without INVAL) with success, INVAL alone with -EOPNOTSUPP. The frame must be the
 * caller's own or one it has pinned through a grant of its owner.
 */
function cacheFlushBatch(xen: Xen, g: GrantTables, v: Vcpu, mem: GuestMemory, cmdArg: number, uop: number,
  count: number): number {
  if ((cmdArg >>> ARG_SHIFT) !== 0) return -EINVAL;
  for (let i = 0; i < count; i++) {
    if (preempt(xen, v, i, GNTTABOP_cache_flush, uop, SZ_CACHE_FLUSH, count)) return 0;
    xen.hcWork++;
    const s = xen.scratch.readStruct(mem, uop + i * SZ_CACHE_FLUSH, SZ_CACHE_FLUSH);
    if (s === null) return -EFAULT;
    const addr = u64(s, 0), offset = s.getUint16(8, true), length = s.getUint16(10, true), op = s.getUint32(12, true);
    if (offset >= 4096 || length > 4096 || offset + length > 4096 || (op & ~(GNTTAB_CACHE_INVAL | GNTTAB_CACHE_CLEAN)) !== 0) {
      return -EINVAL;
    }
    if (length === 0 || op === 0) continue;
    const mfn = Math.floor(addr / 4096);
    const ft = xen.mm.ft;
    if (!ft.valid(mfn)) return -EINVAL;
    const owner = ft.count[mfn] !== 0 ? xen.domain(ft.owner[mfn]!) : undefined;
    if (owner === undefined) return -EPERM;
    if (owner !== v.domain) {
      const t = g.of(owner);
      let found = false;
      for (let r = 0; r < t.nrEntries && !found; r++) {
        found = t.actPin[r] !== 0 && t.actDomid[r] === v.domain.domid && t.actMfn[r] === mfn;
      }
      if (!found) return -EINVAL;
    }
    if ((op & GNTTAB_CACHE_CLEAN) === 0) return -EOPNOTSUPP;
  }
  return 0;
}

