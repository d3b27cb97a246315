/**
 * The libxc calls the toolstack needs beyond what src/dom0/libxc/xc.ts wraps: domain and
 * vCPU information, affinity, credit scheduler parameters, page frame types (save),
 * resume, domain handles and the version/physinfo queries behind `xl info`. Each is the
 * hypercall libxc makes, marshalled through the Xc scratch area in Xen 4.17's wire layout
 * (src/abi/control_wire.ts); results come back as values, failures as -errno.
 */
import {
  DOMCTL_GETDOMAININFO, DOMCTL_GETPAGEFRAMEINFO3, DOMCTL_GETVCPUINFO, DOMCTL_SCHEDULER_OP, DOMCTL_VCPUAFFINITY,
  SYSCTL_PHYSINFO, XEN_DOMCTL_WIRE_U, XEN_SYSCTL_WIRE_U,
} from '../../abi/control_wire.ts';
import {
  XEN_DOMCTL_getdomaininfo, XEN_DOMCTL_getpageframeinfo3, XEN_DOMCTL_getvcpuaffinity, XEN_DOMCTL_getvcpuinfo,
  XEN_DOMCTL_PFINFO_MAX, XEN_DOMCTL_resumedomain, XEN_DOMCTL_SCHEDOP_getinfo, XEN_DOMCTL_SCHEDOP_putinfo,
  XEN_DOMCTL_scheduler_op, XEN_DOMCTL_setdomainhandle, XEN_DOMCTL_setvcpuaffinity, XEN_DOMINF_blocked,
  XEN_DOMINF_dying, XEN_DOMINF_paused, XEN_DOMINF_running, XEN_DOMINF_shutdown, XEN_DOMINF_shutdownmask,
  XEN_DOMINF_shutdownshift, XEN_SCHEDULER_CREDIT, XEN_VCPUAFFINITY_FORCE, XEN_VCPUAFFINITY_HARD,
  XEN_VCPUAFFINITY_SOFT,
} from '../../abi/domctl.ts';
import { XEN_SYSCTL_physinfo, XEN_SYSCTL_sched_id } from '../../abi/sysctl.ts';
import {
  XENVER_capabilities, XENVER_changeset, XENVER_commandline, XENVER_compile_info, XENVER_extraversion,
  XENVER_pagesize, XENVER_platform_parameters, XENVER_version, XEN_CAPABILITIES_INFO_LEN, XEN_CHANGESET_INFO_LEN,
  XEN_COMMANDLINE_INFO_LEN, XEN_EXTRAVERSION_LEN,
} from '../../abi/version.ts';
import { __HYPERVISOR_xen_version } from '../../abi/xen.ts';
import { E2BIG } from '../../abi/errno.ts';
import type { Xc } from '../libxc/xc.ts';

/** libxl_dominfo's fields, from one getdomaininfo record. */
export interface DomInfo {
  readonly domid: number;
  readonly uuid: string;
  readonly running: boolean;
  readonly blocked: boolean;
  readonly paused: boolean;
  readonly shutdown: boolean;
  readonly dying: boolean;
  /** SHUTDOWN_* (meaningful when shutdown). */
  readonly shutdownReason: number;
  readonly totPages: number;
  readonly maxPages: number;
  readonly cpuTimeNs: number;
  readonly onlineVcpus: number;
  readonly maxVcpuId: number;
  readonly sharedInfoFrame: number;
}

