/**
 * xl's queries and control operations on running domains, over libxc and xenstore as libxl
 * does them: list, vcpu-list, vcpu-pin, vcpu-set, mem-set, mem-max, rename, pause/unpause,
 * sched-credit, info, dmesg, uptime. Each returns plain data (the CLI formats xl's tables)
 * or throws XlError with xl's message.
 *
 * Memory follows libxl: memory/target and memory/static-max (KiB) in xenstore are the
 * balloon target and the ceiling; max_mem in the hypervisor is the target plus
 * LIBXL_MAXMEM_CONSTANT (1 MiB) once a target is enforced.
 */
import { hostname, machine, release, version } from 'node:os';
import { XEN_SCHEDULER_CREDIT, XEN_SCHEDULER_CREDIT2, XEN_SCHEDULER_NULL, XEN_SCHEDULER_RTDS, XEN_SCHEDULER_ARINC653 } from '../../abi/domctl.ts';
import {
  XEN_SYSCTL_PHYSCAP_directio, XEN_SYSCTL_PHYSCAP_hap, XEN_SYSCTL_PHYSCAP_hvm, XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share, XEN_SYSCTL_PHYSCAP_pv,
  XEN_SYSCTL_PHYSCAP_shadow,
} from '../../abi/sysctl.ts';
import type { Toolstack } from './toolstack.ts';
import { XlError } from './xl_error.ts';
import { withTransaction } from '../xenstored/domain_tree.ts';
import {
  domInfo, domInfoList, physInfo, schedCreditGet, schedCreditSet, schedulerId, setVcpuAffinity, vcpuAffinity,
  vcpuInfo, xenVersion, type DomInfo,
} from './xc_domain.ts';
import { formatCpuSet, parseCpuRange } from './xl_values.ts';
import { MAXMEM_SLACK_KB } from './pv_builder.ts';
import { sysctlCreditParams, sysctlCreditParamsSet } from './xc_sched_params.ts';
import { libxlDomainConfig } from './libxl_json.ts';

/** One row of `xl list` (libxl_dominfo plus the name). */
export interface DomainListEntry {
  readonly name: string;
  readonly domid: number;
  readonly uuid: string;
  /** current_memkb / 1024, as xl prints it. */
  readonly memMiB: number;
  readonly currentKiB: number;
  readonly maxKiB: number;
  readonly vcpus: number;
  readonly maxVcpus: number;
  /** xl's six state letters: r b p s (shutdown reason letter) d. */
  readonly state: string;
  readonly running: boolean;
  readonly blocked: boolean;
  readonly paused: boolean;
  readonly shutdown: boolean;
  readonly dying: boolean;
  readonly shutdownReason: number | null;
  readonly cpuTimeNs: number;
  /** Seconds since creation (uptime). */
  readonly uptimeS: number;
}

const REASON_LETTERS = '-rscwS';

export function stateLetters(d: DomInfo): string {
  const reason = d.shutdown ? d.shutdownReason : 0;
  return `${d.running ? 'r' : '-'}${d.blocked ? 'b' : '-'}${d.paused ? 'p' : '-'}${d.shutdown ? 's' : '-'}`
    + `${reason >= 0 && reason < REASON_LETTERS.length ? REASON_LETTERS[reason]! : '?'}${d.dying ? 'd' : '-'}`;
}

function entry(ts: Toolstack, d: DomInfo): DomainListEntry {
  const g = ts.guest(d.domid);
  const now = ts.now();
  const uptimeS = d.domid === ts.xc.domid ? now / 1e9 : g !== undefined ? (now - g.startNs) / 1e9 : 0;
  return {
    name: ts.nameOf(d.domid) ?? '(null)', domid: d.domid, uuid: d.uuid, memMiB: Math.floor((d.totPages * 4) / 1024),
    currentKiB: d.totPages * 4, maxKiB: d.maxPages * 4, vcpus: d.onlineVcpus, maxVcpus: d.maxVcpuId + 1,
    state: stateLetters(d), running: d.running, blocked: d.blocked, paused: d.paused, shutdown: d.shutdown,
    dying: d.dying, shutdownReason: d.shutdown ? d.shutdownReason : null, cpuTimeNs: d.cpuTimeNs, uptimeS,
  };
}

