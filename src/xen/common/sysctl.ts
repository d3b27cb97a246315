/**
 * sysctl (35): host-wide queries for the toolstack (Xen's common/sysctl.c) on the wire
 * layout of src/abi/control_wire.ts: readconsole (xl dmesg), physinfo (xl info),
 * sched_id, getdomaininfolist (xl list), tbuf_op (the trace buffer), debug_keys, and the
 * scheduler's getcpuinfo / scheduler_op / cpupool_op (sched/sched_ctl.ts).
 *
 * Checks: copy in (-EFAULT), interface version (-EACCES), privilege (-EPERM).
 */
import { EACCES, EFAULT, EINVAL, ENOSYS, EPERM } from '../../abi/errno.ts';
import {
  XEN_SYSCTL_cpupool_op, XEN_SYSCTL_debug_keys, XEN_SYSCTL_getcpuinfo, XEN_SYSCTL_getdomaininfolist, XEN_SYSCTL_physinfo,
  XEN_SYSCTL_PHYSCAP_pv, XEN_SYSCTL_readconsole, XEN_SYSCTL_sched_id, XEN_SYSCTL_scheduler_op, XEN_SYSCTL_tbuf_op,
} from '../../abi/sysctl.ts';
import {
  DOMCTL_GETDOMAININFO, SYSCTL_GETDOMAININFOLIST, SYSCTL_HDR, SYSCTL_PHYSINFO, SYSCTL_READCONSOLE, SYSCTL_TBUF_OP,
  XEN_SYSCTL_INTERFACE_VERSION_WIRE, XEN_SYSCTL_TBUFOP_get_info, XEN_SYSCTL_TBUFOP_set_evt_mask, XEN_SYSCTL_WIRE_SIZE,
  XEN_SYSCTL_WIRE_U,
} from '../../abi/control_wire.ts';
import type { Xen } from '../xen.ts';
import type { Vcpu } from './vcpu.ts';
import { guestOf } from './kernel.ts';
import { fillDomainInfo } from './domctl.ts';
import { sysctlCpupoolOp, sysctlGetCpuInfo, sysctlSchedulerOp } from './sched/sched_ctl.ts';

const U = XEN_SYSCTL_WIRE_U;

function setU64(v: DataView, off: number, x: number): void {
  v.setUint32(off, x % 0x100000000, true);
  v.setUint32(off + 4, Math.floor(x / 0x100000000), true);
}

export function doSysctl(xen: Xen, cur: Vcpu, arg: number): number {
  const mem = guestOf(cur);
  const op = xen.scratch.readStruct(mem, arg, XEN_SYSCTL_WIRE_SIZE);
  if (op === null) return -EFAULT;
  if (op.getUint32(SYSCTL_HDR.interface_version!, true) !== XEN_SYSCTL_INTERFACE_VERSION_WIRE) return -EACCES;
  if (!cur.domain.privileged) return -EPERM;
  const copyBack = (): number => (xen.scratch.writeBack(mem, arg, XEN_SYSCTL_WIRE_SIZE) ? 0 : -EFAULT);
  switch (op.getUint32(SYSCTL_HDR.cmd!, true)) {
    case XEN_SYSCTL_readconsole: {
      const R = SYSCTL_READCONSOLE;
      const clear = op.getUint8(U + R.clear!) !== 0, incremental = op.getUint8(U + R.incremental!) !== 0;
      const buf = op.getUint32(U + R.buffer!, true), count = op.getUint32(U + R.count!, true);
      const from = incremental ? op.getUint32(U + R.index!, true) : 0;
      const { text, next } = xen.console.read(from, count);
      if (text.length > 0 && !mem.write(buf, text, text.length)) return -EFAULT;
      op.setUint32(U + R.count!, text.length, true);
      op.setUint32(U + R.index!, next, true);
      if (clear) xen.console.clear();
      return copyBack();
    }
    case XEN_SYSCTL_physinfo: {
      const P = SYSCTL_PHYSINFO;
      for (let i = 0; i < P.SIZE; i++) op.setUint8(U + i, 0);
      op.setUint32(U + P.threads_per_core!, 1, true);
      op.setUint32(U + P.cores_per_socket!, xen.sched.pcpus, true);
      op.setUint32(U + P.nr_cpus!, xen.sched.pcpus, true);
      op.setUint32(U + P.max_cpu_id!, xen.sched.pcpus - 1, true);
      op.setUint32(U + P.nr_nodes!, 1, true);
      op.setUint32(U + P.cpu_khz!, Math.round(xen.time.tscHz / 1000), true);
      op.setUint32(U + P.capabilities!, XEN_SYSCTL_PHYSCAP_pv, true);
      setU64(op, U + P.total_pages!, xen.mm.frames);
      setU64(op, U + P.free_pages!, xen.mm.freePages);
      setU64(op, U + P.max_mfn!, xen.mm.frames - 1);
      return copyBack();
    }
    case XEN_SYSCTL_sched_id:
      op.setUint32(U, xen.sched.policy.schedId >>> 0, true);
      return copyBack();
    case XEN_SYSCTL_getcpuinfo:
      return sysctlGetCpuInfo(xen, mem, op, copyBack);
    case XEN_SYSCTL_scheduler_op:
      return sysctlSchedulerOp(xen, op, copyBack);
    case XEN_SYSCTL_cpupool_op:
      return sysctlCpupoolOp(xen, mem, op, copyBack);
    case XEN_SYSCTL_getdomaininfolist: {
      const L = SYSCTL_GETDOMAININFOLIST;
      const first = op.getUint16(U + L.first_domain!, true), max = op.getUint32(U + L.max_domains!, true);
      const buf = op.getUint32(U + L.buffer!, true);
      const doms = [...xen.domains].filter((d) => d.domid >= first).sort((a, b) => a.domid - b.domid);
      let n = 0;
      const size = DOMCTL_GETDOMAININFO.SIZE;
      for (const d of doms) {
        if (n >= max) break;
        const rec = xen.scratch.out(size);
        fillDomainInfo(xen, d, rec, 0);
        if (!xen.scratch.writeOut(mem, buf + n * size, size)) return -EFAULT;
        n++;
      }
      op.setUint32(U + L.num_domains!, n, true);
      return copyBack();
    }
    case XEN_SYSCTL_tbuf_op: {
      const T = SYSCTL_TBUF_OP;
      const sub = op.getUint32(U + T.cmd!, true);
      if (sub === XEN_SYSCTL_TBUFOP_get_info) {
        // The buffer's first frame and its size in bytes (dom0 maps it as DOMID_XEN's).
        op.setUint32(U + T.evt_mask!, xen.trace.mask, true);
        op.setUint32(U + T.buffer_mfn!, xen.trace.base / 4096, true);
        op.setUint32(U + T.buffer_mfn! + 4, 0, true);
        op.setUint32(U + T.size!, xen.trace.bytes, true);
        return copyBack();
      }
      if (sub === XEN_SYSCTL_TBUFOP_set_evt_mask) {
        xen.trace.mask = op.getUint32(U + T.evt_mask!, true);
        return 0;
      }
      return -EINVAL;
    }
    case XEN_SYSCTL_debug_keys:
      return 0;
    default:
      return -ENOSYS;
  }
}
