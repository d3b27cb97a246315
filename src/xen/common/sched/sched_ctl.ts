/**
 * The scheduling part of the control interface (Xen's vcpu_affinity_domctl, sched_adjust,
 * sched_adjust_global, XEN_SYSCTL_getcpuinfo and XEN_SYSCTL_cpupool_op for Pool-0), on the
 * 4.17 wire layouts of src/abi/control_wire.ts. domctl.ts and sysctl.ts decode the header,
 * look up the domain, check privilege, and call these workers.
 *
 * Bitmaps (xenctl_bitmap: guest address + nr_bits) follow xenctl_bitmap_to_bitmap and
 * bitmap_to_xenctl_bitmap: only min(guest bytes, our bytes) are read, bits past nr_bits in
 * the last byte are ignored, bits past our pCPUs dropped; on output the guest's whole
 * buffer is written (our bits, then zeroes).
 */
import { EFAULT, EINVAL, ENOENT, EOPNOTSUPP, ESRCH } from '../../../abi/errno.ts';
import {
  XEN_DOMCTL_getvcpuaffinity, XEN_DOMCTL_SCHEDOP_getinfo, XEN_DOMCTL_SCHEDOP_putinfo, XEN_DOMCTL_setvcpuaffinity,
  XEN_VCPUAFFINITY_HARD, XEN_VCPUAFFINITY_SOFT,
} from '../../../abi/domctl.ts';
import {
  XEN_SYSCTL_CPUPOOL_OP_FREEINFO, XEN_SYSCTL_CPUPOOL_OP_INFO, XEN_SYSCTL_SCHEDOP_getinfo, XEN_SYSCTL_SCHEDOP_putinfo,
} from '../../../abi/sysctl.ts';
import {
  DOMCTL_SCHEDULER_OP, DOMCTL_VCPUAFFINITY, SYSCTL_CPUPOOL_OP, SYSCTL_GETCPUINFO, SYSCTL_SCHEDULER_OP,
  XEN_DOMCTL_WIRE_U, XEN_SYSCTL_WIRE_U,
} from '../../../abi/control_wire.ts';
import type { Xen } from '../../xen.ts';
import type { Domain } from '../domain.ts';
import type { GuestMemory } from '../guest_access.ts';
import { maskWeight } from './affinity.ts';

const bmBytes = new Uint8Array(4);
const zeroes = new Uint8Array(4096);

/** A xenctl_bitmap from the guest as a pCPU mask, or null on a fault. */
export function readCpumap(mem: GuestMemory, addr: number, nrBits: number, pcpus: number): number | null {
  const guestBytes = Math.ceil((nrBits >>> 0) / 8);
  const copy = Math.min(guestBytes, Math.ceil(pcpus / 8));
  bmBytes.fill(0);
  if (copy > 0 && !mem.read(addr, bmBytes, copy)) return null;
  if ((nrBits & 7) !== 0 && guestBytes <= copy) bmBytes[guestBytes - 1]! &= ~(0xff << (nrBits & 7)) & 0xff;
  const all = pcpus >= 31 ? 0x7fffffff : (1 << pcpus) - 1;
  return (bmBytes[0]! | (bmBytes[1]! << 8) | (bmBytes[2]! << 16) | (bmBytes[3]! << 24)) & all;
}

/** Write `mask` into a guest xenctl_bitmap of nr_bits bits; false on a fault. */
export function writeCpumap(mem: GuestMemory, addr: number, nrBits: number, mask: number, pcpus: number): boolean {
  const guestBytes = Math.ceil((nrBits >>> 0) / 8);
  const copy = Math.min(guestBytes, Math.ceil(pcpus / 8));
  for (let i = 0; i < 4; i++) bmBytes[i] = (mask >>> (i * 8)) & 0xff;
  if ((nrBits & 7) !== 0 && guestBytes <= copy) bmBytes[guestBytes - 1]! &= ~(0xff << (nrBits & 7)) & 0xff;
  if (copy > 0 && !mem.write(addr, bmBytes, copy)) return false;
  for (let off = copy; off < guestBytes; off += zeroes.length) {
    if (!mem.write(addr + off, zeroes, Math.min(zeroes.length, guestBytes - off))) return false;
  }
  return true;
}

