/**
 * The PV MMU hypercalls: mmu_update (1), mmuext_op (26), update_va_mapping (14) and
 * update_va_mapping_otherdomain (22), with Xen 4.17's decoding, permission checks and
 * error codes for a 32-bit guest (the compat entry points).
 *
 * Permission (Xen's dummy XSM, XSM_TARGET): a domain acts on itself; naming another
 * domain as page owner (foreigndom) or page-table owner needs privilege; DOMID_IO is the
 * caller for page-owner purposes (I/O mappings checked per frame).
 *
 * Batches stop at the first failing request; the done count (if a pointer was given)
 * says how many succeeded.
 */
import { EACCES, EFAULT, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from '../../../../abi/errno.ts';
import {
  __HYPERVISOR_mmu_update, __HYPERVISOR_mmuext_op, DOMID_IO, DOMID_SELF, DOMID_XEN, MMUEXT_CLEAR_PAGE, MMUEXT_COPY_PAGE, MMUEXT_FLUSH_CACHE,
  MMUEXT_FLUSH_CACHE_GLOBAL, MMUEXT_INVLPG_ALL, MMUEXT_INVLPG_LOCAL, MMUEXT_INVLPG_MULTI, MMUEXT_MARK_SUPER,
  MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE, MMUEXT_PIN_L3_TABLE,
  MMUEXT_PIN_L4_TABLE, MMUEXT_SET_LDT, MMUEXT_TLB_FLUSH_ALL, MMUEXT_TLB_FLUSH_LOCAL, MMUEXT_TLB_FLUSH_MULTI,
  MMUEXT_UNMARK_SUPER, MMUEXT_UNPIN_TABLE, MMU_MACHPHYS_UPDATE, MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_NO_TRANSLATE,
  MMU_PT_UPDATE_PRESERVE_AD, UVMF_ALL, UVMF_FLUSHTYPE_MASK, UVMF_INVLPG, UVMF_TLB_FLUSH,
} from '../../../../abi/xen.ts';
import { maddr } from '../../../../hw/memory/addr.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import type { Domain } from '../../../common/domain.ts';
import { guestOf } from '../../../common/kernel.ts';
import { PvGuestMemory } from '../pv/pv_guest_memory.ts';
import { createContinuation, hypercallPreemptCheck } from '../hypercall.ts';
import {
  PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_pinned, PGT_type_mask, PGT_validated,
  PGT_writable_page,
} from '../../../mm/frame_table.ts';
import { modL1Entry, modL2Entry, modL3Entry } from './mod_entry.ts';
import { HYPERVISOR_VIRT_START } from '../../../../abi/arch_x86_32.ts';
import { TRC_PGTYPE } from '../../../common/trace.ts';

/** A page owner named by foreigndom (get_pg_owner), or -ESRCH. DOMID_IO/XEN are pseudo-domains. */
function pgOwner(xen: Xen, d: Domain, domid: number): number {
  if (domid === DOMID_SELF) return d.domid;
  if (domid === d.domid) return -ESRCH; // "Cannot specify itself as foreign domain"
  if (domid === DOMID_IO || domid === DOMID_XEN) return domid;
  const o = xen.domain(domid);
  return o === undefined || o.dying ? -ESRCH : domid;
}

/** xsm_default_action(XSM_TARGET, d, target). */
function targetOk(d: Domain, target: number): boolean {
  return target === d.domid || d.privileged;
}

// ---- mmu_update ----------------------------------------------------------------------------------

/** Bit 31 of a count: the call continues a preempted one (xen.h MMU_UPDATE_PREEMPTED). */
const MMU_UPDATE_PREEMPTED = 0x80000000 | 0;

export function doMmuUpdate(xen: Xen, v: Vcpu, reqs: number, count: number, pdone: number, foreigndom: number): number {
  const d = v.domain;
  const mem = guestOf(v);
  let i = 0;
  let rc = 0;
  // A count with MMU_UPDATE_PREEMPTED continues an earlier call: done so far is in *pdone.
  let done0 = 0;
  if ((count & MMU_UPDATE_PREEMPTED) !== 0) {
    count &= ~MMU_UPDATE_PREEMPTED;
    if (pdone !== 0) done0 = xen.scratch.readU32(mem, pdone) ?? 0;
  }
  // Every outcome past this point reports done (Xen's "out:" path), errors included.
  const finish = (): number => {
    if (pdone !== 0) xen.scratch.writeU32(mem, pdone, (done0 + i) >>> 0);
    return rc;
  };
  if (!PvGuestMemory.ok(reqs, count * 16)) {
    rc = -EFAULT;
    return finish();
  }
  let ptOwner = d;
  const ptDom = foreigndom >>> 16;
  if (ptDom !== 0) {
    const o = xen.domain(ptDom - 1);
    if (o === undefined) {
      rc = -ESRCH;
      return finish();
    }
    if (o !== d && o.vcpu(0) === null) {
      rc = -EINVAL;
      return finish();
    }
    ptOwner = o;
  }
  const pg = pgOwner(xen, d, foreigndom & 0xffff);
  if (pg < 0) {
    rc = pg;
    return finish();
  }
  const pt = xen.pageTypes;
  const ft = xen.mm.ft;
  let preempted = false;
  for (; i < count; i++) {
    if (i > 0 && hypercallPreemptCheck(xen)) {
      preempted = true;
      break;
    }
    xen.hcWork++;
    const req = xen.scratch.readStruct(mem, reqs + i * 16, 16);
    if (req === null) {
      rc = -EFAULT;
      break;
    }
    const ptrLo = req.getUint32(0, true), ptrHi = req.getUint32(4, true);
    const valLo = req.getInt32(8, true), valHi = req.getInt32(12, true);
    const cmd = ptrLo & 7;
    switch (cmd) {
      case MMU_NORMAL_PT_UPDATE:
      case MMU_PT_UPDATE_PRESERVE_AD:
      case MMU_PT_UPDATE_NO_TRANSLATE: {
        if ((pg !== DOMID_IO && !targetOk(d, pg)) || !targetOk(d, ptOwner.domid)) {
          rc = -EPERM;
          break;
        }
        rc = -EINVAL;
        const ptr = (ptrLo - cmd) + ptrHi * 0x100000000;
        const mfn = Math.floor(ptr / 4096);
        if (!ft.valid(mfn) || !xen.mm.getPage(mfn, ptOwner.domid)) break;
        const ma = mfn * 4096 + (ptrLo & 0xff8);
        const t = ft.typeInfo[mfn]!;
        if ((t & PGT_validated) !== 0 && (t & PGT_count_mask) !== 0) {
          switch (t & PGT_type_mask) {
            case PGT_l1_page_table:
              rc = modL1Entry(pt, ma, valLo, valHi, cmd === MMU_PT_UPDATE_PRESERVE_AD, ptOwner.domid, pg);
              break;
            case PGT_l2_page_table:
              if (pg !== ptOwner.domid) break;
              rc = modL2Entry(pt, ma, valLo, valHi, cmd === MMU_PT_UPDATE_PRESERVE_AD, mfn, ptOwner.domid);
              break;
            case PGT_l3_page_table:
              if (pg !== ptOwner.domid) break;
              rc = modL3Entry(pt, ma, valLo, valHi, cmd === MMU_PT_UPDATE_PRESERVE_AD, mfn, ptOwner.domid);
              if (rc === 0) xen.pv.l3Changed(ptOwner, mfn);
              break;
            case PGT_writable_page:
              pt.writeEntry(ma, valLo, valHi);
              rc = 0;
              break;
            default:
              break;
          }
        } else if (pt.getPageType(mfn, PGT_writable_page) === 0) {
          pt.writeEntry(ma, valLo, valHi);
          pt.putPageType(mfn);
          rc = 0;
        }
        xen.mm.putPage(mfn);
        break;
      }
      case MMU_MACHPHYS_UPDATE: {
        if (d !== ptOwner) {
          rc = -EPERM;
          break;
        }
        if (pg !== DOMID_IO && !targetOk(d, pg)) {
          rc = -EPERM;
          break;
        }
        const mfn = Math.floor(((ptrLo - cmd) + ptrHi * 0x100000000) / 4096);
        const owner = pg === DOMID_IO ? DOMID_IO : pg;
        if (!ft.valid(mfn) || !xen.mm.getPage(mfn, owner)) {
          rc = -EINVAL;
          break;
        }
        xen.m2p.set(mfn, valLo);
        xen.mm.putPage(mfn);
        rc = 0;
        break;
      }
      default:
        rc = -ENOSYS;
    }
    if (rc !== 0) break;
  }
  finish();
  if (preempted) {
    return createContinuation(xen, v, __HYPERVISOR_mmu_update, reqs + i * 16, (count - i) | MMU_UPDATE_PREEMPTED, pdone,
      foreigndom);
  }
  return rc;
}

// ---- base pointer, pins, flushes -------------------------------------------------------------------

/** new_guest_cr3 for a 32-bit guest: make `mfn` (an L3) the vCPU's base table. */
export function newGuestCr3(xen: Xen, v: Vcpu, mfn: number): number {
  const p = v.pv!; // SAFETY: PV vCPU
  if (mfn !== p.guestTable) {
    if (!xen.mm.ft.valid(mfn)) return -EINVAL;
    const rc = xen.pageTypes.getPageAndType(mfn, PGT_l3_page_table, v.domain.domid);
    if (rc !== 0) return rc;
    const old = p.guestTable;
    p.guestTable = mfn;
    if (old !== 0) xen.pageTypes.putPageAndType(old);
  }
  xen.pv.dt.destroyLdt(v);
  xen.pv.syncPdpt(v);
  return 0;
}

/** Flush the TLB of the vCPUs in a guest bitmap (or every vCPU): all share one TLB here. */
function flushVcpus(v: Vcpu): void {
  v.pv?.cpu?.flushTlb();
}

/** Read a guest vCPU bitmap (vcpumask_to_pcpumask): false on a fault. */
function readVcpuMask(xen: Xen, v: Vcpu, ptr: number): boolean {
  const n = Math.ceil(v.domain.vcpus.length / 32);
  for (let i = 0; i < n; i++) if (xen.scratch.readU32(guestOf(v), ptr + i * 4) === null) return false;
  return true;
}

function pinType(cmd: number): number {
  switch (cmd) {
    case MMUEXT_PIN_L1_TABLE: return PGT_l1_page_table;
    case MMUEXT_PIN_L2_TABLE: return PGT_l2_page_table;
    default: return PGT_l3_page_table;
  }
}

// ---- mmuext_op ---------------------------------------------------------------------------------------

export function doMmuextOp(xen: Xen, v: Vcpu, ops: number, count: number, pdone: number, foreigndom: number): number {
  const d = v.domain;
  const mem = guestOf(v);
  // The old_guest_table continuation form: Xen hands back foreigndom.
  if ((count | 0) === MMU_UPDATE_PREEMPTED && ops === 0) return foreigndom | 0;
  let done0 = 0;
  if ((count & MMU_UPDATE_PREEMPTED) !== 0) {
    count &= ~MMU_UPDATE_PREEMPTED;
    if (pdone !== 0) done0 = xen.scratch.readU32(mem, pdone) ?? 0;
  }
  if (!PvGuestMemory.ok(ops, count * 12)) return -EFAULT;
  const pg = pgOwner(xen, d, foreigndom & 0xffff);
  if (pg < 0) return -ESRCH;
  const pgDom = pg === DOMID_IO || pg === DOMID_XEN ? undefined : xen.domain(pg);
  if (pgDom === undefined || pgDom.kind !== 'pv') return -EINVAL;
  if (!targetOk(d, pg)) return -EPERM;
  const pt = xen.pageTypes;
  const ft = xen.mm.ft;
  const p = v.pv!; // SAFETY: PV vCPU (mmuext_op is PV-only)
  let i = 0;
  let rc = 0;
  let preempted = false;
  for (; i < count; i++) {
    if (i > 0 && hypercallPreemptCheck(xen)) {
      preempted = true;
      break;
    }
    xen.hcWork++;
    const op = xen.scratch.readStruct(mem, ops + i * 12, 12);
    if (op === null) {
      rc = -EFAULT;
      break;
    }
    const cmd = op.getUint32(0, true), arg1 = op.getUint32(4, true), arg2 = op.getUint32(8, true);
    if (cmd === MMUEXT_NEW_USER_BASEPTR) {
      rc = -EINVAL; // the compat layer refuses it outright
      break;
    }
    rc = 0;
    switch (cmd) {
      case MMUEXT_PIN_L1_TABLE:
      case MMUEXT_PIN_L2_TABLE:
      case MMUEXT_PIN_L3_TABLE: {
        const mfn = arg1;
        if (!ft.valid(mfn) || !xen.mm.getPage(mfn, pg)) {
          rc = -EINVAL;
          break;
        }
        rc = pt.getPageType(mfn, pinType(cmd));
        if (rc !== 0) {
          xen.mm.putPage(mfn);
          break;
        }
        if ((ft.typeInfo[mfn]! & PGT_pinned) !== 0) {
          pt.putPageAndType(mfn);
          rc = -EINVAL;
          break;
        }
        ft.typeInfo[mfn]! |= PGT_pinned;
        xen.trace.record(TRC_PGTYPE, mfn, ft.typeInfo[mfn]!);
        break;
      }
      case MMUEXT_PIN_L4_TABLE:
        break; // ignored for a 32-bit page owner
      case MMUEXT_UNPIN_TABLE: {
        const mfn = arg1;
        if (!ft.valid(mfn) || !xen.mm.getPage(mfn, pg)) {
          rc = -EINVAL;
          break;
        }
        if ((ft.typeInfo[mfn]! & PGT_pinned) === 0) {
          xen.mm.putPage(mfn);
          rc = -EINVAL;
          break;
        }
        ft.typeInfo[mfn]! &= ~PGT_pinned;
        pt.putPageAndType(mfn);
        xen.mm.putPage(mfn);
        xen.trace.record(TRC_PGTYPE, mfn, ft.typeInfo[mfn]!);
        break;
      }
      case MMUEXT_NEW_BASEPTR:
        rc = d.domid !== pg ? -EPERM : newGuestCr3(xen, v, arg1);
        break;
      case MMUEXT_TLB_FLUSH_LOCAL:
        if (d.domid !== pg) rc = -EPERM;
        else p.cpu?.flushTlb();
        break;
      case MMUEXT_INVLPG_LOCAL:
        if (d.domid !== pg) rc = -EPERM;
        else p.cpu?.invlpg(arg1);
        break;
      case MMUEXT_TLB_FLUSH_MULTI:
      case MMUEXT_INVLPG_MULTI:
        if (d.domid !== pg) rc = -EPERM;
        else if (!readVcpuMask(xen, v, arg2)) rc = -EINVAL;
        else flushVcpus(v);
        break;
      case MMUEXT_TLB_FLUSH_ALL:
        if (d.domid !== pg) rc = -EPERM;
        else flushVcpus(v);
        break;
      case MMUEXT_INVLPG_ALL:
        if (d.domid !== pg) rc = -EPERM;
        else flushVcpus(v);
        break;
      case MMUEXT_FLUSH_CACHE:
        if (d.domid !== pg) rc = -EPERM;
        else if (!d.hasIoCaps) rc = -EACCES;
        break;
      case MMUEXT_FLUSH_CACHE_GLOBAL:
        if (d.domid !== pg) rc = -EPERM;
        else if (!d.hasIoCaps) rc = -EINVAL;
        break;
      case MMUEXT_SET_LDT: {
        const ents = arg2;
        const ptr = ents !== 0 ? arg1 : 0;
        if (d.domid !== pg) rc = -EPERM;
        // A 64-bit Xen's __addr_ok accepts every 32-bit address: alignment and size only.
        else if ((ptr & 0xfff) !== 0 || ents > 8192) rc = -EINVAL;
        else xen.pv.dt.setLdt(v, ptr, ents);
        break;
      }
      case MMUEXT_CLEAR_PAGE: {
        const mfn = arg1;
        if (!ft.valid(mfn) || !xen.mm.getPage(mfn, pg)) {
          rc = -EINVAL;
          break;
        }
        if (pt.getPageType(mfn, PGT_writable_page) !== 0) {
          xen.mm.putPage(mfn);
          rc = -EINVAL;
          break;
        }
        xen.mem.fill(maddr(mfn * 4096), 4096, 0);
        pt.putPageAndType(mfn);
        break;
      }
      case MMUEXT_COPY_PAGE: {
        const dst = arg1, src = arg2;
        if (!ft.valid(src) || !xen.mm.getPage(src, pg)) {
          rc = -EINVAL;
          break;
        }
        if (!ft.valid(dst) || !xen.mm.getPage(dst, pg)) {
          xen.mm.putPage(src);
          rc = -EINVAL;
          break;
        }
        if (pt.getPageType(dst, PGT_writable_page) !== 0) {
          xen.mm.putPage(src);
          xen.mm.putPage(dst);
          rc = -EINVAL;
          break;
        }
        xen.mem.copy(maddr(dst * 4096), maddr(src * 4096), 4096);
        pt.putPageAndType(dst);
        xen.mm.putPage(src);
        break;
      }
      case MMUEXT_MARK_SUPER:
      case MMUEXT_UNMARK_SUPER:
        rc = -EOPNOTSUPP;
        break;
      default:
        rc = -ENOSYS;
    }
    if (rc !== 0) break;
  }
  if (pdone !== 0) xen.scratch.writeU32(mem, pdone, (done0 + i) >>> 0);
  if (preempted) {
    return createContinuation(xen, v, __HYPERVISOR_mmuext_op, ops + i * 12, (count - i) | MMU_UPDATE_PREEMPTED, pdone,
      foreigndom);
  }
  return rc;
}

// ---- update_va_mapping ---------------------------------------------------------------------------------

export function updateVaMapping(xen: Xen, v: Vcpu, va: number, lo: number, hi: number, flags: number, pg: number): number {
  const d = v.domain;
  // xsm_update_va_mapping: a present entry needs the caller to act on the page owner.
  if ((lo & 1) !== 0 && !targetOk(d, pg)) return -EPERM;
  const ma = va < HYPERVISOR_VIRT_START ? xen.pv.l1eMaddr(v, va) : -1;
  if (ma < 0) return -EINVAL;
  const l1 = Math.floor(ma / 4096);
  if (!xen.mm.getPage(l1, d.domid)) return -EINVAL;
  const t = xen.mm.ft.typeInfo[l1]!;
  if ((t & (PGT_validated | PGT_type_mask)) !== (PGT_validated | PGT_l1_page_table) || (t & PGT_count_mask) === 0) {
    xen.mm.putPage(l1);
    return -EINVAL;
  }
  const rc = modL1Entry(xen.pageTypes, ma, lo | 0, hi | 0, false, d.domid, pg);
  xen.mm.putPage(l1);
  if (rc !== 0) return rc;
  const cpu = v.pv!.cpu!; // SAFETY: PV vCPU
  const bmap = (flags & ~UVMF_FLUSHTYPE_MASK) >>> 0;
  switch (flags & UVMF_FLUSHTYPE_MASK) {
    case UVMF_TLB_FLUSH:
      if (bmap !== 0 && bmap !== UVMF_ALL && !readVcpuMask(xen, v, bmap)) return -EFAULT;
      cpu.flushTlb();
      break;
    case UVMF_INVLPG:
      if (bmap !== 0 && bmap !== UVMF_ALL && !readVcpuMask(xen, v, bmap)) return -EFAULT;
      cpu.invlpg(va);
      break;
    default:
      break;
  }
  return 0;
}

export function doUpdateVaMapping(xen: Xen, v: Vcpu, va: number, lo: number, hi: number, flags: number): number {
  return updateVaMapping(xen, v, va, lo, hi, flags, v.domain.domid);
}

export function doUpdateVaMappingOtherdomain(xen: Xen, v: Vcpu, va: number, lo: number, hi: number, flags: number,
  domid: number): number {
  const pg = pgOwner(xen, v.domain, domid & 0xffff);
  if (pg < 0) return -ESRCH;
  return updateVaMapping(xen, v, va, lo, hi, flags, pg);
}