/** xl list: every domain, or one (by domid). */
export function listDomains(ts: Toolstack, domid?: number): DomainListEntry[] {
  if (domid !== undefined) {
    const d = domInfo(ts.xc, domid);
    if (d === null) throw new XlError(`Error: Domain '${domid}' does not exist.`);
    return [entry(ts, d)];
  }
  return domInfoList(ts.xc).map((d) => entry(ts, d));
}

export interface VcpuListEntry {
  readonly name: string;
  readonly domid: number;
  readonly vcpu: number;
  readonly cpu: number;
  readonly online: boolean;
  readonly running: boolean;
  readonly blocked: boolean;
  readonly cpuTimeNs: number;
  readonly hard: string;
  readonly soft: string;
}

export function nrCpus(ts: Toolstack): number {
  const pi = physInfo(ts.xc);
  return typeof pi === 'number' ? 1 : pi.nrCpus;
}

/** xl vcpu-list for the given domains (all when none). */
export function vcpuList(ts: Toolstack, domids?: readonly number[]): VcpuListEntry[] {
  const n = nrCpus(ts);
  const doms = domids === undefined ? domInfoList(ts.xc) : domids.map((id) => {
    const d = domInfo(ts.xc, id);
    if (d === null) throw new XlError(`libxl: error: Domain ${id}:Non-existant domain`);
    return d;
  });
  const out: VcpuListEntry[] = [];
  for (const d of doms) {
    for (let v = 0; v <= d.maxVcpuId && d.maxVcpuId >= 0; v++) {
      const vi = vcpuInfo(ts.xc, d.domid, v);
      if (typeof vi === 'number') continue;
      const aff = vcpuAffinity(ts.xc, d.domid, v, n);
      out.push({
        name: ts.nameOf(d.domid) ?? '(null)', domid: d.domid, vcpu: v, cpu: vi.cpu, online: vi.online,
        running: vi.running, blocked: vi.blocked, cpuTimeNs: vi.cpuTimeNs,
        hard: typeof aff === 'number' ? 'all' : formatCpuSet(aff.hard, n),
        soft: typeof aff === 'number' ? 'all' : formatCpuSet(aff.soft, n),
      });
    }
  }
  return out;
}

/** xl vcpu-pin: hard/soft affinity of one vCPU or all ("-" or null leaves one alone). */
export function vcpuPin(ts: Toolstack, domid: number, vcpu: string, hard: string | null, soft: string | null, force = false): void {
  const n = nrCpus(ts);
  const d = domInfo(ts.xc, domid);
  if (d === null) throw new XlError(`libxl: error: Domain ${domid}:Non-existant domain`);
  let ids: number[];
  if (/^\d+$/.test(vcpu)) {
    ids = [Number(vcpu)];
  } else {
    if (vcpu !== 'all') throw new XlError(`Error: Invalid argument ${vcpu} as VCPU.`);
    if (force) throw new XlError('Error: --force and \'all\' as VCPU not allowed.');
    ids = Array.from({ length: d.maxVcpuId + 1 }, (_, i) => i);
  }
  const parse = (t: string | null): number[] | null => {
    if (t === null || t === '-') return null;
    const r = parseCpuRange(t, n);
    if (typeof r === 'string') throw new XlError(r);
    const bad = r.find((c) => c >= n);
    if (bad !== undefined) throw new XlError(`Invalid pcpu range: ${t} (the host has ${n} CPUs: 0-${n - 1}).`);
    return r;
  };
  const h = parse(hard), s = parse(soft);
  for (const v of ids) {
    const rc = v > d.maxVcpuId ? -22 : setVcpuAffinity(ts.xc, domid, v, h, s, n, force);
    if (rc < 0) throw new XlError(ids.length === 1 ? `Could not set affinity for vcpu \`${v}'.` : 'Could not set affinity.');
  }
}