/** XEN_DOMCTL_setvcpuaffinity / getvcpuaffinity (vcpu_affinity_domctl). */
export function domctlVcpuAffinity(xen: Xen, mem: GuestMemory, op: DataView, d: Domain, cmd: number): number {
  const A = DOMCTL_VCPUAFFINITY, U = XEN_DOMCTL_WIRE_U;
  const id = op.getUint32(U + A.vcpu!, true);
  if (id >= d.vcpus.length) return -EINVAL;
  const v = d.vcpu(id);
  if (v === null) return -ESRCH;
  const flags = op.getUint32(U + A.flags!, true);
  const hardAddr = op.getUint32(U + A.hard_bitmap!, true) + op.getUint32(U + A.hard_bitmap! + 4, true) * 0x100000000;
  const softAddr = op.getUint32(U + A.soft_bitmap!, true) + op.getUint32(U + A.soft_bitmap! + 4, true) * 0x100000000;
  const hardBits = op.getUint32(U + A.hard_nr_bits!, true), softBits = op.getUint32(U + A.soft_nr_bits!, true);
  const hard = (flags & XEN_VCPUAFFINITY_HARD) !== 0, soft = (flags & XEN_VCPUAFFINITY_SOFT) !== 0;
  if (flags === 0 || (hard && hardAddr === 0) || (soft && softAddr === 0)) return -EINVAL;
  const n = xen.sched.pcpus, online = xen.sched.online;
  if (cmd === XEN_DOMCTL_getvcpuaffinity) {
    if (hard && !writeCpumap(mem, hardAddr, hardBits, v.affinity & online, n)) return -EFAULT;
    if (soft && !writeCpumap(mem, softAddr, softBits, v.softAffinity & online, n)) return -EFAULT;
    return 0;
  }
  if (cmd !== XEN_DOMCTL_setvcpuaffinity) return -EINVAL;
  // XEN_VCPUAFFINITY_FORCE undoes a SCHEDOP_pin_override; that never pins here.
  let newHard: number | null = null, newSoft: number | null = null;
  if (hard) {
    newHard = readCpumap(mem, hardAddr, hardBits, n);
    if (newHard === null) return -EFAULT;
  }
  if (soft) {
    newSoft = readCpumap(mem, softAddr, softBits, n);
    if (newSoft === null) return -EFAULT;
  }
  const rc = xen.sched.setAffinity(v, newHard, newSoft);
  if (rc !== 0) return rc;
  v.pinned = maskWeight(v.affinity & online) === 1;
  // Report back what the scheduler uses: hard ∩ online, soft ∩ hard ∩ online.
  if (hard && !writeCpumap(mem, hardAddr, hardBits, v.affinity & online, n)) return -EFAULT;
  if (soft && !writeCpumap(mem, softAddr, softBits, v.softAffinity & v.affinity & online, n)) return -EFAULT;
  return 0;
}

/** XEN_DOMCTL_scheduler_op (sched_adjust). `copyBack` writes the whole domctl back. */
export function domctlSchedulerOp(xen: Xen, op: DataView, d: Domain, copyBack: () => number): number {
  const S = DOMCTL_SCHEDULER_OP, U = XEN_DOMCTL_WIRE_U;
  const policy = xen.sched.policy;
  if (op.getUint32(U + S.sched_id!, true) !== policy.schedId) return -EINVAL;
  const cmd = op.getUint32(U + S.cmd!, true);
  if (cmd === XEN_DOMCTL_SCHEDOP_getinfo) {
    const p = policy.getParams(d);
    if (p === null) return -EINVAL;
    op.setUint16(U + S.weight!, p.weight, true);
    op.setUint16(U + S.cap!, p.cap, true);
    return copyBack();
  }
  if (cmd === XEN_DOMCTL_SCHEDOP_putinfo) {
    return policy.setParams(d, op.getUint16(U + S.weight!, true), op.getUint16(U + S.cap!, true));
  }
  // put/getvcpuinfo are RTDS's (credit's csched_dom_cntl answers -EINVAL), others unknown.
  return -EINVAL;
}

