/**
 * domctl (36): domain control for the toolstack (Xen's common/domctl.c and
 * arch/x86/domctl.c), on the wire layout of src/abi/control_wire.ts.
 *
 * Order of checks (Xen 4.17, and what a domU calling it sees):
 *   copy in 144 bytes (-EFAULT) -> interface version (-EACCES) -> target domain lookup
 *   (-ESRCH; none for createdomain/getdomaininfo) -> privilege (-EPERM) -> the command.
 * On success the whole struct is copied back when the command has OUT fields.
 */
import { EACCES, EEXIST, EFAULT, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from '../../abi/errno.ts';
import {
  XEN_DOMCTL_createdomain, XEN_DOMCTL_destroydomain, XEN_DOMCTL_get_address_size, XEN_DOMCTL_getdomaininfo,
  XEN_DOMCTL_getpageframeinfo3, XEN_DOMCTL_getvcpuaffinity, XEN_DOMCTL_getvcpucontext, XEN_DOMCTL_getvcpuinfo, XEN_DOMCTL_hypercall_init,
  XEN_DOMCTL_iomem_permission, XEN_DOMCTL_ioport_permission, XEN_DOMCTL_irq_permission, XEN_DOMCTL_max_mem,
  XEN_DOMCTL_max_vcpus, XEN_DOMCTL_pausedomain, XEN_DOMCTL_resumedomain, XEN_DOMCTL_scheduler_op,
  XEN_DOMCTL_sendtrigger, XEN_DOMCTL_SENDTRIGGER_NMI,
  XEN_DOMCTL_set_address_size, XEN_DOMCTL_setdebugging, XEN_DOMCTL_setdomainhandle, XEN_DOMCTL_settimeoffset,
  XEN_DOMCTL_setvcpuaffinity, XEN_DOMCTL_setvcpucontext, XEN_DOMCTL_unpausedomain, XEN_DOMCTL_CDF_hvm,
  XEN_DOMINF_blocked, XEN_DOMINF_debugged, XEN_DOMINF_dying, XEN_DOMINF_hvm_guest, XEN_DOMINF_paused,
  XEN_DOMINF_running, XEN_DOMINF_shutdown, XEN_DOMINF_shutdownshift, XEN_INVALID_MAX_VCPU_ID,
} from '../../abi/domctl.ts';
import { getPageFrameInfo3 } from './domctl_pfinfo.ts';
import {
  DOMCTL_CREATEDOMAIN, DOMCTL_GETDOMAININFO, DOMCTL_GETVCPUINFO, DOMCTL_HDR, DOMCTL_IOMEM_PERMISSION,
  DOMCTL_IOPORT_PERMISSION, DOMCTL_IRQ_PERMISSION, DOMCTL_U32, DOMCTL_U64,
  DOMCTL_VCPUCONTEXT, XEN_DOMCTL_INTERFACE_VERSION_WIRE, XEN_DOMCTL_WIRE_SIZE, XEN_DOMCTL_WIRE_U,
} from '../../abi/control_wire.ts';
import { DOMID_FIRST_RESERVED } from '../../abi/xen.ts';
import type { Xen } from '../xen.ts';
import { RUNSTATE_blocked, type Vcpu } from './vcpu.ts';
import { setDomainLimits } from './grant_table_limits.ts';
import type { Domain } from './domain.ts';
import { guestOf } from './kernel.ts';
import { getPvContext, setPvContext, SIZEOF_VCPU_GUEST_CONTEXT } from '../arch/x86/pv/pv_context.ts';
import { writeHypercallPage } from '../arch/x86/pv/hypercall_page.ts';
import { PGT_writable_page } from '../mm/frame_table.ts';
import { NR_PIRQS } from '../arch/x86/physdev.ts';
import { domctlSchedulerOp, domctlVcpuAffinity } from './sched/sched_ctl.ts';

const U = XEN_DOMCTL_WIRE_U;

function u64(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * 0x100000000;
}

function setU64(v: DataView, off: number, x: number): void {
  const n = Math.max(0, Math.floor(x));
  v.setUint32(off, n % 0x100000000, true);
  v.setUint32(off + 4, Math.floor(n / 0x100000000), true);
}

/** Fill a getdomaininfo record at `off` of `v` (Xen's getdomaininfo()). */
export function fillDomainInfo(xen: Xen, d: Domain, v: DataView, off: number): void {
  const G = DOMCTL_GETDOMAININFO;
  for (let i = 0; i < G.SIZE; i++) v.setUint8(off + i, 0);
  let flags = XEN_DOMINF_blocked;
  let online = 0;
  let maxId = XEN_INVALID_MAX_VCPU_ID;
  let cpuTime = 0;
  const now = xen.time.now();
  for (const w of d.vcpus) {
    if (!w) continue;
    cpuTime += w.runstateSnapshot(now).time[0]!;
    maxId = w.id;
    if (w.isUp) {
      // A native vCPU (dom0) idles in RUNSTATE_blocked without VPF_blocked (sched/core.ts).
      if (!w.isBlocked && w.runstate !== RUNSTATE_blocked) flags &= ~XEN_DOMINF_blocked;
      if (w.running) flags |= XEN_DOMINF_running;
      online++;
    }
  }
  if (online === 0) flags = 0;
  if (d.dying) flags |= XEN_DOMINF_dying;
  if (d.isShutDown) flags |= XEN_DOMINF_shutdown;
  if (d.pauseCount > 0) flags |= XEN_DOMINF_paused;
  if (d.debugged) flags |= XEN_DOMINF_debugged;
  if (d.kind === 'hvm') flags |= XEN_DOMINF_hvm_guest;
  flags |= ((d.shutdownCode < 0 ? 255 : d.shutdownCode) & 0xff) << XEN_DOMINF_shutdownshift;
  v.setUint16(off + G.domain!, d.domid, true);
  v.setUint32(off + G.flags!, flags >>> 0, true);
  setU64(v, off + G.tot_pages!, d.totPages);
  setU64(v, off + G.max_pages!, d.maxPages);
  setU64(v, off + G.shared_info_frame!, d.sharedInfoMfn);
  setU64(v, off + G.cpu_time!, cpuTime);
  v.setUint32(off + G.nr_online_vcpus!, online, true);
  v.setUint32(off + G.max_vcpu_id!, maxId, true);
  v.setUint32(off + G.ssidref!, d.ssidref, true);
  for (let i = 0; i < 16; i++) v.setUint8(off + G.handle! + i, d.handle[i]!);
  v.setUint8(off + G.gpaddr_bits!, 32);
}

export function doDomctl(xen: Xen, cur: Vcpu, arg: number): number {
  const mem = guestOf(cur);
  const op = xen.scratch.readStruct(mem, arg, XEN_DOMCTL_WIRE_SIZE);
  if (op === null) return -EFAULT;
  if (op.getUint32(DOMCTL_HDR.interface_version!, true) !== XEN_DOMCTL_INTERFACE_VERSION_WIRE) return -EACCES;
  const cmd = op.getUint32(DOMCTL_HDR.cmd!, true);
  const domid = op.getUint16(DOMCTL_HDR.domain!, true);
  const caller = cur.domain;
  let d: Domain | undefined;
  if (cmd !== XEN_DOMCTL_createdomain && cmd !== XEN_DOMCTL_getdomaininfo) {
    d = xen.domain(domid);
    if (d === undefined) return -ESRCH;
  }
  if (!caller.privileged) return -EPERM;
  const copyBack = (): number => (xen.scratch.writeBack(mem, arg, XEN_DOMCTL_WIRE_SIZE) ? 0 : -EFAULT);

  switch (cmd) {
    case XEN_DOMCTL_createdomain: {
      const C = DOMCTL_CREATEDOMAIN;
      const flags = op.getUint32(U + C.flags!, true);
      if ((flags & XEN_DOMCTL_CDF_hvm) !== 0) return -EOPNOTSUPP;
      if (domid > 0 && domid < DOMID_FIRST_RESERVED && xen.domain(domid) !== undefined) return -EEXIST;
      const handle = new Uint8Array(16);
      for (let i = 0; i < 16; i++) handle[i] = op.getUint8(U + C.handle! + i);
      const nd = xen.createDomain({ kind: 'pv', ssidref: op.getUint32(U + C.ssidref!, true), handle },
        domid > 0 && domid < DOMID_FIRST_RESERVED ? domid : undefined);
      if (typeof nd === 'number') return nd;
      const maxVcpus = op.getUint32(U + C.max_vcpus!, true);
      if (maxVcpus > 0) {
        const rc = xen.setMaxVcpus(nd, maxVcpus);
        if (rc !== 0) {
          xen.destroyDomain(nd);
          return rc;
        }
      }
      // Event-channel and grant-table limits (-1 = Xen's defaults; max_evtchn_port is the
      // highest port the domain may use).
      const lrc = setDomainLimits(xen, nd, op.getUint32(U + C.max_evtchn_port!, true),
        op.getInt32(U + C.max_grant_frames!, true), op.getInt32(U + C.max_maptrack_frames!, true));
      if (lrc !== 0) {
        xen.destroyDomain(nd);
        return lrc;
      }
      op.setUint16(DOMCTL_HDR.domain!, nd.domid, true);
      return copyBack();
    }
    case XEN_DOMCTL_getdomaininfo: {
      if (domid >= DOMID_FIRST_RESERVED) return -EINVAL;
      let found: Domain | undefined;
      for (const x of xen.domains) if (x.domid >= domid && (found === undefined || x.domid < found.domid)) found = x;
      if (found === undefined) return -ESRCH;
      fillDomainInfo(xen, found, op, U);
      op.setUint16(DOMCTL_HDR.domain!, found.domid, true);
      return copyBack();
    }
    default:
      break;
  }
  // Every other command names an existing domain.
  if (d === undefined) return -ESRCH;
  switch (cmd) {
    case XEN_DOMCTL_destroydomain:
      if (d === caller) return -EINVAL;
      xen.destroyDomain(d);
      return 0;
    case XEN_DOMCTL_pausedomain:
      if (d === caller) return -EINVAL;
      xen.pauseDomain(d);
      return 0;
    case XEN_DOMCTL_unpausedomain:
      return xen.unpauseDomain(d) ? 0 : -EINVAL;
    case XEN_DOMCTL_resumedomain:
      xen.resumeDomain(d);
      return 0;
    case XEN_DOMCTL_max_mem: {
      const kb = u64(op, U + DOMCTL_U64.value!);
      d.maxPages = Math.min(Math.floor(kb / 4), 0x7fffffff);
      return 0;
    }
    case XEN_DOMCTL_max_vcpus:
      return xen.setMaxVcpus(d, op.getUint32(U + DOMCTL_U32.value!, true));
    case XEN_DOMCTL_setvcpucontext:
    case XEN_DOMCTL_getvcpucontext: {
      const vcpu = op.getUint32(U + DOMCTL_VCPUCONTEXT.vcpu!, true);
      const ctxt = op.getUint32(U + DOMCTL_VCPUCONTEXT.ctxt!, true);
      const v = d.vcpu(vcpu);
      if (v === null || v.pv === null) return -EINVAL;
      if (cmd === XEN_DOMCTL_setvcpucontext) {
        if (d === caller || ctxt === 0) return -EINVAL;
        const c = xen.scratch.readStruct(mem, ctxt, SIZEOF_VCPU_GUEST_CONTEXT);
        if (c === null) return -EFAULT;
        return setPvContext(xen, v, c);
      }
      const c = xen.scratch.out(SIZEOF_VCPU_GUEST_CONTEXT);
      getPvContext(xen, v, c);
      return xen.scratch.writeOut(mem, ctxt, SIZEOF_VCPU_GUEST_CONTEXT) ? 0 : -EFAULT;
    }
    case XEN_DOMCTL_getvcpuinfo: {
      const G = DOMCTL_GETVCPUINFO;
      const vcpu = op.getUint32(U + G.vcpu!, true);
      if (vcpu >= d.vcpus.length) return -EINVAL;
      const v = d.vcpu(vcpu);
      if (v === null) return -ESRCH;
      op.setUint8(U + G.online!, v.isUp ? 1 : 0);
      op.setUint8(U + G.blocked!, v.isBlocked || v.runstate === RUNSTATE_blocked ? 1 : 0);
      op.setUint8(U + G.running!, v.running ? 1 : 0);
      setU64(op, U + G.cpu_time!, v.runstateSnapshot(xen.time.now()).time[0]!);
      op.setUint32(U + G.cpu!, v.processor, true);
      return copyBack();
    }
    case XEN_DOMCTL_setvcpuaffinity:
    case XEN_DOMCTL_getvcpuaffinity:
      return domctlVcpuAffinity(xen, mem, op, d, cmd);
    case XEN_DOMCTL_scheduler_op:
      return domctlSchedulerOp(xen, op, d, copyBack);
    case XEN_DOMCTL_setdomainhandle:
      for (let i = 0; i < 16; i++) d.handle[i] = op.getUint8(U + i);
      return 0;
    case XEN_DOMCTL_setdebugging:
      if (d === caller) return -EINVAL;
      d.debugged = op.getUint8(U) !== 0;
      return 0;
    case XEN_DOMCTL_irq_permission: {
      const P = DOMCTL_IRQ_PERMISSION;
      const pirq = op.getUint32(U + P.pirq!, true);
      if (pirq >= NR_PIRQS) return -EINVAL;
      if (op.getUint8(U + P.allow_access!) !== 0) d.irqs.add(pirq, pirq);
      else d.irqs.remove(pirq, pirq);
      return 0;
    }
    case XEN_DOMCTL_iomem_permission: {
      const P = DOMCTL_IOMEM_PERMISSION;
      const first = u64(op, U + P.first_mfn!), n = u64(op, U + P.nr_mfns!);
      if (n === 0 || first + n - 1 < first || first + n > 2 ** 40) return -EINVAL;
      if (op.getUint8(U + P.allow_access!) !== 0) d.iomem.add(first, first + n - 1);
      else d.iomem.remove(first, first + n - 1);
      return 0;
    }
    case XEN_DOMCTL_ioport_permission: {
      const P = DOMCTL_IOPORT_PERMISSION;
      const first = op.getUint32(U + P.first_port!, true), n = op.getUint32(U + P.nr_ports!, true);
      if (first + n <= first || first + n > 0x10000) return -EINVAL;
      if (op.getUint8(U + P.allow_access!) !== 0) d.ioports.add(first, first + n - 1);
      else d.ioports.remove(first, first + n - 1);
      return 0;
    }
    case XEN_DOMCTL_hypercall_init: {
      const gmfn = u64(op, U + DOMCTL_U64.value!);
      if (d.kind !== 'pv') return -EINVAL;
      if (!xen.mm.ft.valid(gmfn) || !xen.mm.getPage(gmfn, d.domid)) return -EINVAL;
      if (xen.pageTypes.getPageType(gmfn, PGT_writable_page) !== 0) {
        xen.mm.putPage(gmfn);
        return -EPERM;
      }
      writeHypercallPage(xen.mem, gmfn);
      xen.pageTypes.putPageAndType(gmfn);
      return 0;
    }
    case XEN_DOMCTL_settimeoffset: {
      const lo = op.getUint32(U, true), hi = op.getInt32(U + 4, true);
      d.timeOffsetSeconds = hi * 0x100000000 + lo;
      xen.time.updateWallclock(d);
      return 0;
    }
    case XEN_DOMCTL_set_address_size:
      return op.getUint32(U + DOMCTL_U32.value!, true) === 32 ? 0 : -EINVAL;
    case XEN_DOMCTL_get_address_size:
      op.setUint32(U + DOMCTL_U32.value!, 32, true);
      return copyBack();
    case XEN_DOMCTL_getpageframeinfo3:
      return getPageFrameInfo3(xen, mem, d, op);
    case XEN_DOMCTL_sendtrigger: {
      const trigger = op.getUint32(U, true), vcpu = op.getUint32(U + 4, true);
      const v = d.vcpu(vcpu);
      if (v === null) return -EINVAL;
      if (trigger !== XEN_DOMCTL_SENDTRIGGER_NMI) return -ENOSYS;
      if (v.pv !== null) {
        v.pv.nmiPending = true;
        xen.vcpuKick(v);
      }
      return 0;
    }
    default:
      return -ENOSYS;
  }
}