/** Canonical UUID text of a 16-byte handle. */
export function uuidText(b: Uint8Array): string {
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A random RFC 4122 version-4 UUID (libxl_uuid_generate). */
export function randomUuid(random: (n: number) => Uint8Array): Uint8Array {
  const u = random(16);
  u[6] = (u[6]! & 0x0f) | 0x40;
  u[8] = (u[8]! & 0x3f) | 0x80;
  return u;
}

export function uuidBytes(text: string): Uint8Array {
  const h = text.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function u64(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * 0x100000000;
}

/** The first domain with id >= `from` (getdomaininfo's semantics), or null. */
export function domInfoFrom(xc: Xc, from: number): DomInfo | null {
  const { rc, out } = xc.domctl(XEN_DOMCTL_getdomaininfo, from);
  if (rc < 0) return null;
  const G = DOMCTL_GETDOMAININFO, u = XEN_DOMCTL_WIRE_U;
  const flags = out.getUint32(u + G.flags!, true);
  const handle = new Uint8Array(16);
  for (let i = 0; i < 16; i++) handle[i] = out.getUint8(u + G.handle! + i);
  return {
    domid: out.getUint16(u + G.domain!, true), uuid: uuidText(handle),
    running: (flags & XEN_DOMINF_running) !== 0, blocked: (flags & XEN_DOMINF_blocked) !== 0,
    paused: (flags & XEN_DOMINF_paused) !== 0, shutdown: (flags & XEN_DOMINF_shutdown) !== 0,
    dying: (flags & XEN_DOMINF_dying) !== 0,
    shutdownReason: (flags >>> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
    totPages: u64(out, u + G.tot_pages!), maxPages: u64(out, u + G.max_pages!),
    cpuTimeNs: u64(out, u + G.cpu_time!), onlineVcpus: out.getUint32(u + G.nr_online_vcpus!, true),
    maxVcpuId: out.getInt32(u + G.max_vcpu_id!, true), sharedInfoFrame: u64(out, u + G.shared_info_frame!),
  };
}

/** Exactly domain `domid`, or null. */
export function domInfo(xc: Xc, domid: number): DomInfo | null {
  const d = domInfoFrom(xc, domid);
  return d !== null && d.domid === domid ? d : null;
}

/** Every domain, in domid order (libxl_list_domain). */
export function domInfoList(xc: Xc): DomInfo[] {
  const out: DomInfo[] = [];
  for (let next = 0; ;) {
    const d = domInfoFrom(xc, next);
    if (d === null) return out;
    out.push(d);
    next = d.domid + 1;
  }
}

export interface VcpuInfo {
  readonly vcpu: number;
  readonly online: boolean;
  readonly blocked: boolean;
  readonly running: boolean;
  readonly cpuTimeNs: number;
  /** The pCPU it runs or last ran on. */
  readonly cpu: number;
}

export function vcpuInfo(xc: Xc, domid: number, vcpu: number): VcpuInfo | number {
  const G = DOMCTL_GETVCPUINFO, u = XEN_DOMCTL_WIRE_U;
  const { rc, out } = xc.domctl(XEN_DOMCTL_getvcpuinfo, domid, (v) => v.setUint32(u + G.vcpu!, vcpu, true));
  if (rc < 0) return rc;
  return {
    vcpu, online: out.getUint8(u + G.online!) !== 0, blocked: out.getUint8(u + G.blocked!) !== 0,
    running: out.getUint8(u + G.running!) !== 0, cpuTimeNs: u64(out, u + G.cpu_time!), cpu: out.getUint32(u + G.cpu!, true),
  };
}

function bitmapBytes(nrCpus: number): number {
  return Math.max(8, Math.ceil(nrCpus / 8));
}

function toBitmap(cpus: readonly number[], bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  for (const c of cpus) if (c >= 0 && c < bytes * 8) b[c >>> 3]! |= 1 << (c & 7);
  return b;
}

function fromBitmap(b: Uint8Array, nrCpus: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < nrCpus; c++) if ((b[c >>> 3]! & (1 << (c & 7))) !== 0) out.push(c);
  return out;
}

/** Hard and soft affinity of one vCPU, as CPU lists over nrCpus CPUs. */
export function vcpuAffinity(xc: Xc, domid: number, vcpu: number, nrCpus: number): { hard: number[]; soft: number[] } | number {
  return xc.withScratch(() => {
    const n = bitmapBytes(nrCpus);
    const hard = xc.scratch(n), soft = xc.scratch(n);
    xc.put(hard, new Uint8Array(n));
    xc.put(soft, new Uint8Array(n).fill(0xff));
    const A = DOMCTL_VCPUAFFINITY, u = XEN_DOMCTL_WIRE_U;
    const { rc } = xc.domctl(XEN_DOMCTL_getvcpuaffinity, domid, (v) => {
      v.setUint32(u + A.vcpu!, vcpu, true);
      v.setUint32(u + A.flags!, XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT, true);
      v.setUint32(u + A.hard_bitmap!, hard, true);
      v.setUint32(u + A.hard_nr_bits!, n * 8, true);
      v.setUint32(u + A.soft_bitmap!, soft, true);
      v.setUint32(u + A.soft_nr_bits!, n * 8, true);
    });
    if (rc < 0) return rc;
    return {
      hard: fromBitmap(new Uint8Array(xc.get(hard, n).buffer), nrCpus),
      soft: fromBitmap(new Uint8Array(xc.get(soft, n).buffer), nrCpus),
    };
  });
}

/** Set hard and/or soft affinity (null leaves that one alone). */
export function setVcpuAffinity(xc: Xc, domid: number, vcpu: number, hardCpus: readonly number[] | null,
  softCpus: readonly number[] | null, nrCpus: number, force = false): number {
  return xc.withScratch(() => {
    const n = bitmapBytes(nrCpus);
    const A = DOMCTL_VCPUAFFINITY, u = XEN_DOMCTL_WIRE_U;
    const hard = hardCpus !== null ? xc.scratch(n) : 0, soft = softCpus !== null ? xc.scratch(n) : 0;
    if (hardCpus !== null) xc.put(hard, toBitmap(hardCpus, n));
    if (softCpus !== null) xc.put(soft, toBitmap(softCpus, n));
    const flags = (hardCpus !== null ? XEN_VCPUAFFINITY_HARD : 0) | (softCpus !== null ? XEN_VCPUAFFINITY_SOFT : 0)
      | (force ? XEN_VCPUAFFINITY_FORCE : 0);
    return xc.domctl(XEN_DOMCTL_setvcpuaffinity, domid, (v) => {
      v.setUint32(u + A.vcpu!, vcpu, true);
      v.setUint32(u + A.flags!, flags, true);
      v.setUint32(u + A.hard_bitmap!, hard, true);
      v.setUint32(u + A.hard_nr_bits!, hardCpus !== null ? n * 8 : 0, true);
      v.setUint32(u + A.soft_bitmap!, soft, true);
      v.setUint32(u + A.soft_nr_bits!, softCpus !== null ? n * 8 : 0, true);
    }).rc;
  });
}

/** Credit scheduler weight and cap of a domain. */
export function schedCreditGet(xc: Xc, domid: number): { weight: number; cap: number } | number {
  const S = DOMCTL_SCHEDULER_OP, u = XEN_DOMCTL_WIRE_U;
  const { rc, out } = xc.domctl(XEN_DOMCTL_scheduler_op, domid, (v) => {
    v.setUint32(u + S.sched_id!, XEN_SCHEDULER_CREDIT, true);
    v.setUint32(u + S.cmd!, XEN_DOMCTL_SCHEDOP_getinfo, true);
  });
  if (rc < 0) return rc;
  return { weight: out.getUint16(u + S.weight!, true), cap: out.getUint16(u + S.cap!, true) };
}

/** Set weight and/or cap (Xen: a weight of 0 leaves the weight alone). */
export function schedCreditSet(xc: Xc, domid: number, p: { weight?: number; cap?: number }): number {
  const cur = schedCreditGet(xc, domid);
  if (typeof cur === 'number') return cur;
  const S = DOMCTL_SCHEDULER_OP, u = XEN_DOMCTL_WIRE_U;
  return xc.domctl(XEN_DOMCTL_scheduler_op, domid, (v) => {
    v.setUint32(u + S.sched_id!, XEN_SCHEDULER_CREDIT, true);
    v.setUint32(u + S.cmd!, XEN_DOMCTL_SCHEDOP_putinfo, true);
    v.setUint16(u + S.weight!, p.weight ?? 0, true);
    v.setUint16(u + S.cap!, p.cap ?? cur.cap, true);
  }).rc;
}

/**
 * XEN_DOMCTL_PFINFO_* type of each frame (MFNs of a PV domain), in batches of 1024
 * (Xen's limit). Returns the types (unsigned) or -errno.
 */
export function pageFrameTypes(xc: Xc, domid: number, mfns: readonly number[]): number[] | number {
  const out: number[] = [];
  for (let i = 0; i < mfns.length; i += XEN_DOMCTL_PFINFO_MAX) {
    const batch = mfns.slice(i, i + XEN_DOMCTL_PFINFO_MAX);
    const r = xc.withScratch(() => {
      const arr = xc.scratch(batch.length * 8);
      const b = new Uint8Array(batch.length * 8);
      const bv = new DataView(b.buffer);
      batch.forEach((m, j) => bv.setUint32(j * 8, m >>> 0, true));
      xc.put(arr, b);
      const P = DOMCTL_GETPAGEFRAMEINFO3, u = XEN_DOMCTL_WIRE_U;
      const { rc } = xc.domctl(XEN_DOMCTL_getpageframeinfo3, domid, (v) => {
        v.setUint32(u + P.num!, batch.length, true);
        v.setUint32(u + P.array!, arr, true);
      });
      if (rc < 0) return rc;
      const res = xc.get(arr, batch.length * 8);
      return batch.map((_, j) => res.getUint32(j * 8, true));
    });
    if (typeof r === 'number') return r === 0 ? -E2BIG : r;
    out.push(...r);
  }
  return out;
}

/** XEN_DOMCTL_resumedomain: a domain that shut down with SHUTDOWN_suspend runs on. */
export function resumeDomain(xc: Xc, domid: number): number {
  return xc.domctl(XEN_DOMCTL_resumedomain, domid).rc;
}

export function setDomainHandle(xc: Xc, domid: number, uuid: Uint8Array): number {
  return xc.domctl(XEN_DOMCTL_setdomainhandle, domid, (v, u) => {
    for (let i = 0; i < 16; i++) v.setUint8(u + i, uuid[i] ?? 0);
  }).rc;
}

export interface XenVersionInfo {
  readonly major: number;
  readonly minor: number;
  readonly extra: string;
  readonly capabilities: string;
  readonly changeset: string;
  readonly compiler: string;
  readonly compileBy: string;
  readonly compileDomain: string;
  readonly compileDate: string;
  readonly virtStart: number;
  readonly pagesize: number;
  readonly commandline: string;
}

function cstring(v: DataView, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = v.getUint8(off + i);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** libxl_get_version_info: the xen_version hypercall's answers. */
export function xenVersion(xc: Xc): XenVersionInfo {
  const call = (cmd: number, size: number): DataView => xc.withScratch(() => {
    const a = size > 0 ? xc.scratch(size) : 0;
    if (size > 0) xc.put(a, new Uint8Array(size));
    const rc = xc.port.hypercall(__HYPERVISOR_xen_version, cmd, a);
    if (rc < 0) return new DataView(new ArrayBuffer(Math.max(size, 4)));
    return size > 0 ? xc.get(a, size) : new DataView(new ArrayBuffer(4));
  });
  const ver = xc.port.hypercall(__HYPERVISOR_xen_version, XENVER_version, 0);
  const ci = call(XENVER_compile_info, 144);
  return {
    major: ver >>> 16, minor: ver & 0xffff,
    extra: cstring(call(XENVER_extraversion, XEN_EXTRAVERSION_LEN), 0, XEN_EXTRAVERSION_LEN),
    capabilities: cstring(call(XENVER_capabilities, XEN_CAPABILITIES_INFO_LEN), 0, XEN_CAPABILITIES_INFO_LEN),
    changeset: cstring(call(XENVER_changeset, XEN_CHANGESET_INFO_LEN), 0, XEN_CHANGESET_INFO_LEN),
    compiler: cstring(ci, 0, 64), compileBy: cstring(ci, 64, 16), compileDomain: cstring(ci, 80, 32),
    compileDate: cstring(ci, 112, 32),
    virtStart: call(XENVER_platform_parameters, 8).getUint32(0, true),
    pagesize: xc.port.hypercall(__HYPERVISOR_xen_version, XENVER_pagesize, 0),
    commandline: cstring(call(XENVER_commandline, XEN_COMMANDLINE_INFO_LEN), 0, XEN_COMMANDLINE_INFO_LEN),
  };
}

export interface PhysInfo {
  readonly threadsPerCore: number;
  readonly coresPerSocket: number;
  readonly nrCpus: number;
  readonly maxCpuId: number;
  readonly nrNodes: number;
  readonly cpuKhz: number;
  readonly capabilities: number;
  readonly totalPages: number;
  readonly freePages: number;
  readonly outstandingPages: number;
  readonly hwCap: readonly number[];
}

export function physInfo(xc: Xc): PhysInfo | number {
  const { rc, out } = xc.sysctl(XEN_SYSCTL_physinfo);
  if (rc < 0) return rc;
  const P = SYSCTL_PHYSINFO, u = XEN_SYSCTL_WIRE_U;
  const g = (k: string): number => out.getUint32(u + P[k]!, true);
  return {
    threadsPerCore: g('threads_per_core'), coresPerSocket: g('cores_per_socket'), nrCpus: g('nr_cpus'),
    maxCpuId: g('max_cpu_id'), nrNodes: g('nr_nodes'), cpuKhz: g('cpu_khz'), capabilities: g('capabilities'),
    totalPages: u64(out, u + P.total_pages!), freePages: u64(out, u + P.free_pages!),
    outstandingPages: u64(out, u + P.outstanding_pages!),
    hwCap: Array.from({ length: 8 }, (_, i) => out.getUint32(u + P.hw_cap! + i * 4, true)),
  };
}

/** XEN_SYSCTL_sched_id: the scheduler in use (XEN_SCHEDULER_*), or -errno. */
export function schedulerId(xc: Xc): number {
  const { rc, out } = xc.sysctl(XEN_SYSCTL_sched_id);
  return rc < 0 ? rc : out.getUint32(XEN_SYSCTL_WIRE_U, true);
}