/** XEN_SYSCTL_getcpuinfo: idle time of each pCPU (up to max_cpus). */
export function sysctlGetCpuInfo(xen: Xen, mem: GuestMemory, op: DataView, copyBack: () => number): number {
  const G = SYSCTL_GETCPUINFO, U = XEN_SYSCTL_WIRE_U;
  const max = op.getUint32(U + G.max_cpus!, true);
  const buf = op.getUint32(U + G.info!, true) + op.getUint32(U + G.info! + 4, true) * 0x100000000;
  const n = Math.min(max, xen.sched.pcpus);
  for (let i = 0; i < n; i++) {
    const rec = xen.scratch.out(8);
    const t = Math.max(0, Math.floor(xen.sched.idleTime(i)));
    rec.setUint32(0, t % 0x100000000, true);
    rec.setUint32(4, Math.floor(t / 0x100000000), true);
    if (!xen.scratch.writeOut(mem, buf + i * 8, 8)) return -EFAULT;
  }
  op.setUint32(U + G.nr_cpus!, n, true);
  return copyBack();
}

/** XEN_SYSCTL_scheduler_op (sched_adjust_global) on Pool-0. */
export function sysctlSchedulerOp(xen: Xen, op: DataView, copyBack: () => number): number {
  const S = SYSCTL_SCHEDULER_OP, U = XEN_SYSCTL_WIRE_U;
  const policy = xen.sched.policy;
  const cmd = op.getUint32(U + S.cmd!, true);
  if (cmd !== XEN_SYSCTL_SCHEDOP_putinfo && cmd !== XEN_SYSCTL_SCHEDOP_getinfo) return -EINVAL;
  if (op.getUint32(U + S.cpupool_id!, true) !== 0) return -ESRCH;
  if (op.getUint32(U + S.sched_id!, true) !== policy.schedId || policy.getGlobal() === null) return -EINVAL;
  if (cmd === XEN_SYSCTL_SCHEDOP_putinfo) {
    const rc = policy.setGlobal({
      tsliceMs: op.getUint32(U + S.tslice_ms!, true), ratelimitUs: op.getUint32(U + S.ratelimit_us!, true),
      vcpuMigrDelayUs: op.getUint32(U + S.vcpu_migr_delay_us!, true),
    });
    if (rc !== 0) return rc;
  }
  const g = policy.getGlobal()!; // SAFETY: checked non-null above
  op.setUint32(U + S.tslice_ms!, g.tsliceMs, true);
  op.setUint32(U + S.ratelimit_us!, g.ratelimitUs, true);
  op.setUint32(U + S.vcpu_migr_delay_us!, g.vcpuMigrDelayUs, true);
  return copyBack();
}

/**
 * XEN_SYSCTL_cpupool_op: tsxen has Pool-0 only (every pCPU, every domain). INFO and
 * FREEINFO answer as Xen does; creating, destroying and reshaping pools is not offered.
 */
export function sysctlCpupoolOp(xen: Xen, mem: GuestMemory, op: DataView, copyBack: () => number): number {
  const C = SYSCTL_CPUPOOL_OP, U = XEN_SYSCTL_WIRE_U;
  const sub = op.getUint32(U + C.op!, true);
  const mapAddr = op.getUint32(U + C.cpumap_bitmap!, true) + op.getUint32(U + C.cpumap_bitmap! + 4, true) * 0x100000000;
  const mapBits = op.getUint32(U + C.cpumap_nr_bits!, true);
  const n = xen.sched.pcpus;
  if (sub === XEN_SYSCTL_CPUPOOL_OP_INFO) {
    // cpupool_get_next_by_id: the first pool with an id >= the one asked for.
    if (op.getUint32(U + C.cpupool_id!, true) > 0) return -ENOENT;
    let doms = 0;
    for (const d of xen.domains) if (!d.dying) doms++;
    op.setUint32(U + C.cpupool_id!, 0, true);
    op.setUint32(U + C.sched_id!, xen.sched.policy.schedId >>> 0, true);
    op.setUint32(U + C.n_dom!, doms, true);
    if (mapAddr !== 0 && !writeCpumap(mem, mapAddr, mapBits, xen.sched.online, n)) return -EFAULT;
    return copyBack();
  }
  if (sub === XEN_SYSCTL_CPUPOOL_OP_FREEINFO) {
    if (mapAddr !== 0 && !writeCpumap(mem, mapAddr, mapBits, 0, n)) return -EFAULT;
    return copyBack();
  }
  return -EOPNOTSUPP;
}