/** xl list -l: each guest's libxl_domain_config JSON (Domain-0 and unknown domains have none). */
export function longList(ts: Toolstack, domids: readonly number[]): Array<{ domid: number; config: ReturnType<typeof libxlDomainConfig> }> {
  return domids.flatMap((domid) => {
    const g = ts.guest(domid);
    const d = domInfo(ts.xc, domid);
    if (g === undefined || d === null) return [];
    const sched = schedCreditGet(ts.xc, domid);
    const online = vcpuList(ts, [domid]).filter((v) => v.online).map((v) => v.vcpu);
    return [{
      domid, config: libxlDomainConfig(g, {
        targetKiB: readKiB(ts, domid, 'target') ?? d.totPages * 4,
        maxKiB: readKiB(ts, domid, 'static-max') ?? g.config.maxmemMiB * 1024,
        onlineVcpus: online, weight: typeof sched === 'number' ? null : sched.weight, cap: typeof sched === 'number' ? null : sched.cap,
      }),
    }];
  });
}

function needStore(ts: Toolstack, what: string): NonNullable<Toolstack['store']> {
  if (ts.store === null) throw new XlError(`${what}: this host runs no xenstored`);
  return ts.store;
}

/** memory/<key> (target, static-max) of a domain in KiB, as libxl keeps them; null if unset. */
export function readKiB(ts: Toolstack, domid: number, key: string): number | null {
  const v = ts.store?.tryRead(`/local/domain/${domid}/memory/${key}`);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/** xl vcpu-set: bring vCPUs 0..n-1 online, the rest offline (cpu/N/availability). */
export function vcpuSet(ts: Toolstack, domid: number, n: number, checkHost = true): void {
  const d = domInfo(ts.xc, domid);
  if (d === null) throw new XlError(`Domain ${domid} does not exist.`);
  const max = d.maxVcpuId + 1;
  const host = nrCpus(ts);
  if (checkHost && n > d.onlineVcpus && n > host) {
    throw new XlError(`You are overcommmitting! You have ${host} physical CPUs and want ${n} vCPUs! Aborting, use --ignore-host to continue`);
  }
  if (n < 1 || n > max) {
    throw new XlError(`libxl: error: Requested ${n} VCPUs, however maxcpus is ${max}!\nlibxl_set_vcpuonline failed domid=${domid} max_vcpus=${n}, rc: -3`);
  }
  const xs = needStore(ts, 'vcpu-set');
  withTransaction(xs, (tx) => {
    for (let i = 0; i < max; i++) xs.write(`/local/domain/${domid}/cpu/${i}/availability`, i < n ? 'online' : 'offline', tx);
  });
}

/** xl mem-set (libxl_set_memory_target with enforce): the balloon target, KiB. */
export function memSetKb(ts: Toolstack, domid: number, kb: number, text = `${kb}k`): void {
  if (domid === ts.xc.domid) throw new XlError(`cannot set domid ${domid} dynamic max memory to : ${text} (dom0 is native and has no balloon)`);
  ts.needGuest(domid);
  const xs = needStore(ts, 'mem-set');
  const staticMax = readKiB(ts, domid, 'static-max');
  if (staticMax !== null && kb > staticMax) {
    throw new XlError(`libxl: error: memory_dynamic_max must be less than or equal to memory_static_max\ncannot set domid ${domid} dynamic max memory to : ${text}`);
  }
  const rc = ts.xc.setMaxMem(domid, kb + MAXMEM_SLACK_KB);
  if (rc < 0) throw new XlError(`cannot set domid ${domid} dynamic max memory to : ${text} (rc=${rc})`);
  xs.write(`/local/domain/${domid}/memory/target`, String(kb));
}

/** xl mem-max (libxl_domain_setmaxmem): the static maximum, KiB. */
export function memMaxKb(ts: Toolstack, domid: number, kb: number, text = `${kb}k`): void {
  if (domid === ts.xc.domid) throw new XlError(`cannot set domid ${domid} static max memory to : ${text}`);
  ts.needGuest(domid);
  const target = readKiB(ts, domid, 'target');
  if (target !== null && kb < target) {
    throw new XlError(`libxl: error: memory_static_max must be greater than or or equal to memory_dynamic_max\ncannot set domid ${domid} static max memory to : ${text}`);
  }
  const rc = ts.xc.setMaxMem(domid, kb + MAXMEM_SLACK_KB);
  if (rc < 0) throw new XlError(`cannot set domid ${domid} static max memory to : ${text} (rc=${rc})`);
  ts.store?.write(`/local/domain/${domid}/memory/static-max`, String(kb));
}

/** xl rename. */
export function renameDomain(ts: Toolstack, domid: number, newName: string): void {
  const g = ts.guest(domid);
  if (g === undefined) throw new XlError(`Can't rename domain '${domid}'.`);
  if (newName === '' || /^\d+$/.test(newName) || hasBadNameChar(newName) || newName.length > 64) {
    throw new XlError(`libxl: error: Domain ${domid}:invalid name "${newName}"\nCan't rename domain '${g.name}'.`);
  }
  if (newName === g.name) return;
  if (ts.guest(newName) !== undefined || newName === 'Domain-0') {
    throw new XlError(`libxl: error: Domain ${domid}:Domain with name "${newName}" already exists.\nCan't rename domain '${g.name}'.`);
  }
  ts.renameRecord(g, newName);
}

export function pauseDomain(ts: Toolstack, domid: number, pause: boolean): void {
  const rc = pause ? ts.xc.pauseDomain(domid) : ts.xc.unpauseDomain(domid);
  if (rc === -3) throw new XlError(`libxl: error: Domain ${domid}:Non-existant domain`);
  if (rc < 0) throw new XlError(`libxl: error: Domain ${domid}:${pause ? 'Pausing' : 'Unpausing'} domain failed (rc=${rc})`);
}

export interface SchedCreditEntry {
  readonly name: string;
  readonly domid: number;
  readonly weight: number;
  readonly cap: number;
}

export function schedCreditList(ts: Toolstack, domid?: number): SchedCreditEntry[] {
  const doms = domid === undefined ? domInfoList(ts.xc).map((d) => d.domid) : [domid];
  return doms.map((id) => {
    const p = schedCreditGet(ts.xc, id);
    if (typeof p === 'number') throw new XlError('libxl_domain_sched_params_get failed.');
    return { name: ts.nameOf(id) ?? '(null)', domid: id, weight: p.weight, cap: p.cap };
  });
}

export function schedCreditUpdate(ts: Toolstack, domid: number, weight?: number, cap?: number): void {
  if (weight !== undefined && (weight < 1 || weight > 65535)) throw new XlError(`libxl: error: Domain ${domid}:Cpu weight out of range, valid values are within range from 1 to 65535\nlibxl_domain_sched_params_set failed.`);
  if (cap !== undefined && (cap < 0 || cap > 65534)) throw new XlError(`libxl: error: Domain ${domid}:Cpu cap out of range, valid range is from 0 to 65534 for specified number of vcpus\nlibxl_domain_sched_params_set failed.`);
  const rc = schedCreditSet(ts.xc, domid, { weight, cap });
  if (rc < 0) throw new XlError(`libxl: error: Domain ${domid}:setting domain sched credit (rc=${rc})\nlibxl_domain_sched_params_set failed.`);
}

const SCHED_NAMES: Record<number, string> = {
  [XEN_SCHEDULER_CREDIT]: 'credit', [XEN_SCHEDULER_CREDIT2]: 'credit2', [XEN_SCHEDULER_RTDS]: 'rtds',
  [XEN_SCHEDULER_ARINC653]: 'arinc653', [XEN_SCHEDULER_NULL]: 'null',
};

/** xl info's lines, in xl's order, as [key, value]. */
export function hostInfo(ts: Toolstack): Array<[string, string]> {
  const pi = physInfo(ts.xc);
  if (typeof pi === 'number') throw new XlError('libxl_physinfo failed.');
  const v = xenVersion(ts.xc);
  const sched = schedulerId(ts.xc);
  const mib = (pages: number): string => String(Math.floor(pages / 256));
  const hw = pi.hwCap.map((x) => x.toString(16).padStart(8, '0')).join(':');
  // xl's words and order (xl_info.c output_physinfo); directio is named per guest type.
  const has = (bit: number): boolean => (pi.capabilities & bit) !== 0;
  const caps = [
    has(XEN_SYSCTL_PHYSCAP_pv) && 'pv', has(XEN_SYSCTL_PHYSCAP_hvm) && 'hvm',
    has(XEN_SYSCTL_PHYSCAP_hvm) && has(XEN_SYSCTL_PHYSCAP_directio) && 'hvm_directio',
    has(XEN_SYSCTL_PHYSCAP_pv) && has(XEN_SYSCTL_PHYSCAP_directio) && 'pv_directio',
    has(XEN_SYSCTL_PHYSCAP_hap) && 'hap', has(XEN_SYSCTL_PHYSCAP_shadow) && 'shadow',
    has(XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share) && 'iommu_hap_pt_share',
  ].filter((w) => w !== false).join(' ');
  const free = pi.freePages - pi.outstandingPages;
  return [
    ['host', hostname()], ['release', release()], ['version', version()], ['machine', machine()],
    ['nr_cpus', String(pi.nrCpus)], ['max_cpu_id', String(pi.maxCpuId)], ['nr_nodes', String(pi.nrNodes)],
    ['cores_per_socket', String(pi.coresPerSocket)], ['threads_per_core', String(pi.threadsPerCore)],
    ['cpu_mhz', `${Math.floor(pi.cpuKhz / 1000)}.${String(pi.cpuKhz % 1000).padStart(3, '0')}`],
    ['hw_caps', hw], ['virt_caps', caps],
    ['total_memory', mib(pi.totalPages)], ['free_memory', mib(free)], ['sharing_freed_memory', '0'],
    ['sharing_used_memory', '0'], ['outstanding_claims', mib(pi.outstandingPages)], ['free_cpus', '0'],
    ['xen_major', String(v.major)], ['xen_minor', String(v.minor)], ['xen_extra', v.extra],
    ['xen_version', `${v.major}.${v.minor}${v.extra}`], ['xen_caps', v.capabilities],
    ['xen_scheduler', SCHED_NAMES[sched] ?? `unknown(${sched})`], ['xen_pagesize', String(v.pagesize)],
    ['platform_params', `virt_start=0x${v.virtStart.toString(16)}`], ['xen_changeset', v.changeset],
    ['xen_commandline', v.commandline], ['cc_compiler', v.compiler], ['cc_compile_by', v.compileBy],
    ['cc_compile_domain', v.compileDomain], ['cc_compile_date', v.compileDate], ['build_id', ''],
    ['xend_config_format', '4'],
  ];
}

/** xl dmesg: the whole hypervisor console ring (optionally clearing it). */
export function dmesg(ts: Toolstack, clear: boolean): string {
  let text = '';
  let index = 0;
  for (let guard = 0; guard < 4096; guard++) {
    const r = ts.xc.readConsole(index, false);
    text += r.text;
    if (r.text.length === 0 || r.next === index) break;
    index = r.next;
  }
  if (clear) ts.xc.readConsole(index, true);
  return text;
}

export interface CreditParams {
  readonly tsliceMs: number;
  readonly ratelimitUs: number;
  readonly migrationDelayUs: number;
}

/** The credit scheduler's pool-wide parameters (XEN_SYSCTL_scheduler_op), or null if the hypervisor does not offer them. */
export function creditParams(ts: Toolstack): CreditParams | null {
  const r = sysctlCreditParams(ts.xc);
  return typeof r === 'number' ? null : r;
}

export function setCreditParams(ts: Toolstack, p: Partial<CreditParams>): void {
  const cur = sysctlCreditParams(ts.xc);
  if (typeof cur === 'number') throw new XlError('libxl_sched_credit_params_get failed.');
  const next = { ...cur, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as CreditParams;
  if (next.tsliceMs < 1 || next.tsliceMs > 1000) throw new XlError(`libxl: error: Time slice out of range, valid range is from 1 to 1000\nlibxl_sched_credit_params_set failed.`);
  if (next.ratelimitUs !== 0 && (next.ratelimitUs < 100 || next.ratelimitUs > 500000)) {
    throw new XlError('libxl: error: Ratelimit out of range, valid range is from 100 to 500000\nlibxl_sched_credit_params_set failed.');
  }
  if (next.ratelimitUs > next.tsliceMs * 1000) throw new XlError('libxl: error: Ratelimit cannot be greater than timeslice\nlibxl_sched_credit_params_set failed.');
  const rc = sysctlCreditParamsSet(ts.xc, next);
  if (rc < 0) throw new XlError('libxl_sched_credit_params_set failed.');
}

/** '/' or a control character: not allowed in a domain name. */
function hasBadNameChar(name: string): boolean {
  for (let i = 0; i < name.length; i++) if (name[i] === '/' || name.charCodeAt(i) < 0x20) return true;
  return false;
}
